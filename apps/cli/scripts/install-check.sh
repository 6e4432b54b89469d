#!/usr/bin/env bash
# Follows the README's install section literally: its build block in this repo (`pnpm
# release:pack`), then its machine block on a "machine with only Node 20 and npm": a copy of
# dist-release/, an empty HOME and a temp npm prefix (nothing lands in this machine's global
# prefix). Then the installed `peerstash` runs --version, init, serve, put and get, the node's
# /metrics passes `promtool check metrics`, and its service unit passes `systemd-analyze verify`.
set -euo pipefail

NAME=install-check
# shellcheck source=node-check.sh
source "$(dirname "$0")/node-check.sh"

# The sh block that follows the line "<!-- $1 -->" in the README.
readme_block() {
  awk -v mark="<!-- $1 -->" '
    $0 == mark { found = 1; next }
    found && /^```/ { if (inside) exit; inside = 1; next }
    inside { print }
  ' "$root/README.md"
}

build="$(readme_block install:build)"
machine="$(readme_block install:machine)"
[ -n "$build" ] || fail "README has no <!-- install:build --> block"
[ -n "$machine" ] || fail "README has no <!-- install:machine --> block"

step "README, on the machine with the repo:"
printf '%s\n' "$build"
(cd "$root" && bash -euo pipefail -c "$build")
ls "$root"/dist-release/*.tgz >/dev/null || fail "the build block wrote no dist-release/*.tgz"

step "README, on a machine with only Node 20 and npm (empty HOME, temp npm prefix):"
mkdir -p "$work/machine" "$work/home" "$work/prefix"
cp -r "$root/dist-release" "$work/machine/"
printf '%s\n' "$machine"
# Nothing of this machine's npm setup (nor of a pnpm running this script) reaches that one.
while read -r var; do unset "$var"; done < <(env | grep -io '^npm_config_[a-z0-9_-]*' || true)
export HOME="$work/home" npm_config_prefix="$work/prefix" npm_config_update_notifier=false
export PATH="$work/prefix/bin:$PATH"
unset PEERSTASH_DIR
(cd "$work/machine" && bash -euo pipefail -c "$machine") >"$work/install.log" 2>&1 ||
  { cat "$work/install.log" >&2; fail "the machine block"; }
cat "$work/install.log"

bin="$(command -v peerstash)"
[ "$bin" = "$work/prefix/bin/peerstash" ] || fail "peerstash on PATH is $bin, not the one just installed"
want="$(node -p "require('$root/apps/cli/package.json').version")"
[ "$("$bin" --version)" = "$want" ] || fail "peerstash --version is not $want"

step "every @peerstash package came from the tarballs, none from the registry"
npm ls -g --all >/dev/null || fail "npm ls -g reports a broken tree"
lib="$work/prefix/lib/node_modules"
# A @peerstash folder nested inside a package would be a second copy fetched for a dependent.
nested="$(find "$lib" -mindepth 2 -type d -path '*/node_modules/@peerstash' -print)"
[ -z "$nested" ] || fail "a @peerstash package was installed twice: $nested"
LIB="$lib" TARBALLS="$work/machine/dist-release" node --input-type=module -e '
  import { readdirSync, readFileSync } from "node:fs";
  import { createRequire } from "node:module";
  const { LIB: lib, TARBALLS: dir } = process.env;
  const tarballs = readdirSync(dir).filter((f) => f.endsWith(".tgz")).sort();
  const installed = readdirSync(`${lib}/@peerstash`).map((n) => {
    const pkg = JSON.parse(readFileSync(`${lib}/@peerstash/${n}/package.json`, "utf8"));
    return `${pkg.name.slice(1).replace("/", "-")}-${pkg.version}.tgz`;
  });
  if (installed.sort().join() !== tarballs.join()) throw new Error(`installed ${installed}`);
  // the CLI and the node it runs load the very packages installed from the tarballs
  for (const [from, dep] of [["cli", "@peerstash/fileserver"], ["fileserver", "@peerstash/cas-store"]]) {
    const at = createRequire(`${lib}/@peerstash/${from}/package.json`).resolve(`${dep}/package.json`);
    if (at !== `${lib}/${dep}/package.json`) throw new Error(`@peerstash/${from} loads ${dep} from ${at}`);
  }
  console.log(`${installed.length} packages, each from its tarball: ${installed.join(", ")}`);
'

start_node
put_and_get
console_check

step "promtool check metrics on the live node's /metrics"
command -v promtool >/dev/null || fail "promtool is not installed (Debian: apt-get install prometheus)"
DIR="$work/node" node --input-type=module -e '
  import { readFileSync } from "node:fs";
  const dir = process.env.DIR;
  const { url } = JSON.parse(readFileSync(`${dir}/api.json`, "utf8"));
  const token = readFileSync(`${dir}/api-token`, "utf8").trim();
  const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`GET /metrics: ${res.status}`);
  process.stdout.write(await res.text());
' >"$work/metrics.txt"
promtool check metrics <"$work/metrics.txt" || fail "promtool check metrics"
echo "$(grep -c '^# TYPE' "$work/metrics.txt") metrics, promtool is content"

step "the service unit names the installed bin and passes systemd-analyze verify"
"$bin" service print-unit --data-dir "$work/node" >"$work/peerstash.service"
# The unit starts node with the heap flags the bin's shebang passes (NODE_FLAGS, see DESIGN.md).
grep -qx "ExecStart=$(node -p process.execPath) --initial-old-space-size=64 --max-semi-space-size=4 $bin serve --dir $work/node" "$work/peerstash.service" ||
  { grep ExecStart "$work/peerstash.service" >&2; fail "ExecStart does not run the installed bin"; }
command -v systemd-analyze >/dev/null || fail "systemd-analyze is not installed (Debian: systemd)"
out="$(systemd-analyze verify "$work/peerstash.service" 2>&1)" || fail "systemd-analyze: $out"
[ -z "$out" ] || fail "systemd-analyze: $out"

stop_node
step "OK"
