// Where the gateways' access keys live: one KeyStore file (mode 0600) in the data dir, shared by
// `peerstash s3 keys` and a running `peerstash serve`, which re-reads it on change.

import { join } from 'node:path';

export const S3_KEYS_FILE = 's3-keys.json';

export function keyStorePath(dir: string): string {
  return join(dir, S3_KEYS_FILE);
}
