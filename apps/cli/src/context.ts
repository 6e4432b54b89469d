// State shared between the command handlers and the top-level error handler of one run.
// Handlers record the data dir they used so an error line can name it in its hint.

export interface CliContext {
  dir?: string;
  verbose: boolean;
}

export interface GlobalArgs {
  dir?: string;
  json: boolean;
  verbose: boolean;
  /** Seconds a request to the node may go without progress. */
  timeout: number;
}

export function writeJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

export function writeLine(text: string): void {
  process.stdout.write(`${text}\n`);
}
