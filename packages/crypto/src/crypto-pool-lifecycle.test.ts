import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CryptoPool, workersOf } from './crypto-pool.js';
import { newEncryptionKey, open } from './index.js';

const MIB = 1024 * 1024;
const exec = promisify(execFile);

/** An endless plaintext source, paced by its reader; counts what was pulled. */
function endless() {
  const piece = randomBytes(64 * 1024);
  const source = new Readable({
    read() {
      source.pulled += piece.length;
      this.push(piece);
    },
  }) as Readable & { pulled: number };
  source.pulled = 0;
  return source;
}

function drain(): Writable {
  return new Writable({
    write(_c, _e, cb) {
      setImmediate(cb);
    },
  });
}

async function codeOf(work: Promise<unknown>): Promise<string | undefined> {
  try {
    await work;
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code ?? 'untyped';
  }
}

describe('CryptoPool lifecycle', () => {
  it('a worker killed mid-stream fails the stream with ERR_WORKER, and the pool goes on', async () => {
    const pool = new CryptoPool({ threads: 2 });
    try {
      const key = newEncryptionKey();
      const source = endless();
      const sealer = pool.seal(key);
      const piping = codeOf(pipeline(source, sealer, drain()));
      while (workersOf(pool).length < 2) await new Promise((r) => setTimeout(r, 5));
      await (workersOf(pool)[0] as { terminate(): Promise<number> }).terminate();
      expect(await piping).toBe('ERR_WORKER');
      // a fresh worker takes the next batch
      const plain = randomBytes(3 * MIB);
      const out: Buffer[] = [];
      await pipeline(Readable.from([plain]), pool.seal(key), open(key), async (it) => {
        for await (const c of it) out.push(c as Buffer);
      });
      expect(Buffer.concat(out).equals(plain)).toBe(true);
    } finally {
      await pool.close();
    }
  });

  it('close() fails the work in flight with ERR_POOL_CLOSED and refuses new work', async () => {
    const pool = new CryptoPool({ threads: 1 });
    const piping = codeOf(pipeline(endless(), pool.seal(newEncryptionKey()), drain()));
    while (workersOf(pool).length < 1) await new Promise((r) => setTimeout(r, 5));
    await pool.close();
    expect(await piping).toBe('ERR_POOL_CLOSED');
    expect(pool.running).toBe(0);
    expect(() => pool.open(newEncryptionKey())).toThrow(
      expect.objectContaining({ code: 'ERR_POOL_CLOSED' }),
    );
    await pool.close();
  });

  it('takes no more input than its batches in flight while the reader is stalled', async () => {
    const pool = new CryptoPool({ threads: 2, batchBytes: MIB, batchesInFlight: 2 });
    try {
      const source = endless();
      const sealer = pool.seal(newEncryptionKey());
      source.pipe(sealer); // nobody reads the sealer
      await new Promise((r) => setTimeout(r, 500));
      // 2 in flight + 1 pushed and unread + the one being filled, and the pipes' own buffers
      expect(source.pulled).toBeLessThan(6 * MIB);
      expect(source.pulled).toBeGreaterThan(MIB);
      source.destroy();
      sealer.destroy();
    } finally {
      await pool.close();
    }
  });

  it('holds a paced writer back once its output waits unread (outputs arrive after the write)', async () => {
    const pool = new CryptoPool({ threads: 1, batchBytes: MIB, batchesInFlight: 2 });
    try {
      const sealer = pool.seal(newEncryptionKey());
      const piece = randomBytes(64 * 1024);
      let refused = false;
      // a client slower than the workers, and nobody reading: every batch is done long before
      // the next one fills, so only the unread output can tell the writer to wait
      for (let i = 0; i < 96 && !refused; i++) {
        refused = !sealer.write(piece);
        await new Promise((r) => setTimeout(r, 5));
      }
      expect(refused).toBe(true);
      await new Promise((r) => setTimeout(r, 200));
      expect(sealer.readableLength).toBeLessThanOrEqual(2 * (MIB + 64 * 1024));
      sealer.destroy();
    } finally {
      await pool.close();
    }
  });

  it('holds one large write back once its output waits unread (within the chunk too)', async () => {
    const pool = new CryptoPool({ threads: 1, batchBytes: MIB, batchesInFlight: 2 });
    try {
      const sealer = pool.seal(newEncryptionKey());
      // one 32 MiB write and nobody reading: the batches past the unread output wait
      sealer.write(randomBytes(32 * MIB));
      await new Promise((r) => setTimeout(r, 500));
      expect(sealer.readableLength).toBeLessThanOrEqual(3 * (MIB + 64 * 1024));
      // a reader takes it all, and the whole chunk comes out
      let out = 0;
      sealer.on('data', (c: Buffer) => {
        out += c.length;
      });
      sealer.end();
      await new Promise((r) => sealer.once('end', r));
      expect(out).toBeGreaterThan(32 * MIB);
    } finally {
      await pool.close();
    }
  });

  it('idle workers do not keep a process alive; close() leaves no thread behind', async () => {
    const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const script = `
      import { CryptoPool, newEncryptionKey, open } from ${JSON.stringify(dist)};
      import { Readable } from 'node:stream';
      import { pipeline } from 'node:stream/promises';
      const pool = new CryptoPool({ threads: 3 });
      const key = newEncryptionKey();
      let n = 0;
      await pipeline(Readable.from([Buffer.alloc(4 << 20, 7)]), pool.seal(key), open(key),
        async (it) => { for await (const c of it) n += c.length; });
      console.log(n, pool.running);
      if (process.argv[1] === 'close') { await pool.close(); console.log(pool.running); }
    `;
    for (const mode of ['idle', 'close']) {
      const { stdout } = await exec(process.execPath, ['--input-type=module', '-e', script, mode], {
        timeout: 20_000,
      });
      expect(stdout.trim().split('\n')).toEqual(
        mode === 'idle' ? [`${4 << 20} 3`] : [`${4 << 20} 3`, '0'],
      );
    }
  });
});
