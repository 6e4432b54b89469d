#!/usr/bin/env bash
# Installs the packed @peerstash/cas-store alone into empty projects, as a user does: the main entry
# must load with nothing else installed, and the README's blockstore example must run with only the
# subpath's peer dependencies (multiformats, interface-store) beside it. Exits non-zero on failure.
set -euo pipefail

pkg="$(cd "$(dirname "$0")/.." && pwd)"
root="$(cd "$pkg/../.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/cas-store-pack-check-XXXXXX")"
trap 'rm -rf "$work"' EXIT

step() { printf '== cas-store pack-check: %s\n' "$*"; }
fail() { printf 'cas-store pack-check: FAILED: %s\n' "$*" >&2; exit 1; }

step "build and pack"
(cd "$root" && pnpm exec turbo run build --filter=@peerstash/cas-store --output-logs=errors-only)
(cd "$pkg" && pnpm pack --pack-destination "$work" >/dev/null)
tgz="$(ls "$work"/peerstash-cas-store-*.tgz)"
list="$(tar tzf "$tgz")"
for want in package/dist/blockstore/index.js package/dist/blockstore/index.d.ts; do
  grep -qx "$want" <<<"$list" || fail "the tarball lacks $want"
done

# Same pinned pnpm as the repo, so corepack never goes looking for another one.
manager="$(node -p "require('$root/package.json').packageManager")"
# Writes package.json in the current folder; arguments are dependencies as name=spec.
project() {
  MANAGER="$manager" node --input-type=module -e '
    import { writeFileSync } from "node:fs";
    const dependencies = Object.fromEntries(process.argv.slice(1).map((d) => d.split(/=(.*)/s).slice(0, 2)));
    const pkg = { name: "cas-store-user", private: true, type: "module", packageManager: process.env.MANAGER, dependencies };
    writeFileSync("package.json", JSON.stringify(pkg, null, 2));
  ' -- "$@"
}

step "the main entry with nothing else installed"
mkdir -p "$work/core" && cd "$work/core"
project "@peerstash/cas-store=file:$tgz"
pnpm install --no-frozen-lockfile --prefer-offline --reporter=silent >/dev/null 2>&1 || fail "install of the tarball alone"
[ ! -e node_modules/multiformats ] || fail "the core pulled in multiformats"
node --input-type=module -e 'import { CasStore } from "@peerstash/cas-store"; new CasStore({ root: "x" });' \
  || fail "the main entry does not load alone"

step "the README's blockstore example, with the subpath's peer dependencies only"
mkdir -p "$work/blocks" && cd "$work/blocks"
project "@peerstash/cas-store=file:$tgz" "multiformats=14.0.5" "interface-store=8.0.0"
pnpm install --no-frozen-lockfile --prefer-offline --reporter=silent >/dev/null 2>&1 || fail "install with the peers"
README="$pkg/README.md" node --input-type=module -e '
  import { readFileSync, writeFileSync } from "node:fs";
  const text = readFileSync(process.env.README, "utf8");
  const m = /```js\n(\/\/ blockstore-example\.mjs[\s\S]*?)```/.exec(text);
  if (!m) throw new Error("no blockstore example in the README");
  writeFileSync("blockstore-example.mjs", m[1]);
'
out="$(node blockstore-example.mjs)" || fail "the README example failed"
printf '%s\n' "$out"
grep -q 'hello blocks true' <<<"$out" || fail "the example did not read its block back"
grep -q 'NotFoundError ERR_NOT_FOUND' <<<"$out" || fail "the example did not see NotFoundError"
step "OK"
