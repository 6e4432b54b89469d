// `peerstash s3 keys add|list|revoke`: the access keys of the S3 and restic gateways, kept in the
// data dir (mode 0600); a running node sees a change at its next request.

import type { Argv, CommandModule } from 'yargs';
import type { CliContext, GlobalArgs } from '../context.js';
import { writeJson, writeLine } from '../context.js';
import { assertInitialised, resolveDataDir } from '../data-dir.js';
import { CliError, UsageError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { keyStorePath } from '../gateway/key-file.js';

interface AddArgs extends GlobalArgs {
  bucket?: string;
  readOnly: boolean;
}

interface RevokeArgs extends GlobalArgs {
  id: string;
}

async function openStore(ctx: CliContext, dirArg: string | undefined) {
  const dir = resolveDataDir(dirArg);
  ctx.dir = dir;
  await assertInitialised(dir);
  const { KeyStore } = await import('@peerstash/gateway');
  return new KeyStore(keyStorePath(dir));
}

/** A gateway error with a code of its own (a bad bucket name, an unknown key) as a CLI error. */
function keyError(err: unknown): unknown {
  const code = (err as { code?: string } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  if (code === 'ERR_INVALID_ARGUMENT') return new UsageError(message);
  if (code === 'ERR_NOT_FOUND') {
    return new CliError(code, EXIT.NOT_FOUND, message, 'see "peerstash s3 keys list"');
  }
  return err;
}

function addCommand(ctx: CliContext): CommandModule<GlobalArgs, AddArgs> {
  return {
    command: 'add',
    describe: 'Make an access key (prints its id and secret once)',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .option('bucket', {
          type: 'string',
          describe: 'Only this bucket (S3) or restic repository',
          requiresArg: true,
        })
        .option('read-only', {
          type: 'boolean',
          default: false,
          describe: 'Reads only',
        }) as unknown as Argv<AddArgs>,
    handler: async (argv) => {
      const store = await openStore(ctx, argv.dir);
      const key = await store
        .add({
          ...(argv.bucket !== undefined ? { bucket: argv.bucket } : {}),
          readOnly: argv.readOnly,
        })
        .catch((err: unknown) => {
          throw keyError(err);
        });
      if (argv.json) {
        return writeJson({ accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey });
      }
      writeLine(`access key id:     ${key.accessKeyId}`);
      writeLine(`secret access key: ${key.secretAccessKey}`);
    },
  };
}

function listCommand(ctx: CliContext): CommandModule<GlobalArgs, GlobalArgs> {
  return {
    command: 'list',
    describe: 'List the access keys (never their secrets)',
    handler: async (argv) => {
      const keys = await (await openStore(ctx, argv.dir)).list();
      if (argv.json) return writeJson(keys);
      if (keys.length === 0) return writeLine('no access keys (make one: peerstash s3 keys add)');
      for (const k of keys) {
        const scope = k.bucket ? `bucket ${k.bucket}` : 'every bucket';
        writeLine(`${k.accessKeyId}  ${scope}  ${k.readOnly ? 'read-only' : 'read-write'}`);
      }
    },
  };
}

function revokeCommand(ctx: CliContext): CommandModule<GlobalArgs, RevokeArgs> {
  return {
    command: 'revoke <id>',
    describe: 'Revoke an access key (a running node refuses it at once)',
    builder: (y: Argv<GlobalArgs>) =>
      y.positional('id', { type: 'string', demandOption: true }) as unknown as Argv<RevokeArgs>,
    handler: async (argv) => {
      const store = await openStore(ctx, argv.dir);
      await store.revoke(argv.id).catch((err: unknown) => {
        throw keyError(err);
      });
      if (argv.json) return writeJson({ revoked: argv.id });
      writeLine(`revoked ${argv.id}`);
    },
  };
}

export function s3Command(ctx: CliContext): CommandModule<GlobalArgs, GlobalArgs> {
  return {
    command: 's3',
    describe: 'The S3 and restic gateways (s3 keys add|list|revoke)',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .command({
          command: 'keys',
          describe: 'Access keys of the S3 and restic gateways',
          builder: (k: Argv<GlobalArgs>) =>
            k
              .command(addCommand(ctx))
              .command(listCommand(ctx))
              .command(revokeCommand(ctx))
              .demandCommand(1, 'give a keys command: add, list or revoke'),
          handler: () => {},
        })
        .demandCommand(1, 'give an s3 command: keys'),
    handler: () => {},
  };
}
