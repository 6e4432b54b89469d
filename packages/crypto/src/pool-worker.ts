// The body of a CryptoPool worker thread: seals or opens one batch of PSB1 records per message,
// from the batch's own CTR counter, and hands the output buffer back without copying it.
import { createCipheriv, createDecipheriv, timingSafeEqual } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import type { WorkerReply, WorkerRequest } from './pool-job.js';
import { ChunkTagger, type FileKeys, TAG_SIZE } from './sealed-format.js';
import { counterAt } from './sealed-range.js';

function keysOf(job: WorkerRequest): FileKeys {
  return {
    header: Buffer.from(job.header),
    chunkSize: job.chunkSize,
    encKey: Buffer.from(job.encKey),
    macKey: Buffer.from(job.macKey),
    iv: Buffer.from(job.iv),
  };
}

/**
 * Plaintext in, records out, in the same buffer (the sealer leaves room for the tags): every chunk
 * is full unless the batch ends at the final one. All ciphertext is made before any is written
 * back, so no record overwrites plaintext still to be read.
 */
function sealBatch(job: WorkerRequest): Buffer {
  const keys = keysOf(job);
  const C = job.chunkSize;
  const plain = Buffer.from(job.data, 0, job.length);
  const full = Math.floor(plain.length / C);
  const records = job.endsAtFinal ? full + 1 : full;
  const size = plain.length + records * TAG_SIZE;
  if (size > job.data.byteLength) throw new Error('batch buffer has no room for the tags');
  const cipher = createCipheriv(
    'aes-256-ctr',
    keys.encKey,
    counterAt(keys.iv, (job.firstIndex * C) / 16),
  );
  const tagger = new ChunkTagger(keys);
  const cts: Buffer[] = [];
  const tags: Buffer[] = [];
  for (let i = 0; i < records; i++) {
    const ct = cipher.update(plain.subarray(i * C, Math.min((i + 1) * C, plain.length)));
    cts.push(ct);
    tags.push(tagger.tag(job.firstIndex + i, job.endsAtFinal && i === records - 1, [ct]));
  }
  const out = Buffer.from(job.data, 0, size);
  for (let i = 0; i < records; i++) {
    const at = i * (C + TAG_SIZE);
    const ct = cts[i] as Buffer;
    ct.copy(out, at);
    (tags[i] as Buffer).copy(out, at + ct.length);
  }
  return out;
}

class TagMismatch extends Error {}

/**
 * Records in, plaintext out, in the same buffer; every tag is checked before anything is decrypted.
 * Record i's plaintext goes to i·C, before the ciphertext of record i + 1, so nothing unread is hit.
 */
function openBatch(job: WorkerRequest): Buffer {
  const keys = keysOf(job);
  const C = job.chunkSize;
  const R = C + TAG_SIZE;
  const sealed = Buffer.from(job.data, 0, job.length);
  const full = Math.floor(sealed.length / R);
  const records = job.endsAtFinal ? full + 1 : full;
  const tagger = new ChunkTagger(keys);
  const ct: Buffer[] = [];
  for (let i = 0; i < records; i++) {
    const end = Math.min((i + 1) * R, sealed.length);
    const body = sealed.subarray(i * R, end - TAG_SIZE);
    const final = job.endsAtFinal && i === records - 1;
    const expected = tagger.tag(job.firstIndex + i, final, [body]);
    if (!timingSafeEqual(expected, sealed.subarray(end - TAG_SIZE, end))) {
      throw new TagMismatch(`chunk ${job.firstIndex + i} failed verification`);
    }
    ct.push(body);
  }
  const out = Buffer.from(job.data, 0, sealed.length - records * TAG_SIZE);
  const decipher = createDecipheriv(
    'aes-256-ctr',
    keys.encKey,
    counterAt(keys.iv, (job.firstIndex * C) / 16),
  );
  let at = 0;
  for (const body of ct) at += decipher.update(body).copy(out, at);
  decipher.final();
  return out;
}

const port = parentPort;
if (!port) throw new Error('pool-worker runs only as a worker thread');
port.on('message', (job: WorkerRequest) => {
  let reply: WorkerReply;
  try {
    const out = job.op === 'seal' ? sealBatch(job) : openBatch(job);
    // the batch's own buffer goes back: one allocation per batch, made by the caller's thread
    reply = { id: job.id, data: job.data, length: out.length };
    port.postMessage(reply, [reply.data]);
  } catch (err) {
    const code = err instanceof TagMismatch ? 'ERR_INTEGRITY' : 'ERR_WORKER';
    reply = { id: job.id, error: { code, message: (err as Error).message } };
    port.postMessage(reply);
  }
});
