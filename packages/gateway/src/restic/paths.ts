// Maps restic REST URLs (`{repo path}/config`, `{repo path}/{type}/`, `{repo path}/{type}/{name}`)
// onto routes and backend keys under the restic prefix, refusing anything else.

export const RESTIC_TYPES = ['data', 'keys', 'locks', 'snapshots', 'index'] as const;
export type ResticType = (typeof RESTIC_TYPES)[number];

export type ResticRoute =
  | { kind: 'repo'; repo: string[] }
  | { kind: 'config'; repo: string[] }
  | { kind: 'list'; repo: string[]; type: ResticType }
  | { kind: 'object'; repo: string[]; type: ResticType; name: string };

const SEGMENT = /^[A-Za-z0-9._~@+-]+$/;
const NAME = /^[0-9a-f]{64}$/;

function isType(s: string | undefined): s is ResticType {
  return (RESTIC_TYPES as readonly string[]).includes(s ?? '');
}

/** undefined when the path is not one restic uses (or names a repository with odd segments). */
export function parseResticPath(pathname: string): ResticRoute | undefined {
  let segments: string[];
  try {
    segments = pathname.split('/').map(decodeURIComponent);
  } catch {
    return undefined;
  }
  if (segments[0] !== '') return undefined;
  segments.shift();
  const trailing = segments.at(-1) === '';
  if (trailing) segments.pop();
  if (segments.some((s) => !SEGMENT.test(s) || s === '.' || s === '..')) return undefined;
  const last = segments.at(-1);
  const before = segments.at(-2);
  if (!trailing && last === 'config') return { kind: 'config', repo: segments.slice(0, -1) };
  if (trailing && isType(last)) return { kind: 'list', repo: segments.slice(0, -1), type: last };
  if (!trailing && last !== undefined && NAME.test(last) && isType(before)) {
    return { kind: 'object', repo: segments.slice(0, -2), type: before, name: last };
  }
  return { kind: 'repo', repo: segments };
}

/** The backend folder of a repository: `<prefix><repo path>/` (the prefix itself for '/'). */
export function repoPrefix(prefix: string, repo: string[]): string {
  return repo.length === 0 ? prefix : `${prefix}${repo.join('/')}/`;
}
