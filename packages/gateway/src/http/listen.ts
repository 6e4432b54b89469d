// Starts an HTTP or HTTPS listener for a front end on host:port with the limits and timeouts
// every gateway server shares; a header section past the limit is answered 400, not dropped.

import { readFile } from 'node:fs/promises';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { InvalidArgumentError } from '../errors.js';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface TlsOptions {
  /** PEM certificate chain, or its path. */
  cert?: string | Buffer;
  key?: string | Buffer;
  certPath?: string;
  keyPath?: string;
}

export interface ListenOptions {
  /** 'host:port', ':port' or 'port' (host 127.0.0.1), '[::1]:port'; port 0 picks a free one. */
  listen?: string;
  tls?: TlsOptions;
  /** Most bytes of a request's header section (default 16 KiB); more is answered 400. */
  maxHeaderBytes?: number;
  /** Written raw to the socket when the header section is too large (an HTTP/1.1 response). */
  headerOverflowResponse?: string;
  /** A connection idle this long is closed (default 120 s); a slow body trips this, not a cap. */
  idleTimeoutMs?: number;
}

export interface Listener {
  server: Server;
  /** 'http://127.0.0.1:port' or https://… */
  url: string;
  host: string;
  port: number;
  close(): Promise<void>;
}

export const DEFAULT_MAX_HEADER_BYTES = 16 * 1024;

/** Splits 'host:port' with the defaults the CLI documents (no host → 127.0.0.1). */
export function parseListen(value: string | undefined): { host: string; port: number } {
  const text = (value ?? '').trim();
  if (text === '') return { host: '127.0.0.1', port: 0 };
  const m = /^(?:\[([^\]]+)\]|([^:]*))?:?(\d+)$/.exec(text.includes(':') ? text : `:${text}`);
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || !Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new InvalidArgumentError(`listen address must be host:port, got "${value}"`);
  }
  const host = m[1] ?? (m[2] || '127.0.0.1');
  return { host, port };
}

export async function listen(
  handler: RequestHandler,
  options: ListenOptions = {},
): Promise<Listener> {
  const { host, port } = parseListen(options.listen);
  const maxHeaderSize = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  const common = {
    maxHeaderSize,
    headersTimeout: 20_000,
    // Uploads of any size and duration: only idleness ends a request, never its total time.
    requestTimeout: 0,
    keepAliveTimeout: 5_000,
  };
  let server: Server;
  if (options.tls) {
    const t = options.tls;
    const cert = t.cert ?? (t.certPath ? await readFile(t.certPath) : undefined);
    const key = t.key ?? (t.keyPath ? await readFile(t.keyPath) : undefined);
    if (!cert || !key) throw new InvalidArgumentError('TLS needs both a certificate and a key');
    server = createHttpsServer({ ...common, cert, key }, handler) as unknown as Server;
  } else {
    server = createHttpServer(common, handler);
  }
  server.timeout = options.idleTimeoutMs ?? 120_000;
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable) return socket.destroy();
    if (err.code === 'HPE_HEADER_OVERFLOW' && options.headerOverflowResponse) {
      socket.end(options.headerOverflowResponse);
    } else {
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `${options.tls ? 'https' : 'http'}://${shownHost}:${address.port}`;
  let closing: Promise<void> | undefined;
  return {
    server,
    url,
    host: address.address,
    port: address.port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // Requests in flight get a moment to finish, then their sockets are cut.
        setTimeout(() => server.closeAllConnections(), 2_000).unref();
      });
      return closing;
    },
  };
}
