// HTTP client for a node's control API (node:http, bodies streamed both ways).
// The node is found through its data dir: api.json for the address, api-token for the bearer token.

import { type IncomingMessage, request } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { assertInitialised, readApiEndpoint, readApiToken } from './data-dir.js';
import { ApiError, CliError, toCliError } from './errors.js';
import { EXIT } from './exit-codes.js';

export interface PutResult {
  key: string;
  size: number;
  digest?: string;
  replicas: number;
}

export interface DeleteResult {
  deleted: boolean;
  peers: number;
}

export type NodeStatus = Record<string, unknown>;

export interface ApiClientOptions {
  host: string;
  port: number;
  token: string;
  /** Named in error hints. */
  dir?: string;
  /** Inactivity limit of one request, in ms (default 120 s). */
  idleTimeoutMs?: number;
}

const MAX_JSON = 16 * 1024 * 1024;

export class ApiClient {
  readonly host: string;
  readonly port: number;
  readonly #token: string;
  readonly #dir: string | undefined;
  readonly #idleMs: number;

  constructor(opts: ApiClientOptions) {
    this.#idleMs = opts.idleTimeoutMs ?? 120_000;
    this.host = opts.host;
    this.port = opts.port;
    this.#token = opts.token;
    this.#dir = opts.dir;
  }

  /** Finds the node running on `dir`, or says why it cannot. */
  static async fromDataDir(dir: string, opts: { idleTimeoutMs?: number } = {}): Promise<ApiClient> {
    await assertInitialised(dir);
    const ep = await readApiEndpoint(dir);
    if (!ep) {
      throw new CliError(
        'ERR_NODE_NOT_RUNNING',
        EXIT.NODE_NOT_RUNNING,
        `no node is running on ${dir}`,
        `start it with "peerstash serve --dir ${dir}"`,
      );
    }
    let token: string;
    try {
      token = await readApiToken(dir);
    } catch (err) {
      throw toCliError(err, { dir });
    }
    return new ApiClient({ ...ep, token, dir, ...opts });
  }

  get address(): string {
    return this.host.includes(':') ? `[${this.host}]:${this.port}` : `${this.host}:${this.port}`;
  }

  /** Sends one request; resolves with the response once its head arrives. */
  request(
    method: string,
    path: string,
    opts: { body?: Readable; headers?: Record<string, string | number>; signal?: AbortSignal } = {},
  ): Promise<IncomingMessage> {
    return new Promise((resolvePromise, reject) => {
      let answered = false;
      const req = request({
        host: this.host,
        port: this.port,
        method,
        path,
        headers: { authorization: `Bearer ${this.#token}`, ...opts.headers },
        signal: opts.signal,
      });
      const fail = (err: unknown) => {
        if (answered) return;
        answered = true;
        reject(this.#connError(err));
      };
      let response: IncomingMessage | undefined;
      req.once('response', (res) => {
        answered = true;
        response = res;
        resolvePromise(res);
      });
      req.once('error', fail);
      // No byte either way for this long (a hung node, a dead link) ends the request.
      req.setTimeout(this.#idleMs, () => {
        const err = new CliError(
          'ERR_TIMEOUT',
          EXIT.TIMEOUT,
          `the node at ${this.address} sent nothing for ${Math.round(this.#idleMs / 1000)} s`,
          'check its log; it may be overloaded or waiting on unreachable peers',
        );
        // The body reader sees this error too, not a bare "aborted".
        response?.destroy(err);
        req.destroy(err);
      });
      if (opts.body) {
        // The node may answer (401, 507, ...) before the body is through; that answer wins
        // over the broken pipe it leaves behind.
        pipeline(opts.body, req).catch((err: unknown) => {
          setImmediate(() => fail(err));
        });
      } else {
        req.end();
      }
    });
  }

  #connError(err: unknown): unknown {
    const code = (err as { code?: string }).code;
    if (code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENOTFOUND') {
      const dir = this.#dir ? ` --dir ${this.#dir}` : '';
      return new CliError(
        'ERR_NODE_NOT_RUNNING',
        EXIT.NODE_NOT_RUNNING,
        `the node is not running (nothing answers on ${this.address})`,
        `start it with "peerstash serve${dir}"`,
        { cause: err },
      );
    }
    if (code === 'ECONNRESET' || code === 'EPIPE') {
      return new CliError(
        'ERR_CONNECTION_LOST',
        EXIT.NODE_NOT_RUNNING,
        `the node at ${this.address} closed the connection mid-request`,
        'it may have stopped or crashed; check "peerstash status", then retry',
        { cause: err },
      );
    }
    return err;
  }

  #json<T>(res: IncomingMessage): Promise<T> {
    return readJson<T>(res);
  }

  /** Throws the node's error unless `res` is a success. */
  async expectOk(res: IncomingMessage): Promise<void> {
    if ((res.statusCode ?? 500) >= 400) throw apiErrorFrom(res, await readBody(res));
  }

  async put(
    key: string,
    body: Readable,
    opts: { size?: number; signal?: AbortSignal } = {},
  ): Promise<PutResult> {
    const headers: Record<string, string | number> = {
      'content-type': 'application/octet-stream',
    };
    if (opts.size !== undefined) headers['content-length'] = opts.size;
    const res = await this.request('PUT', filePath(key), {
      body,
      headers,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    const out = await this.#json<Partial<PutResult>>(res);
    return {
      key: out?.key ?? key,
      size: Number(out?.size ?? opts.size ?? 0),
      replicas: Number(out?.replicas ?? 0),
      ...(out?.digest ? { digest: out.digest } : {}),
    };
  }

  /**
   * Starts a download; the caller consumes `stream`. `size` when the node announces it (with
   * `from`, the bytes from there on). `from` asks for the bytes from that offset, of version
   * `ifVersion` only: `partial` false means the node sent the whole current file instead.
   */
  async get(
    key: string,
    opts: { signal?: AbortSignal; from?: number; ifVersion?: string } = {},
  ): Promise<{
    stream: IncomingMessage;
    size: number | undefined;
    source: string | undefined;
    partial: boolean;
    /** The version sent (its ETag), when the node named it. */
    version: string | undefined;
    /** With a 206: the first byte sent and the file's whole size (Content-Range). */
    range: { start: number; total: number } | undefined;
  }> {
    const headers: Record<string, string> = {};
    if (opts.from !== undefined) headers.range = `bytes=${opts.from}-`;
    if (opts.ifVersion !== undefined) headers['if-range'] = `"${opts.ifVersion}"`;
    const res = await this.request('GET', filePath(key), {
      ...(opts.signal ? { signal: opts.signal } : {}),
      headers,
    });
    await this.expectOk(res);
    const len = res.headers['content-length'];
    const size = len === undefined ? undefined : Number(len);
    const source = res.headers['x-peerstash-source'];
    const cr = /^bytes (\d+)-\d+\/(\d+)$/.exec(String(res.headers['content-range'] ?? ''));
    return {
      stream: res,
      size: Number.isFinite(size) ? size : undefined,
      source: typeof source === 'string' ? source : undefined,
      partial: res.statusCode === 206,
      version: versionOf(res),
      range: cr ? { start: Number(cr[1]), total: Number(cr[2]) } : undefined,
    };
  }

  /** The cluster's current version of `key` and its size (HEAD); undefined when there is none. */
  async version(
    key: string,
    opts: { signal?: AbortSignal } = {},
  ): Promise<{ version: string; size: number } | undefined> {
    const res = await this.request('HEAD', filePath(key), opts);
    res.resume();
    if (res.statusCode === 404) return undefined;
    // HEAD has no body: the node names its error in a header
    if ((res.statusCode ?? 500) >= 400) throw apiErrorFrom(res, '');
    const version = versionOf(res);
    const size = Number(res.headers['content-length']);
    return version && Number.isSafeInteger(size) ? { version, size } : undefined;
  }

  async has(key: string): Promise<boolean> {
    const res = await this.request('HEAD', filePath(key));
    res.resume();
    if (res.statusCode === 404) return false;
    if ((res.statusCode ?? 500) >= 400) throw apiErrorFrom(res, '');
    return true;
  }

  async delete(key: string, opts: { everywhere?: boolean } = {}): Promise<DeleteResult> {
    const q = opts.everywhere ? '?everywhere=1' : '';
    const res = await this.request('DELETE', `${filePath(key)}${q}`);
    const out = await this.#json<Partial<DeleteResult> | undefined>(res);
    return { deleted: out?.deleted ?? true, peers: Number(out?.peers ?? 0) };
  }

  async status(opts: { signal?: AbortSignal } = {}): Promise<NodeStatus> {
    const res = await this.request('GET', '/v1/status', opts);
    return this.#json<NodeStatus>(res);
  }
}

export function filePath(key: string): string {
  return `/v1/files/${encodeURIComponent(key)}`;
}

/** The JSON body of `res`; the node's error (ApiError) when it is not a success. */
export async function readJson<T>(res: IncomingMessage): Promise<T> {
  const text = await readBody(res);
  if ((res.statusCode ?? 500) >= 400) throw apiErrorFrom(res, text);
  if (text === '') return undefined as T;
  return JSON.parse(text) as T;
}

async function readBody(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of res) {
    total += (chunk as Buffer).length;
    if (total > MAX_JSON) {
      res.destroy();
      throw new CliError('ERR_PROTOCOL', EXIT.GENERIC, 'the node sent an oversized answer');
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The version an answer names in its ETag (a hex digest in quotes). */
function versionOf(res: IncomingMessage): string | undefined {
  return /^"([0-9a-f]+)"$/.exec(String(res.headers.etag ?? ''))?.[1];
}

function apiErrorFrom(res: IncomingMessage, text: string): ApiError {
  const status = res.statusCode ?? 500;
  let code: string | undefined;
  let message: string | undefined;
  try {
    const json = JSON.parse(text) as { code?: unknown; message?: unknown; error?: unknown };
    const inner = (json.error && typeof json.error === 'object' ? json.error : json) as {
      code?: unknown;
      message?: unknown;
    };
    if (typeof inner.code === 'string') code = inner.code;
    if (typeof inner.message === 'string') message = inner.message;
  } catch {
    // Not JSON: fall back to the status code.
  }
  const named = res.headers['x-peerstash-error'];
  if (typeof named === 'string' && /^ERR_[A-Z_]+$/.test(named)) code ??= named;
  code ??= codeForStatus(status);
  return new ApiError(status, code, message ?? (res.statusMessage || `HTTP ${status}`));
}

function codeForStatus(status: number): string {
  if (status === 401 || status === 403) return 'ERR_AUTH';
  if (status === 404) return 'ERR_NOT_FOUND';
  if (status === 507) return 'ERR_NO_SPACE';
  if (status === 413) return 'ERR_LIMIT';
  if (status === 504 || status === 408) return 'ERR_TIMEOUT';
  if (status >= 400 && status < 500) return 'ERR_BAD_REQUEST';
  return 'ERR_SERVER';
}
