import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Sessions } from './sessions.js';

describe('Sessions', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('redeems a sign-in token once, into a session with its own CSRF token', () => {
    const s = new Sessions();
    const { token, expiresAt } = s.issueSignInToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(expiresAt).toBe(Date.now() + 5 * 60_000);
    const got = s.redeem(token);
    expect(got).toBeDefined();
    expect(got!.id).not.toBe(token);
    expect(got!.session.csrf).not.toBe(got!.id);
    expect(s.redeem(token)).toBeUndefined();
    expect(s.get(got!.id)).toBe(got!.session);
    expect(s.get(token)).toBeUndefined();
  });

  it('refuses a sign-in token past its lifetime', () => {
    const s = new Sessions({ signInTtlMs: 1000 });
    const a = s.issueSignInToken();
    const b = s.issueSignInToken();
    vi.advanceTimersByTime(999);
    expect(s.redeem(a.token)).toBeDefined();
    vi.advanceTimersByTime(1);
    expect(s.redeem(b.token)).toBeUndefined();
  });

  it('ends a session left idle, and any session at its absolute age however busy', () => {
    const s = new Sessions({ idleMs: 1000, maxAgeMs: 5000 });
    const idle = s.redeem(s.issueSignInToken().token)!;
    const busy = s.redeem(s.issueSignInToken().token)!;
    for (let t = 0; t < 4; t++) {
      vi.advanceTimersByTime(900);
      expect(s.get(busy.id)).toBeDefined();
    }
    expect(s.get(idle.id)).toBeUndefined();
    vi.advanceTimersByTime(900);
    expect(s.get(busy.id)).toBeDefined();
    vi.advanceTimersByTime(500);
    expect(Date.now() - busy.session.createdAt).toBeGreaterThanOrEqual(5000);
    expect(s.get(busy.id)).toBeUndefined();
    expect(s.size).toBe(0);
  });

  it('keeps at most maxSessions, dropping the least recently used', () => {
    const s = new Sessions({ maxSessions: 2 });
    const a = s.redeem(s.issueSignInToken().token)!;
    const b = s.redeem(s.issueSignInToken().token)!;
    s.get(a.id);
    const c = s.redeem(s.issueSignInToken().token)!;
    expect(s.get(a.id)).toBeDefined();
    expect(s.get(b.id)).toBeUndefined();
    expect(s.get(c.id)).toBeDefined();
  });

  it('keeps at most maxPending sign-in tokens, dropping the oldest', () => {
    const s = new Sessions({ maxPending: 2 });
    const a = s.issueSignInToken();
    const b = s.issueSignInToken();
    const c = s.issueSignInToken();
    expect(s.redeem(a.token)).toBeUndefined();
    expect(s.redeem(b.token)).toBeDefined();
    expect(s.redeem(c.token)).toBeDefined();
  });

  it('revokes every session and every unused token', () => {
    const s = new Sessions();
    const a = s.redeem(s.issueSignInToken().token)!;
    const pending = s.issueSignInToken();
    expect(s.revokeAll()).toBe(1);
    expect(s.get(a.id)).toBeUndefined();
    expect(s.redeem(pending.token)).toBeUndefined();
  });

  it('compares CSRF tokens exactly', () => {
    const s = new Sessions();
    const { session } = s.redeem(s.issueSignInToken().token)!;
    expect(Sessions.csrfMatches(session, session.csrf)).toBe(true);
    expect(Sessions.csrfMatches(session, undefined)).toBe(false);
    expect(Sessions.csrfMatches(session, '')).toBe(false);
    expect(Sessions.csrfMatches(session, `${session.csrf}x`)).toBe(false);
    expect(Sessions.csrfMatches(session, session.csrf.toUpperCase())).toBe(
      session.csrf === session.csrf.toUpperCase(),
    );
  });

  it('refuses limits that are not positive integers', () => {
    expect(() => new Sessions({ idleMs: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    expect(() => new Sessions({ maxSessions: 1.5 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });
});
