import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from './cli.js';
import { EXIT } from './exit-codes.js';

let out = '';
let err = '';
let dir = '';

beforeEach(async () => {
  out = '';
  err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => {
    out += String(c);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => {
    err += String(c);
    return true;
  });
  dir = await mkdtemp(join(tmpdir(), 'peerstash-cli-test-'));
});

afterEach(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

describe('help and parsing', () => {
  it('--help lists every command and the exit codes', async () => {
    expect(await main(['--help'])).toBe(EXIT.OK);
    for (const cmd of [
      'init',
      'serve',
      'put <file>',
      'get <key>',
      'rm <key>',
      'ls',
      'status',
      'demo',
    ]) {
      expect(out).toContain(`peerstash ${cmd}`);
    }
    expect(out).toContain('Exit codes:');
    expect(err).toBe('');
  });

  it('command help shows its options', async () => {
    expect(await main(['serve', '--help'])).toBe(EXIT.OK);
    for (const o of ['--listen', '--bootstrap', '--replicas', '--api-port'])
      expect(out).toContain(o);
    out = '';
    expect(await main(['get', '--help'])).toBe(EXIT.OK);
    expect(out).toMatch(/-o, --output/);
  });

  it('--version prints the package version', async () => {
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
    expect(await main(['--version'])).toBe(EXIT.OK);
    expect(out.trim()).toBe(pkg.version);
  });

  it.each([
    [[]],
    [['frobnicate']],
    [['put']],
    [['get']],
    [['rm']],
    [['put', 'a', 'b']],
    [['ls', '--no-such-flag']],
    [['serve', '--bootstrap', 'not-an-address']],
    [['serve', '--bootstrap', '127.0.0.1:0']],
    [['serve', '--replicas', '-1']],
    [['serve', '--replicas', '1.5']],
    [['serve', '--api-port', '70000']],
    [['serve', '--listen', 'nowhere']],
    [['serve', '--advertise', '0.0.0.0:7400']],
    [['serve', '--repair-interval', '-1']],
    [['serve', '--tombstone-ttl', '0']],
    [['serve', '--repair-rate', '-1']],
    [['serve', '--tombstone-ttl', 'soon']],
    [['serve', '--scrub-interval', '-1']],
    [['serve', '--scrub-rate', 'fast']],
    [['serve', '--log-level', 'loud']],
    [['demo', '--size', 'huge']],
    [['init', '--listen', 'x']],
    [['ls', '--timeout', '0']],
    [['status', '--timeout', 'soon']],
  ])('%j is a usage error: one line, exit 2', async (args) => {
    expect(await main([...args, '--dir', dir])).toBe(EXIT.USAGE);
    expect(err.trim().split('\n')).toHaveLength(1);
    expect(err).toMatch(/^peerstash: /);
    expect(err).not.toMatch(/\n\s+at /);
  });

  it('--json makes the error line JSON as well', async () => {
    expect(await main(['get', 'k', '--json', '--dir', dir])).toBe(EXIT.USAGE);
    expect(err.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(err)).toEqual({
      error: expect.objectContaining({ code: 'ERR_USAGE', exitCode: EXIT.USAGE }),
    });
  });

  it('--verbose adds a stack trace', async () => {
    expect(await main(['serve', '--bootstrap', 'nope', '--verbose'])).toBe(EXIT.USAGE);
    expect(err).toMatch(/\n\s+at /);
  });
});

describe('init', () => {
  it('writes node id, keys and token, secrets with mode 0600', async () => {
    const d = join(dir, 'n1');
    expect(await main(['init', '--dir', d, '--json'])).toBe(EXIT.OK);
    const res = JSON.parse(out);
    expect(res).toMatchObject({ dir: d, storageOnly: false, joined: false });
    expect(res.nodeId).toMatch(/^[0-9a-f]{64}$/);
    const node = JSON.parse(await readFile(join(d, 'node.json'), 'utf8'));
    expect(node.nodeId).toBe(res.nodeId);
    const keys = JSON.parse(await readFile(join(d, 'keys.json'), 'utf8'));
    expect(Buffer.from(keys.vaultKey, 'base64')).toHaveLength(32);
    expect(Buffer.from(keys.clusterSecret, 'base64')).toHaveLength(32);
    expect((await readFile(join(d, 'api-token'), 'utf8')).trim().length).toBeGreaterThanOrEqual(32);
    expect((await stat(join(d, 'keys.json'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(d, 'api-token'))).mode & 0o777).toBe(0o600);
    expect((await stat(d)).mode & 0o077).toBe(0);
  });

  it('refuses to overwrite a node (exit 10) and keeps its keys', async () => {
    const d = join(dir, 'n1');
    expect(await main(['init', '--dir', d])).toBe(EXIT.OK);
    const before = await readFile(join(d, 'keys.json'), 'utf8');
    expect(await main(['init', '--dir', d])).toBe(EXIT.ALREADY_EXISTS);
    expect(await readFile(join(d, 'keys.json'), 'utf8')).toBe(before);
  });

  it('--join copies the secrets; --storage-only drops the vault key', async () => {
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    const c = join(dir, 'c');
    expect(await main(['init', '--dir', a])).toBe(EXIT.OK);
    expect(await main(['init', '--dir', b, '--join', join(a, 'keys.json')])).toBe(EXIT.OK);
    expect(await main(['init', '--dir', c, '--join', a, '--storage-only'])).toBe(EXIT.OK);
    const ka = JSON.parse(await readFile(join(a, 'keys.json'), 'utf8'));
    const kb = JSON.parse(await readFile(join(b, 'keys.json'), 'utf8'));
    const kc = JSON.parse(await readFile(join(c, 'keys.json'), 'utf8'));
    expect(kb.vaultKey).toBe(ka.vaultKey);
    expect(kb.clusterSecret).toBe(ka.clusterSecret);
    expect(kc.vaultKey).toBeUndefined();
    expect(kc.clusterSecret).toBe(ka.clusterSecret);
    const ids = await Promise.all(
      [a, b, c].map(async (d) => JSON.parse(await readFile(join(d, 'node.json'), 'utf8')).nodeId),
    );
    expect(new Set(ids).size).toBe(3);
    // A storage-only key file cannot make a vault node.
    expect(await main(['init', '--dir', join(dir, 'd'), '--join', c])).toBe(EXIT.USAGE);
  });

  it('a file where the data dir should be: exit 2 naming it', async () => {
    const f = join(dir, 'file');
    await import('node:fs/promises').then((m) => m.writeFile(f, 'x'));
    expect(await main(['init', '--dir', f])).toBe(EXIT.USAGE);
    expect(err).toContain(f);
    expect(await main(['init', '--dir', join(f, 'sub')])).toBe(EXIT.USAGE);
  });

  it('--join of a missing key file is "not found" (exit 4)', async () => {
    expect(await main(['init', '--dir', join(dir, 'x'), '--join', join(dir, 'none.json')])).toBe(
      EXIT.NOT_FOUND,
    );
  });
});

describe('client commands without a node', () => {
  it('no data dir: exit 9 naming init', async () => {
    expect(await main(['ls', '--dir', join(dir, 'missing')])).toBe(EXIT.NOT_INITIALISED);
    expect(err).toContain('peerstash init');
  });

  it('PEERSTASH_DIR is used when --dir is absent', async () => {
    vi.stubEnv('PEERSTASH_DIR', join(dir, 'from-env'));
    expect(await main(['status'])).toBe(EXIT.NOT_INITIALISED);
    expect(err).toContain(join(dir, 'from-env'));
    vi.unstubAllEnvs();
  });

  it('initialised but not running: exit 3 naming serve', async () => {
    const d = join(dir, 'n');
    expect(await main(['init', '--dir', d])).toBe(EXIT.OK);
    for (const args of [['status'], ['ls'], ['get', 'k'], ['rm', 'k']]) {
      err = '';
      expect(await main([...args, '--dir', d])).toBe(EXIT.NODE_NOT_RUNNING);
      expect(err).toContain('peerstash serve');
    }
  });

  it('put of a missing file: exit 4 before contacting any node', async () => {
    expect(await main(['put', join(dir, 'nope.bin'), '--dir', join(dir, 'missing')])).toBe(
      EXIT.NOT_FOUND,
    );
    expect(err).toContain('nope.bin');
  });

  it('get -o into a missing folder: exit 4 naming the folder, before contacting any node', async () => {
    const target = join(dir, 'no', 'such', 'out.bin');
    expect(await main(['get', 'k', '-o', target, '--dir', join(dir, 'missing')])).toBe(
      EXIT.NOT_FOUND,
    );
    expect(err).toContain(join(dir, 'no', 'such'));
    expect(err).not.toContain('peerstash-part');
  });

  it('put of a directory or of stdin without --key: exit 2', async () => {
    expect(await main(['put', dir, '--dir', dir])).toBe(EXIT.USAGE);
    expect(await main(['put', '-', '--dir', dir])).toBe(EXIT.USAGE);
  });
});
