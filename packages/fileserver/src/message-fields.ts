// Field checks shared by the peer message parsers (messages.ts and repair/messages.ts): each
// returns the value with its type narrowed, or throws ProtocolError (ERR_PROTOCOL).

import { ProtocolError } from './errors.js';

const HEX64 = /^[0-9a-f]{64}$/;
const REQ_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function fail(what: string): never {
  throw new ProtocolError(`bad message: ${what}`);
}

export function obj(v: unknown): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) {
    fail('not a map');
  }
  return v as Record<string, unknown>;
}

export function isHex64(v: unknown): v is string {
  return typeof v === 'string' && HEX64.test(v);
}

export function hex64(v: unknown, name: string): string {
  if (!isHex64(v)) fail(`${name} must be 64 lowercase hex`);
  return v;
}

export function reqId(v: unknown): string {
  if (typeof v !== 'string' || !REQ_ID.test(v)) fail('reqId');
  return v;
}

/** A non-negative safe integer: sizes, times, counts. */
export function uint(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(name);
  return v;
}

export function bool(v: unknown, name: string): boolean {
  if (typeof v !== 'boolean') fail(name);
  return v;
}
