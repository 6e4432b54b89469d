// Checks on everything a caller hands in before it can touch a path.
// Namespaces and transform output are restricted to safe names, so nothing can leave the root.

import { InvalidArgumentError, InvalidKeyError, InvalidNamespaceError } from './errors.js';
import type { PathKey } from './path-transform.js';

const NAMESPACE = /^[0-9a-f]{64}$/;
// No dots: the store's own suffixes (`.meta.json`, `.blob`, `.tmp`) can never collide with a name.
const SEGMENT = /^[A-Za-z0-9_-]{1,200}$/;

export function isNamespace(ns: unknown): ns is string {
  return typeof ns === 'string' && NAMESPACE.test(ns);
}

export function assertNamespace(ns: unknown): asserts ns is string {
  if (!isNamespace(ns)) throw new InvalidNamespaceError();
}

export function assertKey(key: unknown): asserts key is string {
  if (typeof key !== 'string') throw new InvalidKeyError('key must be a string');
  if (key.length === 0) throw new InvalidKeyError('key must not be empty');
  // A lone surrogate encodes to U+FFFD, so two different keys would share one hash.
  if (!(key as string & { isWellFormed(): boolean }).isWellFormed()) {
    throw new InvalidKeyError('key must be well-formed UTF-16 (no lone surrogates)');
  }
}

export function assertPathKey(pk: PathKey): void {
  const ok =
    pk !== null &&
    typeof pk === 'object' &&
    typeof pk.filename === 'string' &&
    SEGMENT.test(pk.filename) &&
    typeof pk.pathName === 'string' &&
    (pk.pathName === '' || pk.pathName.split('/').every((s) => SEGMENT.test(s)));
  if (!ok) {
    throw new InvalidArgumentError(
      'pathTransform must return { pathName, filename } made of [A-Za-z0-9_-] names',
    );
  }
}
