// Public surface of @peerstash/transport-tcp: the transport, its options and events, the
// handshake functions, the codec and frame decoder for tools and tests, and the typed errors.

export { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
export {
  AbortedError,
  AuthError,
  ClosedError,
  DuplicateConnectionError,
  InvalidArgumentError,
  LimitError,
  NotConnectedError,
  ProtocolError,
  SelfConnectionError,
  StreamResetError,
  TimeoutError,
  TransportError,
  UnsupportedVersionError,
} from './errors.js';
export { FRAME_HEADER_SIZE, type Frame, FrameType, type FrameTypeValue } from './frame.js';
export { FrameDecoder, type FrameDecoderLimits } from './frame-decoder.js';
export { PROTOCOL_VERSION } from './hello.js';
export { DEFAULT_LIMITS, type TransportLimits } from './limits.js';
export type { Logger } from './logger.js';
export { decodeMessage, encodeMessage, type Message } from './message-codec.js';
export { isNodeId, isPeerAddress } from './peer-fields.js';
export {
  derivePsk,
  type HandshakeContext,
  type HandshakeFunc,
  nopHandshake,
  PSK_CIPHERS,
  tlsPskHandshake,
} from './secure-channel.js';
export {
  type PeerInfo,
  type RejectedInfo,
  type SignalOptions,
  TcpTransport,
  type TcpTransportOptions,
  type TransportEvents,
} from './transport.js';
