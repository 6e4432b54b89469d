// Keys as paths: keys with '/' name files in folders. Recursive operations (put -r, get -r, rm -r)
// map keys to files on disk, so there a key must be a clean relative path; a plain put takes any key.

import { checkFileKey } from '../file-key.js';
import { InvalidPathError } from './errors.js';

export const SEPARATOR = '/';

function segmentProblem(segment: string): string | undefined {
  if (segment === '') return 'an empty segment';
  if (segment === '.' || segment === '..') return `a '${segment}' segment`;
  if (segment.includes('\0')) return 'a NUL character';
  return undefined;
}

/**
 * The segments of a key used as a file path; InvalidPathError (ERR_INVALID_PATH) for an absolute
 * path, an empty segment ('a//b', a trailing '/'), '.' or '..', or a NUL. ERR_INVALID_KEY for a key
 * that is no key at all.
 */
export function pathSegments(key: string): string[] {
  checkFileKey(key);
  if (key.startsWith(SEPARATOR)) throw new InvalidPathError(`'${key}' is an absolute path`);
  const segments = key.split(SEPARATOR);
  for (const segment of segments) {
    const problem = segmentProblem(segment);
    if (problem) throw new InvalidPathError(`'${key}' has ${problem}`);
  }
  return segments;
}

/**
 * Checks a folder prefix for a recursive operation and returns it with one trailing '/' ('' is
 * the whole vault): 'photos' and 'photos/' both mean the folder photos/.
 */
export function folderPrefix(prefix: string): string {
  if (prefix === '' || prefix === SEPARATOR) return '';
  const bare = prefix.endsWith(SEPARATOR) ? prefix.slice(0, -1) : prefix;
  pathSegments(bare);
  return `${bare}${SEPARATOR}`;
}

/** The key of a file found at `relative` (segments from the local tree) under a folder prefix. */
export function keyForPath(prefix: string, relative: readonly string[]): string {
  const folder = folderPrefix(prefix);
  const key = `${folder}${relative.join(SEPARATOR)}`;
  pathSegments(key);
  return key;
}

/**
 * Where a key under `prefix` lands below the target folder of a get -r: its segments after the
 * prefix. A key that is not a clean path is refused rather than written somewhere unexpected.
 */
export function pathUnder(prefix: string, key: string): string[] {
  const folder = folderPrefix(prefix);
  if (!key.startsWith(folder)) throw new InvalidPathError(`'${key}' is not under '${folder}'`);
  pathSegments(key);
  return key.slice(folder.length).split(SEPARATOR);
}
