// Sign-in tokens and browser sessions, in memory: one-time tokens become sessions that expire when
// idle and at an absolute age; only SHA-256 digests of tokens and ids are kept as map keys.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { InvalidArgumentError } from './errors.js';

export interface SessionLimits {
  /** How long a sign-in token stays valid (default 5 minutes). It works once. */
  signInTtlMs: number;
  /** A session unused this long ends (default 1 hour). */
  idleMs: number;
  /** A session ends this long after sign-in, used or not (default 12 hours). */
  maxAgeMs: number;
  /** Sessions kept at once; signing in past it ends the least recently used (default 64). */
  maxSessions: number;
  /** Unredeemed sign-in tokens kept at once; issuing past it drops the oldest (default 64). */
  maxPending: number;
}

export const DEFAULT_LIMITS: SessionLimits = {
  signInTtlMs: 5 * 60_000,
  idleMs: 60 * 60_000,
  maxAgeMs: 12 * 60 * 60_000,
  maxSessions: 64,
  maxPending: 64,
};

export interface Session {
  /** The per-session token that state-changing requests carry in `x-csrf-token`. */
  readonly csrf: string;
  readonly createdAt: number;
  lastSeenAt: number;
  /** Absolute end: createdAt + maxAgeMs. */
  readonly expiresAt: number;
}

export interface SignInToken {
  token: string;
  expiresAt: number;
}

const digest = (secret: string): string => createHash('sha256').update(secret).digest('hex');
const newSecret = (): string => randomBytes(32).toString('base64url');

function checkLimit(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidArgumentError(`${name} must be a positive integer, got ${value}`);
  }
}

export class Sessions {
  readonly limits: SessionLimits;
  readonly #now: () => number;
  /** digest(token) → expiry; Map order is issue order, so the first entry is the oldest. */
  readonly #pending = new Map<string, number>();
  /** digest(session id) → session; re-inserted on use, so the first entry is least recently used. */
  readonly #sessions = new Map<string, Session>();

  constructor(limits: Partial<SessionLimits> = {}, now: () => number = Date.now) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    for (const [name, value] of Object.entries(this.limits)) checkLimit(name, value);
    this.#now = now;
  }

  /** A fresh one-time sign-in token (43 base64url characters). */
  issueSignInToken(): SignInToken {
    this.#prune();
    while (this.#pending.size >= this.limits.maxPending) {
      this.#pending.delete(this.#pending.keys().next().value!);
    }
    const token = newSecret();
    const expiresAt = this.#now() + this.limits.signInTtlMs;
    this.#pending.set(digest(token), expiresAt);
    return { token, expiresAt };
  }

  /** Consumes a sign-in token: a new session id and its session, or undefined (unknown, used, expired). */
  redeem(token: string): { id: string; session: Session } | undefined {
    const key = digest(token);
    const expiresAt = this.#pending.get(key);
    this.#pending.delete(key);
    const now = this.#now();
    if (expiresAt === undefined || now >= expiresAt) return undefined;
    this.#prune();
    while (this.#sessions.size >= this.limits.maxSessions) {
      this.#sessions.delete(this.#sessions.keys().next().value!);
    }
    const id = newSecret();
    const session: Session = {
      csrf: newSecret(),
      createdAt: now,
      lastSeenAt: now,
      expiresAt: now + this.limits.maxAgeMs,
    };
    this.#sessions.set(digest(id), session);
    return { id, session };
  }

  /** The live session of this id (and marks it used), or undefined. */
  get(id: string): Session | undefined {
    const key = digest(id);
    const session = this.#sessions.get(key);
    if (!session) return undefined;
    const now = this.#now();
    if (this.#expired(session, now)) {
      this.#sessions.delete(key);
      return undefined;
    }
    session.lastSeenAt = now;
    this.#sessions.delete(key);
    this.#sessions.set(key, session);
    return session;
  }

  /** Constant-time comparison of a request's CSRF header with the session's token. */
  static csrfMatches(session: Session, given: string | undefined): boolean {
    if (typeof given !== 'string') return false;
    const a = Buffer.from(given, 'utf8');
    const b = Buffer.from(session.csrf, 'utf8');
    return a.length === b.length && timingSafeEqual(a, b);
  }

  end(id: string): boolean {
    return this.#sessions.delete(digest(id));
  }

  /** Ends every session and forgets every unredeemed sign-in token; returns the sessions ended. */
  revokeAll(): number {
    this.#prune();
    const n = this.#sessions.size;
    this.#sessions.clear();
    this.#pending.clear();
    return n;
  }

  /** Live sessions now. */
  get size(): number {
    this.#prune();
    return this.#sessions.size;
  }

  #expired(s: Session, now: number): boolean {
    return now >= s.expiresAt || now - s.lastSeenAt >= this.limits.idleMs;
  }

  #prune(): void {
    const now = this.#now();
    for (const [k, exp] of this.#pending) if (now >= exp) this.#pending.delete(k);
    for (const [k, s] of this.#sessions) if (this.#expired(s, now)) this.#sessions.delete(k);
  }
}
