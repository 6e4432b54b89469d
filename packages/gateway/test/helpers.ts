// Shared helpers of the gateway tests: temp folders, deterministic bytes, stream collection.

import { createHash } from 'node:crypto';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

export async function tempDir(prefix = 'gateway-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function md5(bytes: Uint8Array): string {
  return createHash('md5').update(bytes).digest('hex');
}

/** Deterministic pseudo-random bytes, so large payloads need no fixtures. */
export function pattern(size: number, seed = 1): Buffer {
  const out = Buffer.allocUnsafe(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export async function collect(stream: Readable | AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

const MIB = 1024 * 1024;

/** A big file of pseudo-random bytes, written in pieces (never whole in memory). */
export async function bigFile(path: string, size: number): Promise<void> {
  const fh = await open(path, 'w');
  try {
    const piece = pattern(4 * MIB, 7);
    for (let off = 0, i = 0; off < size; off += piece.length, i++) {
      piece.writeUInt32BE(i, 0);
      await fh.write(piece, 0, Math.min(piece.length, size - off));
    }
  } finally {
    await fh.close();
  }
}
