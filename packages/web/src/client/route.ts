// The address-bar state of the app: #/files/<folder prefix> or #/cluster, so the back button,
// reloads and bookmarks work without the server knowing the app's pages.

export type Route = { page: 'files'; prefix: string } | { page: 'cluster' };

export function parseRoute(hash: string): Route {
  const h = hash.replace(/^#/, '');
  if (h === '/cluster') return { page: 'cluster' };
  if (h.startsWith('/files/')) {
    try {
      return { page: 'files', prefix: decodeURIComponent(h.slice('/files/'.length)) };
    } catch {
      return { page: 'files', prefix: '' };
    }
  }
  return { page: 'files', prefix: '' };
}

export function routeHash(route: Route): string {
  return route.page === 'cluster' ? '#/cluster' : `#/files/${encodeURIComponent(route.prefix)}`;
}
