// The V8 flags and environment a node's process should start with. Heap sizing and malloc tuning
// cannot be changed once the process runs, so whatever starts a node (the bin, its child nodes,
// the systemd unit, the benches) passes these.

/**
 * `--initial-old-space-size=64` floors V8's old-generation limit at 64 MB. A node's live JS heap
 * is ~10 MB, so V8 sets that limit near 25 MB; a put or get allocates Buffers (socket reads,
 * cipher output) fast enough that V8 forces a scavenge every 32 MB of them, and counts the
 * Buffers not yet swept against the limit, which starts a full mark-compact at nearly every such
 * scavenge: 100–150 full GCs per GiB on the writer and as many on each receiver. With the floor
 * it is a few per GiB and each node spends about a third less CPU per GiB (README figures). The
 * limit is a threshold, not a reservation.
 *
 * `--max-semi-space-size=4` caps each of the young generation's two semi-spaces at 4 MB (V8's
 * default grows them to 16 MB). Nearly all a node allocates dies young (stream objects, request
 * state), so the big young generation bought no fewer promotions, only up to ~32 MB more committed
 * heap; with the cap the serving node's committed heap peak during a 1 GiB `get -r` fell from
 * ~105 to ~82 MB at no measured CPU cost (README figures).
 */
export const NODE_FLAGS: readonly string[] = Object.freeze([
  '--initial-old-space-size=64',
  '--max-semi-space-size=4',
]);

/**
 * `MALLOC_MMAP_THRESHOLD_=131072` fixes glibc's mmap threshold at its default 128 KiB. glibc
 * otherwise raises it to the size of the largest mmapped block freed (a node frees 256 KiB–1 MiB
 * Buffers all the time: file reads, cipher output), after which those come from the heap arena,
 * whose free holes are not given back: on a 1 GiB `put -r` / `get -r` each node's peak anonymous
 * memory was 8–20 MiB higher without it (README figures). glibc reads it at start only; a shebang
 * cannot set it portably, so `peerstash serve` run straight from a shell goes without it.
 *
 * `UV_THREADPOOL_SIZE=16`: libuv's pool (4 threads by default) runs every file-system call, and a
 * put of a small file makes ~15 of them per copy, 3–4 of them fsyncs that hold a thread for a
 * millisecond or more; with 16 puts in flight the pool was the queue (2,000 × 4 KiB through the
 * API, three alternating pairs on a loaded host: 63 → 76, 84 → 104, 57 → 83 files/s at the same
 * CPU per file). libuv reads it when the pool first starts, so it too comes from the environment.
 */
export const NODE_ENV_VARS: Readonly<Record<string, string>> = Object.freeze({
  MALLOC_MMAP_THRESHOLD_: '131072',
  UV_THREADPOOL_SIZE: '16',
});
