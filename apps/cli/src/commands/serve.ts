// `peerstash serve`: runs a node (a FileServer) in the foreground with pino JSON log lines on stdout.
// SIGINT/SIGTERM stop it cleanly (exit 0); a second signal, or a stop that hangs, forces the exit.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CommandModule } from 'yargs';
import { parseBootstrap, parseHostPort, parsePeerAddress } from '../addr.js';
import { ApiClient } from '../api-client.js';
import { consoleFront } from '../console-front.js';
import type { CliContext, GlobalArgs } from '../context.js';
import { assertInitialised, LAYOUT, resolveDataDir } from '../data-dir.js';
import { CliError, toCliError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import {
  assertGatewaysAllowed,
  checkTls,
  type GatewayArgs,
  gatewayOptions,
  type RunningGateways,
  startGateways,
} from '../gateway/serve-gateways.js';
import { readKeyFile } from '../key-file.js';
import { createLogger } from '../logger.js';
import { warnIfLoopback } from '../loopback.js';
import { DEFAULT_LISTEN } from './init.js';
import {
  allowedHosts,
  cryptoThreads,
  rateOf,
  type ServeArgs,
  serveOptions,
} from './serve-options.js';

interface NodeFileFields {
  listen?: unknown;
  nodeId?: unknown;
  peers?: unknown;
}

async function readNodeFile(dir: string): Promise<NodeFileFields> {
  try {
    return JSON.parse(await readFile(join(dir, LAYOUT.node), 'utf8')) as NodeFileFields;
  } catch {
    return {};
  }
}

async function recordedListen(dir: string): Promise<string | undefined> {
  const { listen } = await readNodeFile(dir);
  return typeof listen === 'string' ? listen : undefined;
}

/** Refuses to start a second node on the same data dir while the first still answers. */
async function assertNotRunning(dir: string): Promise<void> {
  let client: ApiClient;
  try {
    client = await ApiClient.fromDataDir(dir);
  } catch {
    return;
  }
  const { nodeId } = await readNodeFile(dir);
  // api.json left by a crash may name a port another node has since taken: only this node counts.
  const alive = await client
    .status({ signal: AbortSignal.timeout(2000) })
    .then((st) => typeof nodeId !== 'string' || st.nodeId === nodeId)
    .catch(() => false);
  if (alive) {
    throw new CliError(
      'ERR_ALREADY_RUNNING',
      EXIT.ALREADY_EXISTS,
      `a node is already running on ${dir} (API ${client.address})`,
      'stop it first, or use another --dir',
    );
  }
}

type Args = ServeArgs & GatewayArgs;

export function serveCommand(ctx: CliContext): CommandModule<GlobalArgs, Args> {
  return {
    command: 'serve',
    describe: 'Run a node in the foreground (JSON log lines on stdout)',
    builder: (y) => gatewayOptions(serveOptions(y)),
    handler: async (argv) => {
      const dir = resolveDataDir(argv.dir);
      ctx.dir = dir;
      // Usage mistakes are reported before anything touches the disk or the network.
      const bootstrap = argv.bootstrap
        .flatMap((b) => b.split(','))
        .filter(Boolean)
        .map(parseBootstrap);
      if (argv.listen !== undefined) parseHostPort(argv.listen, 'listen address', '0.0.0.0');
      // Peers dial what is advertised, so it obeys the same rules as a bootstrap address.
      const advertise =
        argv.advertise === undefined
          ? undefined
          : parsePeerAddress(argv.advertise, 'advertise address');
      await assertInitialised(dir);
      const listenText = argv.listen ?? (await recordedListen(dir)) ?? DEFAULT_LISTEN;
      const listen = parseHostPort(listenText, 'listen address', '0.0.0.0');
      const keys = await readKeyFile(dir);
      assertGatewaysAllowed(argv, !!keys.vaultKey);
      await checkTls(argv);
      await assertNotRunning(dir);
      await runNode({
        dir,
        listen: `${listen.host}:${listen.port}`,
        advertise,
        bootstrap,
        keys,
        argv,
      });
    },
  };
}

interface RunOptions {
  dir: string;
  listen: string;
  advertise: string | undefined;
  bootstrap: string[];
  keys: { vaultKey?: Buffer; clusterSecret?: Buffer };
  argv: Args;
}

async function runNode(o: RunOptions): Promise<void> {
  // Loaded here, not at the top: the client commands then start without the whole node stack.
  const { FileServer } = await import('@peerstash/fileserver');
  const logger = createLogger(o.argv.logLevel);
  // Before start, so it shows even when start fails; peers met before count as well as bootstrap.
  warnIfLoopback(logger, o.advertise ?? o.listen, o.bootstrap, (await readNodeFile(o.dir)).peers);
  const server = new FileServer({
    dataDir: o.dir,
    listen: o.listen,
    ...(o.advertise ? { advertise: o.advertise } : {}),
    bootstrap: o.bootstrap,
    ...(o.argv.replicas !== undefined ? { replicationFactor: o.argv.replicas } : {}),
    ...(o.argv.replicationMode !== undefined ? { replicationMode: o.argv.replicationMode } : {}),
    ...(o.argv.cryptoThreads !== undefined
      ? { cryptoThreads: cryptoThreads(o.argv.cryptoThreads) }
      : {}),
    ...(o.keys.vaultKey ? { vaultKey: o.keys.vaultKey } : {}),
    ...(o.keys.clusterSecret ? { clusterSecret: o.keys.clusterSecret } : {}),
    ...(o.argv.apiPort !== undefined ? { apiPort: o.argv.apiPort } : {}),
    ...(o.argv.apiHost !== undefined ? { apiHost: o.argv.apiHost } : {}),
    apiAllowedHosts: allowedHosts(o.argv.apiAllowedHost),
    apiFronts: o.argv.ui ? [await consoleFront()] : [],
    ...(o.argv.repairInterval !== undefined
      ? { repairIntervalMs: Math.round(o.argv.repairInterval * 1000) }
      : {}),
    ...(o.argv.repairRate !== undefined
      ? { repairRateBytesPerSec: rateOf(o.argv.repairRate) }
      : {}),
    ...(o.argv.tombstoneTtl !== undefined
      ? { tombstoneTtlMs: Math.round(o.argv.tombstoneTtl * 86_400_000) }
      : {}),
    ...(o.argv.scrubInterval !== undefined
      ? { scrubIntervalMs: Math.round(o.argv.scrubInterval * 3_600_000) }
      : {}),
    ...(o.argv.scrubRate !== undefined ? { scrubRateBytesPerSec: rateOf(o.argv.scrubRate) } : {}),
    logger,
  });

  let gateways: RunningGateways | undefined;
  let started = false;
  let stopReason: string | undefined;
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => {
    resolveStopped = r;
  });
  const beginStop = () => {
    logger.info({ reason: stopReason }, 'stopping');
    const force = setTimeout(() => {
      logger.error({ timeoutMs: o.argv.stopTimeout }, 'clean stop timed out: exiting anyway');
      logger.flush?.();
      process.exit(EXIT.GENERIC);
    }, o.argv.stopTimeout);
    force.unref();
    // the gateways first: no request reaches a node that is stopping
    (gateways?.close() ?? Promise.resolve())
      .catch((err: unknown) => logger.error({ err }, 'error while closing the gateways'))
      .then(() => server.stop())
      .then(
        () => {
          clearTimeout(force);
          logger.info({}, 'stopped');
          resolveStopped();
        },
        (err: unknown) => {
          clearTimeout(force);
          logger.error({ err }, 'error while stopping');
          resolveStopped();
        },
      );
  };
  const requestStop = (reason: string, isSignal: boolean) => {
    if (stopReason !== undefined) {
      // A second Ctrl-C means "now"; a late end-of-stdin changes nothing.
      if (!isSignal) return;
      logger.warn({ reason }, 'second stop request: exiting now');
      logger.flush?.();
      process.exit(EXIT.INTERRUPTED);
    }
    stopReason = reason;
    // A stop during start waits for start to finish, so nothing is torn down half-built.
    if (started) beginStop();
  };
  // Last resort: a bug that escapes the file server ends the node with a JSON log line and a
  // clean stop attempt (api.json removed), never with a bare stack on stderr.
  const onFatal = (err: unknown) => {
    logger.error({ err }, 'uncaught error: stopping');
    const bail = setTimeout(() => process.exit(EXIT.GENERIC), 5000);
    bail.unref();
    server
      .stop()
      .catch(() => {})
      .finally(() => {
        logger.flush?.();
        process.exit(EXIT.GENERIC);
      });
  };
  process.on('uncaughtException', onFatal);
  const onSigint = () => requestStop('SIGINT', true);
  const onSigterm = () => requestStop('SIGTERM', true);
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  // Logs go to stdout (journald, a pipe): there is no file to reopen, and a hang-up must not kill
  // a node kept running by a supervisor. Logged, then ignored.
  const onSighup = () => logger.info({ signal: 'SIGHUP' }, 'SIGHUP ignored: logs go to stdout');
  process.on('SIGHUP', onSighup);
  const onStdinEnd = () => requestStop('parent gone', false);
  if (o.argv.exitWithParent) {
    process.stdin.on('end', onStdinEnd);
    process.stdin.on('close', onStdinEnd);
    process.stdin.resume();
  }

  try {
    await server.start();
    gateways = await startGateways(server, o.dir, o.argv, logger, o.keys.vaultKey);
  } catch (err) {
    process.off('uncaughtException', onFatal);
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
    process.off('SIGHUP', onSighup);
    process.stdin.off('end', onStdinEnd);
    process.stdin.off('close', onStdinEnd);
    await server.stop().catch(() => {});
    throw toCliError(err, { dir: o.dir });
  }
  started = true;
  if (stopReason !== undefined) beginStop();
  const host = parseHostPort(o.listen, 'listen address', '0.0.0.0').host;
  if ((host === '0.0.0.0' || host === '::') && !o.advertise) {
    logger.warn(
      { listen: o.listen },
      'listening on every interface with nothing to advertise: peers learn this node by the address it announces, so add --advertise <address they can dial>:<port>',
    );
  }
  const st = (await server.status().catch(() => ({}))) as Record<string, unknown>;
  logger.info(
    {
      dir: o.dir,
      nodeId: st.nodeId ?? st.id,
      listen: st.listen ?? st.listenAddr ?? st.address ?? o.listen,
      api: st.api ?? st.apiAddress,
      console:
        o.argv.ui && typeof st.api === 'string' ? `${st.api}/ui/ (sign in: peerstash ui)` : null,
      advertise: o.advertise,
      bootstrap: o.bootstrap,
      storageOnly: !o.keys.vaultKey,
      gateways: st.gateways,
    },
    'node started',
  );
  await stopped;
  process.off('uncaughtException', onFatal);
  process.off('SIGINT', onSigint);
  process.off('SIGTERM', onSigterm);
  process.off('SIGHUP', onSighup);
  if (o.argv.exitWithParent) {
    process.stdin.off('end', onStdinEnd);
    process.stdin.off('close', onStdinEnd);
    process.stdin.pause();
    process.stdin.destroy();
  }
  logger.flush?.();
}
