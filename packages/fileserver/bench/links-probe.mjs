// Raw link rate for the links bench: plain TCP between namespaces, no TLS, no sealing. Modes:
//   recv <host> <senders>       listens, prints {"port"}, then {"bytes","ms"} once all senders end
//   send <host> <port> <bytes>  writes that many bytes (1 MiB writes, respecting backpressure)
import { once } from 'node:events';
import { connect, createServer } from 'node:net';

const [mode, host, ...rest] = process.argv.slice(2);

if (mode === 'recv') {
  const senders = Number(rest[0]);
  let bytes = 0;
  let first = 0;
  let ended = 0;
  const server = createServer((sock) => {
    sock.on('data', (c) => {
      if (!first) first = performance.now();
      bytes += c.length;
    });
    sock.on('end', () => {
      if (++ended < senders) return;
      process.stdout.write(`${JSON.stringify({ bytes, ms: performance.now() - first })}\n`);
      server.close();
    });
  });
  server.listen(0, host, () => {
    process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
  });
} else if (mode === 'send') {
  const [port, total] = rest.map(Number);
  const sock = connect(port, host);
  await once(sock, 'connect');
  const block = Buffer.alloc(1024 * 1024, 0x5a);
  for (let sent = 0; sent < total; sent += block.length) {
    if (!sock.write(block.subarray(0, Math.min(block.length, total - sent)))) {
      await once(sock, 'drain');
    }
  }
  sock.end();
  await once(sock, 'close');
} else {
  console.error('usage: links-probe.mjs recv <host> <senders> | send <host> <port> <bytes>');
  process.exit(2);
}
