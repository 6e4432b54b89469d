// openssl's rates on this machine, this run: what the crypto of a replicated put costs at best.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** Bytes per second openssl processes 256 KiB blocks at, for one `openssl speed` algorithm. */
async function rate(args) {
  const { stdout } = await exec('openssl', ['speed', '-seconds', '1', '-bytes', '262144', ...args]);
  const line = stdout.trim().split('\n').at(-1);
  return Number(/([\d.]+)k\s*$/.exec(line)[1]) * 1000;
}

/**
 * A put with R = 3 on 3 nodes: the writer encrypts (AES-256-CTR) and tags (HMAC-SHA256) the
 * plaintext, hashes the sealed blob (SHA-256) and sends it over two TLS links (AES-256-GCM);
 * each replica decrypts its TLS stream and hashes what it writes. CPU-s per GiB at openssl's rates.
 */
export async function cryptoLimit() {
  const ctr = await rate(['-evp', 'aes-256-ctr']);
  const hmac = await rate(['-hmac', 'sha256']);
  const sha = await rate(['-evp', 'sha256']);
  const gcm = await rate(['-evp', 'aes-256-gcm']);
  const gib = 1024 ** 3;
  const cpuPerGiB = gib / ctr + gib / hmac + 3 * (gib / sha) + 4 * (gib / gcm);
  const g = (r) => `${(r / 1e9).toFixed(2)} GB/s`;
  return {
    cpuPerGiB,
    text:
      `openssl (this run, 256 KiB blocks): AES-256-CTR ${g(ctr)}, HMAC-SHA256 ${g(hmac)}, SHA-256 ${g(sha)}, AES-256-GCM ${g(gcm)}\n` +
      `crypto limit of a replicated put (seal + tag + 3 SHA-256 + 4 TLS passes): ${cpuPerGiB.toFixed(1)} CPU-s/GiB\n`,
  };
}
