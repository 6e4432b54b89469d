// Folder paths of the files page: keys with '/' are paths, a folder is a prefix ending in '/'.

export interface Crumb {
  label: string;
  prefix: string;
}

/** 'a/b/' → All files › a › b, each with the prefix it opens. */
export function breadcrumbs(prefix: string): Crumb[] {
  const crumbs: Crumb[] = [{ label: 'All files', prefix: '' }];
  let at = 0;
  while (at < prefix.length) {
    const slash = prefix.indexOf('/', at);
    if (slash === -1) break;
    crumbs.push({
      label: prefix.slice(at, slash) || '(empty)',
      prefix: prefix.slice(0, slash + 1),
    });
    at = slash + 1;
  }
  return crumbs;
}

/** The last segment of a key or folder prefix, as shown in a listing. */
export function baseName(keyOrPrefix: string): string {
  const trimmed = keyOrPrefix.endsWith('/') ? keyOrPrefix.slice(0, -1) : keyOrPrefix;
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

/** The key an upload gets: the open folder, then the file's path inside what was picked. */
export function uploadKey(prefix: string, relativePath: string): string {
  const rel = relativePath.replace(/^\/+/, '');
  return `${prefix}${rel}`;
}
