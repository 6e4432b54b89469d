import { describe, expect, it } from 'vitest';
import { hostOf, isLoopbackHost, reachabilityWarnings } from './reachability.js';

describe('reachability', () => {
  it('knows loopback hosts and finds the host of an address', () => {
    for (const h of ['127.0.0.1', '127.3.4.5', 'localhost', 'a.localhost', '::1', '[::1]']) {
      expect(isLoopbackHost(h)).toBe(true);
    }
    for (const h of ['10.0.0.1', '0.0.0.0', 'node-a.lan', '::', '128.0.0.1']) {
      expect(isLoopbackHost(h)).toBe(false);
    }
    expect(hostOf('[::1]:7400')).toBe('::1');
    expect(hostOf('10.0.0.1:7400')).toBe('10.0.0.1');
  });

  it('LOOPBACK_ADVERTISE: a loopback address announced while linked to peers elsewhere', () => {
    const facts = { listen: '127.0.0.1:7400', advertise: undefined };
    expect(reachabilityWarnings({ ...facts, peerAddrs: ['127.0.0.1:7401'] })).toEqual([]);
    const [w, ...rest] = reachabilityWarnings({
      ...facts,
      peerAddrs: ['10.0.0.2:7400', '10.0.0.2:7400', '127.0.0.1:5000', '10.0.0.3:51234'],
    });
    expect(rest).toEqual([]);
    expect(w).toMatchObject({
      code: 'LOOPBACK_ADVERTISE',
      peers: ['10.0.0.2:7400', '10.0.0.3:51234'],
    });
    expect(w!.message).toMatch(/announces 127\.0\.0\.1:7400, a loopback address.*--advertise/);
    // bound everywhere but announcing loopback is the same mistake
    expect(
      reachabilityWarnings({
        listen: '0.0.0.0:7400',
        advertise: '[::1]:7400',
        peerAddrs: ['10.0.0.2:1'],
      }),
    ).toMatchObject([{ code: 'LOOPBACK_ADVERTISE' }]);
  });

  it('LOOPBACK_LISTEN: bound to loopback only, announcing another address', () => {
    expect(
      reachabilityWarnings({ listen: '127.0.0.1:7400', advertise: '10.0.0.1:7400', peerAddrs: [] }),
    ).toMatchObject([{ code: 'LOOPBACK_LISTEN' }]);
    expect(
      reachabilityWarnings({ listen: '0.0.0.0:7400', advertise: '10.0.0.1:7400', peerAddrs: [] }),
    ).toEqual([]);
    expect(
      reachabilityWarnings({
        listen: '10.0.0.1:7400',
        advertise: undefined,
        peerAddrs: ['10.0.0.2:1'],
      }),
    ).toEqual([]);
  });
});
