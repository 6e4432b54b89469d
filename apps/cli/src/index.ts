// Public surface of @peerstash/cli: the program (main, buildParser) and the pieces tests and
// tools reuse: the control-API client, the child-node runner, the exit codes and error mapping.

export { parseBootstrap, parseHostPort, parsePeerAddress } from './addr.js';
export type { DeleteResult, NodeStatus, PutResult } from './api-client.js';
export { ApiClient } from './api-client.js';
export type { StartNodeOptions } from './child-node.js';
export {
  BIN_PATH,
  NodeProcess,
  peerCount,
  startNode,
  stopChild,
  waitForPeers,
} from './child-node.js';
export { buildParser, main, VERSION } from './cli.js';
export { type DemoResult, runDemo } from './commands/demo.js';
export { type InitResult, initDataDir } from './commands/init.js';
export type { CliContext } from './context.js';
export { LAYOUT, resolveDataDir } from './data-dir.js';
export { ApiError, CliError, formatError, toCliError, UsageError } from './errors.js';
export { EXIT, type ExitCode } from './exit-codes.js';
export { readKeyFile } from './key-file.js';
export {
  type FileStat,
  type ListedFile,
  type ListPage,
  type ListQuery,
  listFiles,
  listPage,
  listPages,
  statFile,
} from './listing.js';
