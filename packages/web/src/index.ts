// Public surface of @peerstash/web: the console handler a node mounts under /ui/, its options,
// and the typed errors its refusals carry.

export {
  type ConsoleOptions,
  createConsole,
  type IssuedSignIn,
  type Logger,
  type WebConsole,
} from './console.js';
export {
  AuthError,
  ConsoleError,
  CsrfError,
  HostError,
  InvalidArgumentError,
  MethodError,
  NotFoundError,
  UpstreamError,
} from './errors.js';
export type { DiskSpace, KnownPeer, NodeInfo } from './node-info.js';
export type { Upstream } from './proxy.js';
export { DEFAULT_LIMITS, type SessionLimits } from './sessions.js';
