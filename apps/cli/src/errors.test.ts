import { describe, expect, it } from 'vitest';
import { ApiError, CliError, formatError, toCliError } from './errors.js';
import { EXIT } from './exit-codes.js';

const sysErr = (code: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`${code} happened`), { code, ...extra });

describe('toCliError', () => {
  it.each([
    [new ApiError(404, 'ERR_NOT_FOUND', 'no such key'), EXIT.NOT_FOUND],
    [new ApiError(500, 'ERR_INTEGRITY', 'bad tag'), EXIT.INTEGRITY],
    [new ApiError(401, 'ERR_AUTH', 'token'), EXIT.PERMISSION],
    [new ApiError(507, 'ERR_NO_SPACE', 'full'), EXIT.NO_SPACE],
    [new ApiError(400, 'ERR_INVALID_KEY', 'empty'), EXIT.USAGE],
    [
      Object.assign(new Error("'../x' has a '..' segment"), { code: 'ERR_INVALID_PATH' }),
      EXIT.USAGE,
    ],
    [new ApiError(504, 'ERR_TIMEOUT', 'slow'), EXIT.TIMEOUT],
    [new ApiError(500, 'ERR_SERVER', 'boom'), EXIT.GENERIC],
    [sysErr('ENOENT', { path: '/x' }), EXIT.NOT_FOUND],
    [sysErr('EACCES', { path: '/x' }), EXIT.PERMISSION],
    [sysErr('ENOSPC'), EXIT.NO_SPACE],
    [sysErr('EADDRINUSE', { address: '127.0.0.1', port: 7400 }), EXIT.PORT_IN_USE],
    [sysErr('ECONNREFUSED'), EXIT.NODE_NOT_RUNNING],
    [new Error('plain'), EXIT.GENERIC],
    ['a string', EXIT.GENERIC],
  ])('maps %s to exit %i', (err, exit) => {
    expect(toCliError(err).exitCode).toBe(exit);
  });

  it('finds a code deep in the cause chain', () => {
    const err = new Error('start failed', {
      cause: new Error('listen', { cause: sysErr('EADDRINUSE') }),
    });
    expect(toCliError(err)).toMatchObject({ code: 'EADDRINUSE', exitCode: EXIT.PORT_IN_USE });
  });

  it('keeps a CliError as it is', () => {
    const e = new CliError('ERR_X', EXIT.TIMEOUT, 'x');
    expect(toCliError(e)).toBe(e);
  });
});

describe('formatError', () => {
  it('is one line without --verbose, with the hint', () => {
    const line = formatError(new CliError('ERR_X', 1, 'it broke', 'do this'), false);
    expect(line).toBe('peerstash: it broke; do this');
    expect(line).not.toContain('\n');
  });

  it('never lets a key break the line or reach the terminal raw', () => {
    const line = formatError(new CliError('ERR_X', 4, 'no file "a\nb\u001b[2J"'), false);
    expect(line).toBe('peerstash: no file "a\\x0ab\\x1b[2J"');
  });

  it('adds stacks and causes with --verbose', () => {
    const e = toCliError(new Error('outer', { cause: new Error('inner') }));
    const text = formatError(e, true);
    expect(text.split('\n').length).toBeGreaterThan(3);
    expect(text).toContain('inner');
  });
});
