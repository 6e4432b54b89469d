// The transport-level handshake that runs on a fresh socket before any frame: TLS 1.2 with a
// forward-secret PSK suite when a cluster secret is set, or the no-op handshake for development.

import { hkdfSync } from 'node:crypto';
import type { Socket } from 'node:net';
import tls from 'node:tls';
import { AbortedError, AuthError, InvalidArgumentError, TransportError } from './errors.js';

export interface HandshakeContext {
  /** True on the dialing side. */
  outbound: boolean;
  /** Aborted on handshake timeout or transport close; the function must then settle. */
  signal: AbortSignal;
}

/** Secures a fresh socket and returns the socket frames run over (the same one, or a TLS socket on it). */
export type HandshakeFunc = (socket: Socket, ctx: HandshakeContext) => Promise<Socket>;

/** No transport security: frames run on the bare socket (the classic `NOPHandshakeFunc`). */
export const nopHandshake: HandshakeFunc = async (socket) => socket;

/** Suites offered, best first: both are PSK with an ephemeral (EC)DH exchange, so forward secret. */
export const PSK_CIPHERS = 'DHE-PSK-AES256-GCM-SHA384:ECDHE-PSK-CHACHA20-POLY1305';
const PSK_IDENTITY = 'peerstash/v1';

/** The TLS pre-shared key: HKDF over the cluster secret, so the secret itself is never used as a key. */
export function derivePsk(secret: Uint8Array): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'peerstash', 'peerstash/v1/tls-psk', 32));
}

export function tlsPskHandshake(secret: Uint8Array): HandshakeFunc {
  if (!(secret instanceof Uint8Array) || secret.byteLength < 16) {
    throw new InvalidArgumentError('cluster secret must be at least 16 bytes');
  }
  const psk = derivePsk(secret);
  const tlsOptions = {
    ciphers: PSK_CIPHERS,
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.2',
  } as const;
  let serverContext: tls.SecureContext | undefined;

  return (socket, { outbound, signal }) => {
    let secured: tls.TLSSocket;
    if (outbound) {
      secured = tls.connect({
        ...tlsOptions,
        socket,
        // PSK suites carry no certificate; the PSK itself authenticates the server.
        checkServerIdentity: () => undefined,
        pskCallback: () => ({ psk, identity: PSK_IDENTITY }),
      });
    } else {
      serverContext ??= tls.createSecureContext({ ...tlsOptions, dhparam: 'auto' });
      // TLSSocket takes the server-side pskCallback too; @types/node only lists it for createServer.
      const serverOptions: tls.TLSSocketOptions & Pick<tls.TlsOptions, 'pskCallback'> = {
        isServer: true,
        secureContext: serverContext,
        pskCallback: (_sock, identity) => (identity === PSK_IDENTITY ? psk : null),
      };
      secured = new tls.TLSSocket(socket, serverOptions);
    }
    return new Promise<Socket>((resolve, reject) => {
      const done = (err?: Error) => {
        secured.off(outbound ? 'secureConnect' : 'secure', onSecure);
        secured.off('error', onError);
        secured.off('close', onClose);
        signal.removeEventListener('abort', onAbort);
        if (err) {
          secured.on('error', () => {});
          secured.destroy();
          socket.destroy();
          reject(err);
        } else resolve(secured);
      };
      const onSecure = () => done();
      const onError = (err: Error) =>
        done(new AuthError(`TLS handshake failed: ${err.message.split('\n')[0]}`, { cause: err }));
      const onClose = () => done(new AuthError('connection closed during TLS handshake'));
      const onAbort = () =>
        done(
          signal.reason instanceof TransportError
            ? signal.reason
            : new AbortedError('TLS handshake aborted', { cause: signal.reason }),
        );
      secured.once(outbound ? 'secureConnect' : 'secure', onSecure);
      secured.on('error', onError);
      secured.once('close', onClose);
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
  };
}
