#!/usr/bin/env bash
# Installs peerstash into a project the way a pnpm user does: the tarballs of release-pack.sh, the
# CLI's with the packed @peerstash/* tarballs as its dependencies, into an empty temp project; then
# `peerstash --help`, init a node, serve it, put and get a file. Exits non-zero on failure.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/peerstash-pack-check-XXXXXX")"
node_pid=""

cleanup() {
  local rc=$?
  if [ -n "$node_pid" ] && kill -0 "$node_pid" 2>/dev/null; then
    kill -TERM "$node_pid" 2>/dev/null || true
    wait "$node_pid" 2>/dev/null || true
  fi
  if [ "$rc" -ne 0 ] && [ -f "$work/serve.log" ]; then
    echo "-- last lines of the node's log:" >&2
    tail -n 20 "$work/serve.log" >&2 || true
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { printf '== pack-check: %s\n' "$*"; }
fail() { printf 'pack-check: FAILED: %s\n' "$*" >&2; exit 1; }

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

step "init a node and serve it"
"$bin" init --dir "$work/node" --listen 127.0.0.1:0 >/dev/null
"$bin" serve --dir "$work/node" --api-port 0 >"$work/serve.log" 2>&1 &
node_pid=$!
for _ in $(seq 1 300); do
  if "$bin" status --dir "$work/node" >/dev/null 2>&1; then break; fi
  kill -0 "$node_pid" 2>/dev/null || fail "the node exited at start"
  sleep 0.1
done
"$bin" status --dir "$work/node" || fail "the node never answered"

step "put and get a file"
head -c 3000000 /dev/urandom >"$work/in.bin"
"$bin" put "$work/in.bin" --key pack-check.bin --dir "$work/node"
"$bin" get pack-check.bin -o "$work/out.bin" --dir "$work/node"
cmp "$work/in.bin" "$work/out.bin" || fail "the file came back different"
"$bin" ls --dir "$work/node" | grep -q pack-check.bin || fail "ls does not list the file"

step "stop the node (SIGTERM must exit 0)"
kill -TERM "$node_pid"
rc=0
wait "$node_pid" || rc=$?
node_pid=""
[ "$rc" -eq 0 ] || fail "serve exited $rc on SIGTERM"
[ ! -e "$work/node/api.json" ] || fail "api.json left behind after stop"

step "peerstash demo from the installed package"
"$bin" demo --size 1MiB | tail -n 1

step "OK"
