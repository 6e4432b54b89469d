// Serving side of holdings-query: which version of each asked file this node holds, read from
// the holdings index (no disk walk, no blob opened), 32 bytes per id, zeros for none.

import type { Holdings } from '../catalog/holdings.js';

export function heldVersions(holdings: Holdings, ns: string, ids: readonly string[]): Buffer {
  const out = Buffer.alloc(32 * ids.length);
  ids.forEach((id, i) => {
    const h = holdings.get(ns, id);
    if (h) out.write(h.version, 32 * i, 32, 'hex');
  });
  return out;
}
