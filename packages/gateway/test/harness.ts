// Starts the restic and S3 servers over any Backend on 127.0.0.1 port 0 with one read-write key,
// so the real-client tests can swap the backend (disk today, `peerstash serve` nodes later).

import type { Backend, Listener, TlsOptions } from '../src/index.js';
import { KeyStore, startResticServer, startS3Server } from '../src/index.js';

export interface Gateway {
  restic: Listener;
  s3: Listener;
  /** A read-write access key (also the restic basic-auth user and password). */
  accessKeyId: string;
  secretAccessKey: string;
  keys: KeyStore;
  close(): Promise<void>;
}

export interface GatewayOptions {
  keyFile: string;
  appendOnly?: boolean;
  tls?: TlsOptions;
  minPartSize?: number;
  completeKeepAliveMs?: number;
  uploadMaxAgeMs?: number;
}

export async function startGateway(backend: Backend, options: GatewayOptions): Promise<Gateway> {
  const keys = new KeyStore(options.keyFile);
  const key = await keys.add({ description: 'test' });
  const restic = await startResticServer({
    backend,
    credentials: keys,
    listen: '127.0.0.1:0',
    appendOnly: options.appendOnly ?? false,
    ...(options.tls ? { tls: options.tls } : {}),
  });
  const s3 = await startS3Server({
    backend,
    credentials: keys,
    listen: '127.0.0.1:0',
    ...(options.tls ? { tls: options.tls } : {}),
    ...(options.minPartSize !== undefined ? { minPartSize: options.minPartSize } : {}),
    ...(options.completeKeepAliveMs !== undefined
      ? { completeKeepAliveMs: options.completeKeepAliveMs }
      : {}),
    ...(options.uploadMaxAgeMs !== undefined ? { uploadMaxAgeMs: options.uploadMaxAgeMs } : {}),
  });
  return {
    restic,
    s3,
    accessKeyId: key.accessKeyId,
    secretAccessKey: key.secretAccessKey,
    keys,
    async close() {
      await Promise.all([restic.close(), s3.close()]);
    },
  };
}
