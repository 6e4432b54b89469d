// `serve --api-allowed-host`: the names a node's API answers to besides IP addresses and
// localhost, against a real `peerstash serve` process (the DNS-rebinding defence).

import { readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NodeProcess, startNode } from '../src/child-node.js';
import { EXIT } from '../src/exit-codes.js';
import { expectOneLine, runCli, tempDir } from './helpers.js';

let root = '';
let dir = '';
let node: NodeProcess;

/** GET /v1/status on the node's API with the given Host header; resolves the status code. */
async function statusWithHost(host: string): Promise<number> {
  const token = (await readFile(join(dir, 'api-token'), 'utf8')).trim();
  const { host: apiHost, port } = node.client;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: apiHost,
        port,
        path: '/v1/status',
        headers: { host, authorization: `Bearer ${token}` },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  root = await tempDir('allowed-host');
  dir = join(root, 'n');
  expect((await runCli(['init', '--dir', dir, '--listen', '127.0.0.1:0'])).code).toBe(0);
  node = await startNode({
    dir,
    args: ['--api-allowed-host', 'nas.home.arpa', '--api-allowed-host', 'Backup.LAN,media.lan'],
    timeoutMs: 30_000,
  });
});

afterAll(async () => {
  await node?.stop();
  await rm(root, { recursive: true, force: true });
});

describe('serve --api-allowed-host', () => {
  it('the API serves the allowed names (any case), addresses and localhost, and refuses other names with 421', async () => {
    for (const host of [
      'nas.home.arpa',
      'backup.lan:80',
      'MEDIA.lan',
      `127.0.0.1:${node.client.port}`,
      'localhost',
    ]) {
      expect(await statusWithHost(host), host).toBe(200);
    }
    for (const host of ['rebind.attacker.example', 'nas.home.arpa.attacker.example']) {
      expect(await statusWithHost(host), host).toBe(421);
    }
    // the CLI's own requests name the address in api.json and go through
    expect((await runCli(['status', '--dir', dir])).code).toBe(0);
  });

  it('a name with a port (or anything not a host name) is a usage error', async () => {
    for (const bad of ['nas.lan:8080', 'http://nas.lan', 'bad name']) {
      const r = await runCli(['serve', '--dir', dir, '--api-allowed-host', bad]);
      expect(r.code, bad).toBe(EXIT.USAGE);
      expect(expectOneLine(r.stderr)).toContain('--api-allowed-host');
    }
  });
});
