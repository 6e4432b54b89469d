import { describe, expect, it } from 'vitest';
import { isNodeId, isPeerAddress } from './peer-fields.js';

describe('peer fields', () => {
  it('a node id is 64 lowercase hex', () => {
    expect(isNodeId('0123456789abcdef'.repeat(4))).toBe(true);
    for (const bad of [
      '',
      'ab',
      'A'.repeat(64),
      'g'.repeat(64),
      'a'.repeat(63),
      'a'.repeat(65),
      7,
    ]) {
      expect(isNodeId(bad)).toBe(false);
    }
  });

  it('a peer address is a dialable host:port', () => {
    for (const ok of [
      '127.0.0.1:47401',
      '10.0.0.7:1',
      '[::1]:4000',
      '[fe80::1]:65535',
      'localhost:4000',
      'node-1.example.org:4000',
      '0.0.0.0:4000',
    ]) {
      expect(isPeerAddress(ok), ok).toBe(true);
    }
    for (const bad of [
      '!27.0.0.1:47401', // what the fuzzer saved in node.json
      '127.0.0.1',
      '127.0.0.1:0',
      '127.0.0.1:65536',
      '127.0.0.1:04000',
      '127.0.0.1:+400',
      ':4000',
      '::1:4000',
      '[::1:4000',
      '[not-ip]:4000',
      '999.0.0.1:4000',
      '1.2.3:4000',
      '-node:4000',
      'node-.lan:4000',
      'a..b:4000',
      'host name:4000',
      'host\n:4000',
      `${'a'.repeat(64)}.lan:4000`,
      `${'abcdefghi.'.repeat(26)}lan:4000`,
      '',
      null,
      4000,
    ]) {
      expect(isPeerAddress(bad), String(bad)).toBe(false);
    }
  });
});
