// The gateway flags of `peerstash serve` (--s3-listen, --restic-listen, --tls-cert/--tls-key,
// --append-only), their checks, and the listeners they start over the node (FileServerBackend).

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import type { FileServer } from '@peerstash/fileserver';
import type { Listener } from '@peerstash/gateway';
import type { Argv } from 'yargs';
import { CliError, toCliError, UsageError } from '../errors.js';
import type { Logger } from '../logger.js';
import { keyStorePath } from './key-file.js';

export interface GatewayArgs {
  s3Listen?: string;
  resticListen?: string;
  tlsCert?: string;
  tlsKey?: string;
  appendOnly: boolean;
}

/** host:port, :port or port (host 127.0.0.1); the same rules as the gateway's parseListen. */
const LISTEN = /^(?:\[([^\]]+)\]|([^:]*))?:?(\d+)$/;

function checkListen(flag: string, value: string | undefined): void {
  if (value === undefined) return;
  const text = String(value).trim();
  const m = LISTEN.exec(text.includes(':') ? text : `:${text}`);
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || !Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new UsageError(`bad --${flag} ${text}`, 'give [host:]port, port 0-65535');
  }
}

export function gatewayOptions<T>(y: Argv<T>): Argv<T & GatewayArgs> {
  return y
    .option('s3-listen', {
      type: 'string',
      describe: 'Serve the S3 API on [host:]port (default off; host 127.0.0.1; 0: any free port)',
      requiresArg: true,
    })
    .option('restic-listen', {
      type: 'string',
      describe: 'Serve a restic REST backend on [host:]port (default off; host 127.0.0.1)',
      requiresArg: true,
    })
    .option('tls-cert', {
      type: 'string',
      describe: 'PEM certificate for the gateway listeners (with --tls-key)',
      requiresArg: true,
    })
    .option('tls-key', {
      type: 'string',
      describe: 'PEM private key for the gateway listeners (with --tls-cert)',
      requiresArg: true,
    })
    .option('append-only', {
      type: 'boolean',
      default: false,
      describe: 'restic: no deletes but of locks (as rest-server --append-only)',
    })
    .check((a) => {
      checkListen('s3-listen', a['s3-listen'] as string | undefined);
      checkListen('restic-listen', a['restic-listen'] as string | undefined);
      if ((a['tls-cert'] === undefined) !== (a['tls-key'] === undefined)) {
        throw new UsageError('--tls-cert and --tls-key go together', 'give both, or neither');
      }
      return true;
    }) as unknown as Argv<T & GatewayArgs>;
}

/** Whether any gateway is asked for. */
export function wantsGateways(a: GatewayArgs): boolean {
  return a.s3Listen !== undefined || a.resticListen !== undefined;
}

/** A storage-only node has no vault key: nothing it could serve would open. */
export function assertGatewaysAllowed(a: GatewayArgs, hasVaultKey: boolean): void {
  if (wantsGateways(a) && !hasVaultKey) {
    throw new UsageError(
      'a storage-only node cannot serve --s3-listen or --restic-listen (it has no vault key)',
      'run the gateway on a node that holds the vault key',
    );
  }
}

/**
 * Reads --tls-cert/--tls-key and checks they make a TLS context, before the node starts: a
 * missing file fails as such (not found, permission), a bad or mismatched pair is usage.
 */
export async function checkTls(a: GatewayArgs): Promise<void> {
  if (a.tlsCert === undefined || a.tlsKey === undefined) return;
  const [cert, key] = await Promise.all([readFile(a.tlsCert), readFile(a.tlsKey)]);
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new UsageError(
      `--tls-cert ${a.tlsCert} and --tls-key ${a.tlsKey} are not a PEM certificate and its key (${reason})`,
      'give the PEM certificate chain and the private key that goes with it',
    );
  }
}

/** A gateway port that is taken: the same failure as the node's, with the flag to change. */
function listenFailure(flag: string, err: unknown): unknown {
  const e = toCliError(err);
  if (e.code !== 'EADDRINUSE') return err;
  return new CliError(
    e.code,
    e.exitCode,
    e.message,
    `stop the other process or give another --${flag}`,
    {
      cause: err,
    },
  );
}

export interface RunningGateways {
  close(): Promise<void>;
}

/** Starts the asked listeners over `node`, names them in its status and logs each URL. */
export async function startGateways(
  node: FileServer,
  dir: string,
  a: GatewayArgs,
  logger: Logger,
  vaultKey: Uint8Array | undefined,
): Promise<RunningGateways> {
  const listeners: Listener[] = [];
  const close = async () => {
    node.setGateways({});
    await Promise.all(listeners.splice(0).map((l) => l.close()));
  };
  if (!wantsGateways(a)) return { close };
  assertGatewaysAllowed(a, vaultKey !== undefined);
  const { KeyStore, startResticServer, startS3Server } = await import('@peerstash/gateway');
  const { FileServerBackend } = await import('./backend.js');
  const { PartSpool, SPOOL_DIR } = await import('./part-spool.js');
  const spool = new PartSpool({ dir: join(dir, SPOOL_DIR), vaultKey: vaultKey! });
  // PEERSTASH_S3_SPECULATE=0: multipart Complete always composes from the spool (A/B, escape hatch)
  const speculate = process.env.PEERSTASH_S3_SPECULATE !== '0';
  const backend = await new FileServerBackend(node, spool, { logger, speculate }).open();
  const credentials = new KeyStore(keyStorePath(dir));
  const tls =
    a.tlsCert !== undefined && a.tlsKey !== undefined
      ? { tls: { certPath: a.tlsCert, keyPath: a.tlsKey } }
      : {};
  const gateways: { s3?: string; restic?: string } = {};
  try {
    if (a.s3Listen !== undefined) {
      const l = await startS3Server({
        backend,
        credentials,
        listen: a.s3Listen,
        logger,
        ...tls,
      }).catch((err: unknown) => {
        throw listenFailure('s3-listen', err);
      });
      listeners.push(l);
      gateways.s3 = l.url;
      logger.info({ url: l.url }, 's3 gateway listening');
    }
    if (a.resticListen !== undefined) {
      const l = await startResticServer({
        backend,
        credentials,
        appendOnly: a.appendOnly,
        listen: a.resticListen,
        logger,
        ...tls,
      }).catch((err: unknown) => {
        throw listenFailure('restic-listen', err);
      });
      listeners.push(l);
      gateways.restic = l.url;
      logger.info({ url: l.url, appendOnly: a.appendOnly }, 'restic gateway listening');
    }
  } catch (err) {
    await close();
    throw err;
  }
  node.setGateways(gateways);
  return { close };
}
