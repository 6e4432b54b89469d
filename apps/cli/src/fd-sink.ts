// Where `get` writes a file to stdout. Node writes process.stdout synchronously when it is a pipe
// or a file: every write blocks the event loop until the reader took it, so the download stalls
// while its reader works (`get big | sha256sum` ran at about half its rate). A pipe or socket on
// stdout is written through libuv's thread pool instead, the event loop going on; a terminal or
// a file keeps process.stdout (a file's writes do not wait on a reader).

import { fstatSync, writev } from 'node:fs';
import { Writable } from 'node:stream';

/** A writable for stdout's bytes; ending it never closes fd 1. */
export function stdoutBytes(): Writable {
  let st: ReturnType<typeof fstatSync> | undefined;
  try {
    st = fstatSync(1);
  } catch {
    st = undefined;
  }
  if (!st || !(st.isFIFO() || st.isSocket())) return process.stdout;
  // Node made fd 1 non-blocking when process.stdout was first touched (a pipe's writer would
  // then see EAGAIN every 64 KiB); blocking again, each write waits in the pool, not the loop
  const handle = (process.stdout as { _handle?: { setBlocking?: (b: boolean) => number } })._handle;
  if (typeof handle?.setBlocking !== 'function' || handle.setBlocking(true) !== 0) {
    return process.stdout;
  }
  // the mode belongs to the pipe, shared with whoever else writes to it (a parent shell or Node
  // process): once done, it goes back to what Node had made it
  return fdWriter(1, () => handle.setBlocking?.(false));
}

/**
 * Bytes written to `fd` in the thread pool, in batches (writev) of whatever queued meanwhile;
 * `done` runs once the stream closes.
 */
export function fdWriter(fd: number, done: () => void = () => {}): Writable {
  const w = new Writable({
    highWaterMark: 1024 * 1024,
    writev(chunks, cb) {
      writeAll(
        fd,
        chunks.map((c) => c.chunk as Buffer),
        cb,
      );
    },
  });
  // after the last write (finished), or once given up (destroyed)
  w.once('close', done);
  return w;
}

/** The most buffers one writev takes (Linux). */
const IOV_MAX = 1024;

/** Writes every byte of `bufs`, continuing after short writes; a non-blocking fd is waited on. */
function writeAll(fd: number, bufs: Buffer[], cb: (err?: Error | null) => void): void {
  writev(fd, bufs.length > IOV_MAX ? bufs.slice(0, IOV_MAX) : bufs, (err, written) => {
    if (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
        setTimeout(() => writeAll(fd, bufs, cb), 1);
        return;
      }
      cb(err);
      return;
    }
    let left = written;
    let i = 0;
    while (i < bufs.length && left >= bufs[i]!.length) left -= bufs[i++]!.length;
    if (i === bufs.length) {
      cb();
      return;
    }
    const rest = bufs.slice(i);
    rest[0] = rest[0]!.subarray(left);
    writeAll(fd, rest, cb);
  });
}
