// The gateway flags of `peerstash serve` refused before a node starts: bad listen addresses, a
// flag without its value, half or unusable TLS, a storage-only node; a taken gateway port.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { access, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/exit-codes.js';
import { expectOneLine, runCli, tempDir } from '../helpers.js';

let root: string;
let vault: string;
let storage: string;

async function openssl(args: string[]): Promise<void> {
  const child = spawn('openssl', args, { stdio: 'ignore' });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`openssl ${args.join(' ')} exited ${code}`);
}

/** A self-signed P-256 certificate and its key under `root`, named by `name`. */
async function selfSigned(name: string): Promise<{ cert: string; key: string }> {
  const cert = join(root, `${name}-cert.pem`);
  const key = join(root, `${name}-key.pem`);
  await openssl([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=127.0.0.1',
    '-keyout',
    key,
    '-out',
    cert,
  ]);
  return { cert, key };
}

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

/** `serve` with `args` on the vault node (or `dir`): exit code, its one error line, no start. */
async function refused(
  args: string[],
  dir = vault,
): Promise<{ code: number | null; line: string }> {
  const r = await runCli([
    'serve',
    '--dir',
    dir,
    '--listen',
    '127.0.0.1:0',
    '--api-port',
    '0',
    ...args,
  ]);
  // refused before the node started: it logged nothing and left no api.json
  expect(r.stdout).toBe('');
  expect(await exists(join(dir, 'api.json'))).toBe(false);
  return { code: r.code, line: expectOneLine(r.stderr) };
}

beforeAll(async () => {
  root = await tempDir('serve-gw');
  vault = join(root, 'vault');
  storage = join(root, 'storage');
  expect((await runCli(['init', '--dir', vault])).code).toBe(0);
  expect((await runCli(['init', '--dir', storage, '--join', vault, '--storage-only'])).code).toBe(
    0,
  );
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('serve: gateway flags', () => {
  it('a bad --s3-listen or --restic-listen: usage, naming the flag and the value', async () => {
    for (const [flag, value] of [
      ['--s3-listen', 'nonsense'],
      ['--s3-listen', '127.0.0.1:99999'],
      ['--restic-listen', ':80:90'],
      ['--restic-listen', '-1'],
    ] as const) {
      const r = await refused([flag, value]);
      expect(r.code, `${flag} ${value}`).toBe(EXIT.USAGE);
      expect(r.line).toBe(`peerstash: bad ${flag} ${value}; give [host:]port, port 0-65535`);
    }
  });

  it('a gateway flag without its value is usage too', async () => {
    for (const flag of ['--s3-listen', '--restic-listen', '--tls-cert']) {
      const r = await refused([flag]);
      expect(r.code, flag).toBe(EXIT.USAGE);
      expect(r.line).toContain(`Not enough arguments following: ${flag.slice(2)}`);
    }
  });

  it('--tls-cert without --tls-key, or the other way round', async () => {
    const { cert, key } = await selfSigned('half');
    for (const args of [
      ['--tls-cert', cert],
      ['--tls-key', key],
    ]) {
      const r = await refused(['--s3-listen', '0', ...args]);
      expect(r.code).toBe(EXIT.USAGE);
      expect(r.line).toBe('peerstash: --tls-cert and --tls-key go together; give both, or neither');
    }
  });

  it('TLS files that are not a certificate and its key: usage; a missing one: not found', async () => {
    const a = await selfSigned('a');
    const b = await selfSigned('b');
    const junk = join(root, 'junk.pem');
    await writeFile(junk, 'not a certificate\n');
    for (const [cert, key, why] of [
      [junk, junk, 'PEM'],
      [a.cert, b.key, 'key values mismatch'],
      [a.key, a.cert, ''],
    ] as const) {
      const r = await refused(['--s3-listen', '0', '--tls-cert', cert, '--tls-key', key]);
      expect(r.code, r.line).toBe(EXIT.USAGE);
      expect(r.line).toContain(`--tls-cert ${cert} and --tls-key ${key} are not a PEM certificate`);
      expect(r.line).toContain(why);
    }
    const missing = join(root, 'no-such-cert.pem');
    const r = await refused(['--restic-listen', '0', '--tls-cert', missing, '--tls-key', a.key]);
    expect(r.code).toBe(EXIT.NOT_FOUND);
    expect(r.line).toContain(missing);
  });

  it('a storage-only node refuses --s3-listen and --restic-listen: it has no vault key', async () => {
    for (const args of [
      ['--s3-listen', '127.0.0.1:0'],
      ['--restic-listen', '0'],
    ]) {
      const r = await refused(args, storage);
      expect(r.code).toBe(EXIT.USAGE);
      expect(r.line).toBe(
        'peerstash: a storage-only node cannot serve --s3-listen or --restic-listen (it has no vault key); run the gateway on a node that holds the vault key',
      );
    }
  });

  it('a gateway port already taken: address in use, naming the flag; the node stops cleanly', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as { port: number }).port;
    try {
      for (const flag of ['s3-listen', 'restic-listen']) {
        const r = await runCli([
          'serve',
          '--dir',
          vault,
          '--listen',
          '127.0.0.1:0',
          '--api-port',
          '0',
          `--${flag}`,
          `127.0.0.1:${port}`,
        ]);
        expect(r.code).toBe(EXIT.PORT_IN_USE);
        expect(expectOneLine(r.stderr)).toBe(
          `peerstash: address already in use: 127.0.0.1:${port}; stop the other process or give another --${flag}`,
        );
        // it had started its peer side, and took it down again
        expect(await exists(join(vault, 'api.json'))).toBe(false);
      }
    } finally {
      await new Promise((r) => taken.close(r));
    }
  });
});
