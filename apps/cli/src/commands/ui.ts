// `peerstash ui`: a one-time sign-in link for the running node's web console (printed, and with
// --open handed to the desktop's browser); `--revoke` ends every console session instead.

import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { ApiClient } from '../api-client.js';
import type { CliContext, GlobalArgs } from '../context.js';
import { writeJson, writeLine } from '../context.js';
import { resolveDataDir } from '../data-dir.js';
import { ApiError, CliError, UsageError } from '../errors.js';
import { EXIT } from '../exit-codes.js';

interface UiArgs extends GlobalArgs {
  open: boolean;
  revoke: boolean;
  origin?: string;
}

interface Issued {
  url: string;
  path: string;
  expiresAt: number;
}

/** The program that opens a URL in the desktop's browser, when this machine has one on PATH. */
export async function findOpener(path = process.env.PATH ?? ''): Promise<string | undefined> {
  const name = process.platform === 'darwin' ? 'open' : 'xdg-open';
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Starts the opener and does not wait for the browser: resolves once it ran, or why it could not. */
function launch(opener: string, url: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const child = spawn(opener, [url], { detached: true, stdio: 'ignore' });
    child.once('error', (err) => resolve(err.message));
    child.once('spawn', () => {
      child.unref();
      resolve(undefined);
    });
  });
}

/** `http://127.0.0.1:7400` from --origin: the address a tunnel or proxy shows the browser. */
function parseOrigin(text: string): string {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new UsageError(`bad --origin ${text}`, 'give a URL such as http://127.0.0.1:7400');
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.pathname !== '/' || u.search) {
    throw new UsageError(`bad --origin ${text}`, 'give scheme, host and port only');
  }
  return u.origin;
}

/** The console routes answer 404 on a node started with --no-ui. */
function consoleOff(err: unknown, client: ApiClient): unknown {
  if (err instanceof ApiError && err.status === 404) {
    return new CliError(
      'ERR_UI_OFF',
      EXIT.NOT_FOUND,
      `the node at ${client.address} serves no web console (it was started with --no-ui)`,
      'restart it without --no-ui',
      { cause: err },
    );
  }
  return err;
}

export function uiCommand(ctx: CliContext): CommandModule<GlobalArgs, UiArgs> {
  return {
    command: 'ui',
    describe: "Print a one-time sign-in link for the running node's web console",
    builder: (y: Argv<GlobalArgs>) =>
      y
        .option('open', {
          type: 'boolean',
          default: false,
          describe: 'Also open the link in the desktop browser (xdg-open)',
        })
        .option('revoke', {
          type: 'boolean',
          default: false,
          describe: 'End every console session and unused link instead',
        })
        .option('origin', {
          type: 'string',
          describe:
            'Origin the browser reaches the node at, e.g. the local end of an ssh -L tunnel',
          requiresArg: true,
        })
        .check((a) => {
          if (a.revoke && (a.open || a.origin !== undefined)) {
            throw new UsageError('--revoke takes no --open or --origin', 'give one or the other');
          }
          return true;
        })
        .example('$0 ui --open', 'sign in from this machine')
        .example(
          '$0 ui --origin http://127.0.0.1:7400',
          'in a session opened with ssh -L 7400:127.0.0.1:<api port> host: a link for your own browser',
        ) as unknown as Argv<UiArgs>,
    handler: async (argv) => {
      const origin = argv.origin === undefined ? undefined : parseOrigin(argv.origin);
      const dir = resolveDataDir(argv.dir);
      ctx.dir = dir;
      const client = await ApiClient.fromDataDir(dir, { idleTimeoutMs: argv.timeout * 1000 });
      const post = async <T>(path: string): Promise<T> => {
        const res = await client.request('POST', path);
        try {
          await client.expectOk(res);
        } catch (err) {
          throw consoleOff(err, client);
        }
        const chunks: Buffer[] = [];
        for await (const c of res) chunks.push(c as Buffer);
        return JSON.parse(Buffer.concat(chunks).toString('utf8')) as T;
      };

      if (argv.revoke) {
        const { sessions } = await post<{ sessions: number }>('/ui/revoke');
        if (argv.json) return writeJson({ sessions });
        writeLine(
          `ended ${sessions} console ${sessions === 1 ? 'session' : 'sessions'}; unused sign-in links no longer work`,
        );
        return;
      }

      const issued = await post<Issued>('/ui/sign-in-tokens');
      const url = origin ? `${origin}${issued.path}` : issued.url;
      if (argv.json) writeJson({ url, expiresAt: issued.expiresAt });
      else writeLine(url);
      const minutes = Math.max(1, Math.round((issued.expiresAt - Date.now()) / 60_000));
      if (!argv.json) {
        process.stderr.write(
          `the link signs in one browser, once, within ${minutes} min; \`peerstash ui --revoke\` ends every session\n`,
        );
      }
      if (!argv.open) return;
      const opener = await findOpener();
      const why = opener ? await launch(opener, url) : 'no xdg-open on PATH';
      if (why) process.stderr.write(`could not open a browser (${why}): open the link above\n`);
    },
  };
}
