import { describe, expect, it } from 'vitest';
import { crossOriginWrite, hostAllowed, hostName } from './host-check.js';

describe('Host header check', () => {
  const allowed = new Set(['nas.lan']);

  it('reads the name out of name, name:port and [v6]:port', () => {
    expect(hostName('Example.ORG:8080')).toBe('example.org');
    expect(hostName('nas.lan.')).toBe('nas.lan');
    expect(hostName('[::1]:4000')).toBe('::1');
    expect(hostName('[::1]')).toBe('::1');
    for (const bad of ['', ':80', '[::1', '[nope]:1', 'a:b', '[::1]x'])
      expect(hostName(bad)).toBe(undefined);
  });

  it('allows IP addresses, localhost and configured names; refuses other names', () => {
    for (const ok of [
      '127.0.0.1:4000',
      '[::1]:4000',
      '10.1.2.3',
      'localhost:4000',
      'LOCALHOST',
      'nas.lan:80',
      'NAS.LAN.',
    ]) {
      expect(hostAllowed(ok, allowed), ok).toBe(true);
    }
    for (const bad of [
      'evil.example:4000',
      'localhost.evil.example',
      '127.0.0.1.nip.io:4000',
      'nas.lan.evil',
      '',
    ]) {
      expect(hostAllowed(bad, allowed), bad).toBe(false);
    }
    expect(hostAllowed(undefined, allowed)).toBe(true);
  });

  it('refuses cross-origin writes, lets reads and same-origin writes through', () => {
    const none = new Set<string>();
    const host = '127.0.0.1:4000';
    expect(crossOriginWrite('PUT', { host, origin: 'http://evil.example' }, none)).toBe(true);
    expect(crossOriginWrite('POST', { host, origin: 'null' }, none)).toBe(true);
    expect(crossOriginWrite('DELETE', { host, origin: 'http://127.0.0.1:4001' }, none)).toBe(true);
    expect(crossOriginWrite('PUT', { host, 'sec-fetch-site': 'cross-site' }, none)).toBe(true);
    expect(crossOriginWrite('PUT', { host, origin: 'http://127.0.0.1:4000' }, none)).toBe(false);
    expect(
      crossOriginWrite('PUT', { host: 'localhost:80', origin: 'http://localhost' }, none),
    ).toBe(false);
    expect(crossOriginWrite('PUT', { host, 'sec-fetch-site': 'same-origin' }, none)).toBe(false);
    expect(crossOriginWrite('PUT', { host }, none)).toBe(false); // curl, the CLI
    expect(crossOriginWrite('GET', { host, origin: 'http://evil.example' }, none)).toBe(false);
    const console = new Set(['https://console.lan']);
    expect(crossOriginWrite('PUT', { host, origin: 'https://console.lan' }, console)).toBe(false);
  });
});
