// Runs the real client programs (restic, rclone, aws, s3cmd, curl) as child processes with a
// clean environment, and fails loudly when one is missing rather than skipping.

import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const PREFERRED_DIRS = ['/usr/bin', '/bin', '/usr/local/bin'];

/**
 * The Debian-packaged client first (CI installs them with apt-get), so a shim earlier on PATH
 * (pyenv's aws v1, say) does not silently test another program.
 */
export function findClient(name: string): string {
  for (const dir of PREFERRED_DIRS) {
    try {
      accessSync(`${dir}/${name}`, constants.X_OK);
      return `${dir}/${name}`;
    } catch {}
  }
  throw new Error(`${name} is not installed: apt-get install -y restic rclone awscli s3cmd curl`);
}

export function run(
  cmd: string,
  args: string[],
  options: { env?: Record<string, string>; cwd?: string; input?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(findClient(cmd), args, {
      cwd: options.cwd,
      env: {
        PATH: '/usr/bin:/bin',
        HOME: process.env.HOME ?? '/tmp',
        LANG: 'C.UTF-8',
        ...options.env,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => {
      stdout += c;
    });
    child.stderr.on('data', (c) => {
      stderr += c;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    // A client that exits without reading its stdin must not crash the test run.
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
}

/** Like run, but throws with the output when the exit code is not 0. */
export async function ok(
  cmd: string,
  args: string[],
  options?: Parameters<typeof run>[2],
): Promise<RunResult> {
  const started = Date.now();
  const r = await run(cmd, args, options);
  if (process.env.GATEWAY_TEST_TRACE) {
    console.error(
      `${((Date.now() - started) / 1000).toFixed(1)}s ${cmd} ${args.join(' ').slice(0, 160)}`,
    );
  }
  if (r.code !== 0) {
    throw new Error(
      `${cmd} ${args.join(' ')} exited ${r.code}\n${r.stderr}\n${r.stdout}`.slice(0, 8000),
    );
  }
  return r;
}

/** Environment for Debian's aws-cli v2 against a gateway: path-style, us-east-1, no other config. */
export async function awsEnv(
  dir: string,
  gw: { accessKeyId: string; secretAccessKey: string },
  extraConfig = '',
): Promise<Record<string, string>> {
  const config = join(dir, 'aws-config');
  await writeFile(
    config,
    `[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n${extraConfig}`,
  );
  return {
    AWS_ACCESS_KEY_ID: gw.accessKeyId,
    AWS_SECRET_ACCESS_KEY: gw.secretAccessKey,
    AWS_CONFIG_FILE: config,
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
  };
}
