#!/usr/bin/env bash
# Installs peerstash into a project the way a pnpm user does: the tarballs of release-pack.sh, the
# CLI's with the packed @peerstash/* tarballs as its dependencies, into an empty temp project; then
# `peerstash --help`, init a node, serve it, put and get a file, sign in to its web console. Exits non-zero on failure.
set -euo pipefail

NAME=pack-check
# shellcheck source=node-check.sh
source "$(dirname "$0")/node-check.sh"

export TURBO_TELEMETRY_DISABLED=1 COREPACK_ENABLE_DOWNLOAD_PROMPT=0

bash "$here/release-pack.sh" "$work/tarballs"

step "install the CLI tarball into an empty project"
mkdir -p "$work/app"
(cd "$work/app" && ROOT="$root" TARBALLS="$work/tarballs" node --input-type=module -e '
  import { readdirSync, readFileSync, writeFileSync } from "node:fs";
  const dir = process.env.TARBALLS;
  const files = readdirSync(dir).filter((f) => f.endsWith(".tgz"));
  const byName = {};
  for (const f of files) {
    const m = /^peerstash-(.+)-\d+\.\d+\.\d+.*\.tgz$/.exec(f);
    if (m) byName[`@peerstash/${m[1]}`] = `file:${dir}/${f}`;
  }
  if (!byName["@peerstash/cli"]) throw new Error("no CLI tarball");
  // Keep the root pins for third-party packages (for example cbor-extract).
  const rootPkg = JSON.parse(readFileSync(`${process.env.ROOT}/package.json`, "utf8"));
  const rootPnpm = rootPkg.pnpm ?? {};
  const pkg = {
    name: "peerstash-pack-check",
    private: true,
    // The same pinned pnpm as the repo, so corepack never goes looking for another one.
    packageManager: rootPkg.packageManager,
    dependencies: { "@peerstash/cli": byName["@peerstash/cli"] },
    pnpm: {
      overrides: { ...(rootPnpm.overrides ?? {}), ...byName },
      onlyBuiltDependencies: rootPnpm.onlyBuiltDependencies ?? [],
    },
  };
  writeFileSync("package.json", JSON.stringify(pkg, null, 2));
')
(cd "$work/app" && pnpm install --no-frozen-lockfile --prefer-offline --reporter=append-only >"$work/install.log" 2>&1) \
  || { cat "$work/install.log" >&2; fail "pnpm install of the packed CLI"; }
bin="$work/app/node_modules/.bin/peerstash"
[ -x "$bin" ] || fail "no peerstash bin after install"

step "peerstash --help"
"$bin" --help | grep -q 'peerstash serve' || fail "--help does not list serve"
"$bin" --version

start_node
"$bin" status --dir "$work/node"
put_and_get
console_check
stop_node

step "peerstash demo from the installed package"
"$bin" demo --size 1MiB | tail -n 1

step "OK"
