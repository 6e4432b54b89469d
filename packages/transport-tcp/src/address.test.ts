import { describe, expect, it } from 'vitest';
import { formatAddress, parseAddress } from './address.js';

describe('addresses', () => {
  it('parses and formats host:port, with IPv6 in brackets', () => {
    expect(parseAddress('127.0.0.1:4000')).toEqual({ host: '127.0.0.1', port: 4000 });
    expect(parseAddress('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(parseAddress('localhost:65535')).toEqual({ host: 'localhost', port: 65535 });
    expect(formatAddress('::1', 5)).toBe('[::1]:5');
    expect(formatAddress('10.0.0.1', 5)).toBe('10.0.0.1:5');
  });

  it('rejects malformed addresses with ERR_INVALID_ARGUMENT', () => {
    for (const bad of ['', '4000', ':4000', 'host:', 'host:port', 'host:70000', 'host:-1']) {
      expect(() => parseAddress(bad)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
    }
  });
});
