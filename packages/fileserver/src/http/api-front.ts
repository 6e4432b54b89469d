// What a front end mounted on the node's API listener receives and gives back: the seam through
// which the CLI adds the web console without this package knowing of it.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../logger.js';
import type { ApiServer, FrontHandler } from './api-server.js';

/** What the node tells a front end when its API listener is built, before it listens. */
export interface ApiFrontContext {
  /** The API's bearer token (the data dir's api-token). */
  token: string;
  dataDir: string;
  /** The host names the listener's guard lets through besides IP addresses and localhost. */
  allowedHosts: readonly string[];
  /** The API's routes behind its bearer check, in-process (no second connection, no second guard). */
  dispatch: (req: IncomingMessage, res: ServerResponse) => void;
  logger: Logger;
}

export interface ApiFront {
  /** Offered every request before the bearer check; true when it took the request. */
  handle: FrontHandler;
  /** Called when the node stops, after the listener closed. */
  close?(): void | Promise<void>;
}

/** Builds a front end for one node (called once per start, with that node's context). */
export type ApiFrontFactory = (ctx: ApiFrontContext) => ApiFront | Promise<ApiFront>;

/**
 * Makes each front end in order and offers it the API's requests, pushing each onto `into` as
 * soon as it exists, so a start that fails part way still closes the ones it made.
 */
export async function addFronts(
  api: ApiServer,
  factories: readonly ApiFrontFactory[],
  ctx: Omit<ApiFrontContext, 'dispatch'>,
  into: ApiFront[],
): Promise<void> {
  for (const make of factories) {
    const front = await make({ ...ctx, dispatch: api.dispatch });
    into.push(front);
    api.front(front.handle);
  }
}

/** Closes every front end; one that fails to close is reported and the rest still close. */
export async function closeFronts(
  fronts: readonly ApiFront[],
  failed: (err: unknown) => void,
): Promise<void> {
  for (const f of fronts) {
    try {
      await f.close?.();
    } catch (err) {
      failed(err);
    }
  }
}
