import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { cookieNameFor, hostAllowed, hostName, readCookie, sameOrigin } from './security.js';

const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

describe('security checks', () => {
  it('reads the host name out of a Host header', () => {
    expect(hostName('127.0.0.1:8080')).toBe('127.0.0.1');
    expect(hostName('[::1]:8080')).toBe('::1');
    expect(hostName('LocalHost')).toBe('localhost');
    expect(hostName(undefined)).toBeUndefined();
    expect(hostName('[::1')).toBeUndefined();
  });

  it('allows IP literals, localhost and configured names only', () => {
    const allowed = new Set(['nas.home.arpa']);
    for (const h of [
      '127.0.0.1:1',
      '[::1]:1',
      '10.1.2.3',
      'localhost:9',
      'a.localhost',
      'nas.home.arpa:5',
      'nas.home.arpa.',
    ]) {
      expect(hostAllowed(h, allowed), h).toBe(true);
    }
    for (const h of [
      'evil.example',
      'localhost.evil.example',
      '127.0.0.1.nip.io',
      '',
      'nas.home.arpa.evil',
    ]) {
      expect(hostAllowed(h, allowed), h).toBe(false);
    }
    expect(hostAllowed(undefined, allowed)).toBe(false);
  });

  it('takes Origin and Sec-Fetch-Site as the browser gives them', () => {
    expect(sameOrigin(req({ host: '127.0.0.1:5' }))).toBe(true);
    expect(sameOrigin(req({ host: '127.0.0.1:5', origin: 'http://127.0.0.1:5' }))).toBe(true);
    expect(sameOrigin(req({ host: '127.0.0.1:5', origin: 'http://127.0.0.1:6' }))).toBe(false);
    expect(sameOrigin(req({ host: '127.0.0.1:5', origin: 'null' }))).toBe(false);
    expect(sameOrigin(req({ host: '127.0.0.1:5', 'sec-fetch-site': 'same-site' }))).toBe(false);
    expect(sameOrigin(req({ host: '127.0.0.1:5', 'sec-fetch-site': 'none' }))).toBe(true);
    expect(sameOrigin(req({ origin: 'http://127.0.0.1:5' }))).toBe(false);
  });

  it('names the cookie per node and reads only that cookie', () => {
    const a = cookieNameFor('token-a-0123456789');
    expect(a).toMatch(/^peerstash_ui_[0-9a-f]{12}$/);
    expect(cookieNameFor('token-b-0123456789')).not.toBe(a);
    expect(readCookie(req({ cookie: `x=1; ${a}=sid; y=2` }), a)).toBe('sid');
    expect(readCookie(req({ cookie: `${a}x=1` }), a)).toBeUndefined();
    expect(readCookie(req({}), a)).toBeUndefined();
  });
});
