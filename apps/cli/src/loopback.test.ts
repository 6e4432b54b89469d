import { describe, expect, it } from 'vitest';
import { hostOf, isLoopbackHost, loopbackWarning, unreachableFrom } from './loopback.js';

describe('loopback', () => {
  it('knows loopback hosts', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) {
      expect(isLoopbackHost(h), h).toBe(true);
    }
    for (const h of ['10.0.0.1', '0.0.0.0', 'node-a.lan', 'fe80::1', '128.0.0.1']) {
      expect(isLoopbackHost(h), h).toBe(false);
    }
  });

  it('reads the host of an address', () => {
    expect(hostOf('10.0.0.1:7400')).toBe('10.0.0.1');
    expect(hostOf('[::1]:7400')).toBe('::1');
    expect(hostOf('node-a.lan:1')).toBe('node-a.lan');
  });

  it('names the peers outside loopback only when the node announces loopback', () => {
    const peers = ['10.0.0.1:7400', '127.0.0.1:7401', '10.0.0.1:7400', 'node-b.lan:7400'];
    expect(unreachableFrom('127.0.0.1:7400', peers)).toEqual(['10.0.0.1:7400', 'node-b.lan:7400']);
    expect(unreachableFrom('10.0.0.4:7400', peers)).toEqual([]);
    expect(unreachableFrom('127.0.0.1:7400', ['127.0.0.1:7401'])).toEqual([]);
    expect(loopbackWarning('127.0.0.1:7400', ['10.0.0.1:7400'])).toMatch(
      /^this node announces 127\.0\.0\.1:7400, a loopback address, .*\(10\.0\.0\.1:7400\).*--listen/,
    );
  });
});
