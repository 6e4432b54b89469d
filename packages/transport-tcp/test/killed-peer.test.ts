import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { PeerInfo } from '../src/index.js';
import { nextEvent, startTransport, streamError } from './helpers.js';

const fixture = fileURLToPath(new URL('./fixtures/stream-sender.mjs', import.meta.url));

describe('a peer killed mid-stream', () => {
  it('fails the receiving stream with ERR_STREAM_RESET and removes the peer', async () => {
    const node = await startTransport();
    const arrived = nextEvent<[string, Record<string, unknown>, Readable]>(node, 'stream');
    const child = spawn(process.execPath, [fixture, node.address!, node.nodeId], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const [from, header, stream] = await arrived;
      expect(header).toEqual({ type: 'endless' });
      const failed = streamError(stream);
      const gone = nextEvent<[PeerInfo, Error]>(node, 'peer:disconnect', (p) => p.id === from);
      let received = 0;
      await new Promise<void>((resolve) => {
        stream.on('data', (c: Buffer) => {
          received += c.length;
          if (received >= 8 * 1024 * 1024 && child.exitCode === null && !child.killed) {
            child.kill('SIGKILL');
            resolve();
          }
        });
      });
      const err = await failed;
      expect(err.code).toBe('ERR_STREAM_RESET');
      await gone;
      expect(node.peers()).toEqual([]);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
