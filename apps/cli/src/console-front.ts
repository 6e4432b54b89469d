// The web console (@peerstash/web) as a front end of the node's API listener: `peerstash serve`
// adds it unless --no-ui; it reaches the API in-process, so the browser never holds the token.

import type { ApiFrontFactory } from '@peerstash/fileserver';

/** Loaded when serve starts, not at the top: the client commands start without the web package. */
export async function consoleFront(): Promise<ApiFrontFactory> {
  const { createConsole } = await import('@peerstash/web');
  return (ctx) => {
    const web = createConsole({
      apiToken: ctx.token,
      upstream: ctx.dispatch,
      dataDir: ctx.dataDir,
      allowedHosts: [...ctx.allowedHosts],
      logger: ctx.logger,
    });
    return { handle: web.handle, close: () => web.close() };
  };
}
