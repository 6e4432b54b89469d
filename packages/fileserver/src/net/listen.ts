// Binds the node's peer transport: the configured address, or the port kept from the last run
// when asked for port 0, so peers that knew this node find it again.

import { TcpTransport } from '@peerstash/transport-tcp';
import type { NodeConfig } from '../config.js';
import { DEFAULTS } from '../config.js';
import type { NodeFile } from '../data-dir.js';

/** A listening transport and its bound address; nothing is wired to it yet. */
export async function listenTransport(
  config: NodeConfig,
  node: NodeFile,
  clusterSecret: Buffer | undefined,
): Promise<{ transport: TcpTransport; address: string }> {
  const wanted = config.listen ?? node.listen ?? DEFAULTS.listen;
  const candidates = [wanted];
  if (wanted.endsWith(':0') && node.listen && !node.listen.endsWith(':0')) {
    const host = wanted.slice(0, -2);
    if (node.listen.startsWith(`${host}:`)) candidates.unshift(node.listen);
  }
  let lastErr: unknown;
  for (const listen of candidates) {
    const transport = new TcpTransport({
      listen,
      nodeId: node.nodeId,
      ...(clusterSecret ? { secret: clusterSecret } : {}),
      limits: config.transportLimits,
      ...(config.advertise ? { advertise: config.advertise } : {}),
      logger: config.log,
    });
    try {
      const address = await transport.listen();
      return { transport, address };
    } catch (err) {
      lastErr = err;
      await transport.close().catch(() => {});
      config.log.debug({ listen, err }, 'could not listen, trying next address');
    }
  }
  throw lastErr;
}
