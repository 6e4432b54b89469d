import { describe, expect, it } from 'vitest';
import { parseBootstrap, parseHostPort } from './addr.js';

describe('parseHostPort', () => {
  it('reads host:port, [v6]:port and :port', () => {
    expect(parseHostPort('10.0.0.1:7400', 'x')).toEqual({ host: '10.0.0.1', port: 7400 });
    expect(parseHostPort('[::1]:80', 'x')).toEqual({ host: '::1', port: 80 });
    expect(parseHostPort(':0', 'x', '0.0.0.0')).toEqual({ host: '0.0.0.0', port: 0 });
    expect(parseHostPort('node-a.lan:1', 'x')).toEqual({ host: 'node-a.lan', port: 1 });
  });

  it.each(['', 'host', '1.2.3.4', 'h:70000', 'h:-1', 'h:port', 'a:b:c'])(
    'rejects %j as a usage error',
    (bad) => {
      expect(() => parseHostPort(bad, 'listen address')).toThrow(
        expect.objectContaining({ code: 'ERR_USAGE', exitCode: 2 }),
      );
    },
  );
});

describe('parseBootstrap', () => {
  it('normalises a good address', () => {
    expect(parseBootstrap(' 127.0.0.1:7400 ')).toBe('127.0.0.1:7400');
    expect(parseBootstrap('[fe80::1]:9')).toBe('[fe80::1]:9');
  });

  it.each(['127.0.0.1:0', '0.0.0.0:7400', 'nohost', '[::]:1'])('refuses %j', (bad) => {
    expect(() => parseBootstrap(bad)).toThrow(expect.objectContaining({ code: 'ERR_USAGE' }));
  });
});
