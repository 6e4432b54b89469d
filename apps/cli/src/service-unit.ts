// The systemd unit `peerstash service print-unit` prints: the node as a dedicated user, its data
// dir the only place it may write, restarted on failure, and sandboxed as far as a node allows.

import { NODE_ENV_VARS, NODE_FLAGS } from '@peerstash/fileserver/node-flags';

export interface UnitOptions {
  user: string;
  dataDir: string;
  /** Absolute paths: the node binary and the peerstash program it runs. */
  node: string;
  program: string;
  bootstrap: readonly string[];
  version: string;
}

/** One argument of ExecStart, quoted for systemd: specifiers (%) and variables ($) taken literally. */
export function systemdArg(arg: string): string {
  const lit = arg.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  return /^[\w@%+=:,./-]+$/.test(lit) ? lit : `"${lit.replace(/[\\"]/g, '\\$&')}"`;
}

/** Under a home dir ProtectHome=yes would hide the data dir: mount only it into an empty /home. */
function underHome(path: string): boolean {
  return /^\/(home|root|run\/user)(\/|$)/.test(path);
}

export function renderUnit(o: UnitOptions): string {
  const exec = [
    o.node,
    // heap sizing is fixed at start: the unit passes what the bin's shebang would (see NODE_FLAGS)
    ...NODE_FLAGS,
    o.program,
    'serve',
    '--dir',
    o.dataDir,
    ...o.bootstrap.flatMap((b) => ['--bootstrap', b]),
  ]
    .map(systemdArg)
    .join(' ');
  const home = underHome(o.dataDir)
    ? ['ProtectHome=tmpfs', `BindPaths=${systemdArg(o.dataDir)}`]
    : ['ProtectHome=yes'];
  return [
    `# peerstash node, from "peerstash service print-unit" (peerstash ${o.version}).`,
    '# Install it as /etc/systemd/system/peerstash.service, then: systemctl enable --now peerstash',
    '[Unit]',
    `Description=peerstash node (${o.dataDir})`,
    'After=network-online.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `User=${o.user}`,
    `Group=${o.user}`,
    // glibc's malloc tuning, read at start only (see NODE_ENV_VARS)
    ...Object.entries(NODE_ENV_VARS).map(([k, v]) => `Environment=${systemdArg(`${k}=${v}`)}`),
    `ExecStart=${exec}`,
    // serve stops cleanly on SIGTERM (its own limit is 15 s) and ignores SIGHUP; logs go to journald
    'Restart=on-failure',
    'RestartSec=5',
    'TimeoutStopSec=30',
    'UMask=0077',
    'LimitNOFILE=65536',
    'NoNewPrivileges=yes',
    'ProtectSystem=strict',
    `ReadWritePaths=${systemdArg(o.dataDir)}`,
    ...home,
    'PrivateTmp=yes',
    'PrivateDevices=yes',
    'ProtectKernelTunables=yes',
    'ProtectKernelModules=yes',
    'ProtectKernelLogs=yes',
    'ProtectControlGroups=yes',
    'ProtectClock=yes',
    'ProtectHostname=yes',
    'RestrictNamespaces=yes',
    'RestrictRealtime=yes',
    'RestrictSUIDSGID=yes',
    'LockPersonality=yes',
    'RemoveIPC=yes',
    'CapabilityBoundingSet=',
    'AmbientCapabilities=',
    'SystemCallArchitectures=native',
    'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}
