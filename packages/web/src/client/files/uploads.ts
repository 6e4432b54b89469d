// Uploads from the browser: a queue of files sent a few at a time by XHR, which streams each File
// from disk and reports progress; every file has its own state, error and cancel.

import { csrfToken, fileUrl } from '../api';

export type UploadState = 'queued' | 'uploading' | 'done' | 'error' | 'cancelled';

export interface UploadItem {
  readonly id: number;
  readonly key: string;
  readonly size: number;
  loaded: number;
  state: UploadState;
  error?: string;
}

export interface PickedFile {
  file: File;
  key: string;
}

export interface UploadTotals {
  loaded: number;
  size: number;
  active: number;
  done: number;
  failed: number;
}

function failure(xhr: XMLHttpRequest): string {
  try {
    const body = JSON.parse(xhr.responseText) as { code?: string; message?: string };
    if (body.message) return body.code ? `${body.message} (${body.code})` : body.message;
  } catch {
    // not JSON
  }
  if (xhr.status === 431) return 'the name is too long for the node (HTTP 431)';
  return xhr.status ? `HTTP ${xhr.status}` : 'the connection failed';
}

export class Uploader {
  readonly items: UploadItem[] = [];
  readonly #concurrency: number;
  readonly #files = new Map<number, File>();
  readonly #xhrs = new Map<number, XMLHttpRequest>();
  readonly #changed: () => void;
  readonly #stored: (item: UploadItem) => void;
  #nextId = 1;

  constructor(changed: () => void, stored: (item: UploadItem) => void, concurrency = 2) {
    this.#changed = changed;
    this.#stored = stored;
    this.#concurrency = concurrency;
  }

  add(picked: PickedFile[]): void {
    for (const p of picked) {
      const id = this.#nextId++;
      this.#files.set(id, p.file);
      this.items.push({ id, key: p.key, size: p.file.size, loaded: 0, state: 'queued' });
    }
    this.#pump();
    this.#changed();
  }

  cancel(id: number): void {
    const item = this.items.find((i) => i.id === id);
    if (!item || (item.state !== 'queued' && item.state !== 'uploading')) return;
    const xhr = this.#xhrs.get(id);
    this.#finish(item, 'cancelled');
    xhr?.abort();
  }

  cancelAll(): void {
    for (const i of this.items) this.cancel(i.id);
  }

  /** Drops finished rows (done, failed, cancelled) from the list. */
  clearFinished(): void {
    const keep = this.items.filter((i) => i.state === 'queued' || i.state === 'uploading');
    this.items.splice(0, this.items.length, ...keep);
    this.#changed();
  }

  totals(): UploadTotals {
    const t: UploadTotals = { loaded: 0, size: 0, active: 0, done: 0, failed: 0 };
    for (const i of this.items) {
      if (i.state === 'cancelled') continue;
      t.size += i.size;
      t.loaded += i.state === 'done' ? i.size : i.loaded;
      if (i.state === 'queued' || i.state === 'uploading') t.active++;
      else if (i.state === 'done') t.done++;
      else if (i.state === 'error') t.failed++;
    }
    return t;
  }

  #finish(item: UploadItem, state: UploadState, error?: string): void {
    item.state = state;
    if (error !== undefined) item.error = error;
    this.#files.delete(item.id);
    this.#xhrs.delete(item.id);
    this.#pump();
    this.#changed();
  }

  #pump(): void {
    while (this.#xhrs.size < this.#concurrency) {
      const next = this.items.find((i) => i.state === 'queued');
      if (!next) return;
      this.#start(next);
    }
  }

  #start(item: UploadItem): void {
    const file = this.#files.get(item.id);
    if (!file) return;
    const xhr = new XMLHttpRequest();
    this.#xhrs.set(item.id, xhr);
    item.state = 'uploading';
    xhr.open('PUT', fileUrl(item.key));
    xhr.setRequestHeader('x-csrf-token', csrfToken());
    xhr.upload.onprogress = (e) => {
      item.loaded = e.loaded;
      this.#changed();
    };
    xhr.onload = () => {
      if (item.state !== 'uploading') return;
      if (xhr.status === 201 || xhr.status === 200) {
        item.loaded = item.size;
        this.#finish(item, 'done');
        this.#stored(item);
      } else this.#finish(item, 'error', failure(xhr));
    };
    xhr.onerror = () => {
      if (item.state === 'uploading') this.#finish(item, 'error', failure(xhr));
    };
    // the File is the body: the browser reads it from disk as it sends, never all at once
    xhr.send(file);
  }
}

/** Files from a picker: a folder pick carries each file's path inside the folder. */
export function fromInput(files: FileList, prefix: string): PickedFile[] {
  return [...files].map((file) => ({ file, key: prefix + (file.webkitRelativePath || file.name) }));
}

function readAll(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  return new Promise((resolve, reject) => {
    const all: FileSystemEntry[] = [];
    // readEntries answers in batches (100 in Chromium) until it returns an empty one
    const more = () =>
      reader.readEntries((batch) => {
        if (batch.length === 0) resolve(all);
        else {
          all.push(...batch);
          more();
        }
      }, reject);
    more();
  });
}

async function walk(entry: FileSystemEntry, path: string, out: PickedFile[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) =>
      (entry as FileSystemFileEntry).file(resolve, reject),
    );
    out.push({ file, key: path + entry.name });
  } else if (entry.isDirectory) {
    const children = await readAll((entry as FileSystemDirectoryEntry).createReader());
    for (const c of children) await walk(c, `${path}${entry.name}/`, out);
  }
}

/** Files dropped on the page, whole folders walked; entries are read before the event ends. */
export async function fromDrop(dt: DataTransfer, prefix: string): Promise<PickedFile[]> {
  const entries: (FileSystemEntry | null)[] = [];
  const plain: File[] = [];
  for (const item of [...dt.items]) {
    if (item.kind !== 'file') continue;
    const entry = item.webkitGetAsEntry?.() ?? null;
    if (entry) entries.push(entry);
    else {
      const f = item.getAsFile();
      if (f) plain.push(f);
    }
  }
  const out: PickedFile[] = plain.map((file) => ({ file, key: prefix + file.name }));
  for (const e of entries) if (e) await walk(e, prefix, out);
  return out;
}
