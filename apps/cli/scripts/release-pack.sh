#!/usr/bin/env bash
# Builds and packs every public workspace package into installable tarballs in one folder
# (`pnpm release:pack` writes dist-release/): `pnpm pack` rewrites each `workspace:*` dependency to
# the version it names, so `npm i -g ./dist-release/*.tgz` installs them all together from disk.
# Checks each tarball (build, types, README, no tests, no workspace: versions). Usage: DEST.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
[ $# -eq 1 ] || { echo "usage: release-pack.sh DEST" >&2; exit 2; }
mkdir -p "$1"
dest="$(cd "$1" && pwd)"

step() { printf '== release-pack: %s\n' "$*"; }
fail() { printf 'release-pack: FAILED: %s\n' "$*" >&2; exit 1; }

export TURBO_TELEMETRY_DISABLED=1 COREPACK_ENABLE_DOWNLOAD_PROMPT=0

step "build the CLI and everything it depends on"
(cd "$root" && pnpm exec turbo run build --filter=@peerstash/cli... --output-logs=errors-only)

step "every unreleased public package has a changeset for its first release"
for pkg in "$root"/packages/*/ "$root"/apps/*/; do
  [ -f "$pkg/package.json" ] || continue
  read -r name private version < <(node -p "const p = require('$pkg/package.json'); [p.name, Boolean(p.private), p.version].join(' ')")
  [ "$private" = "true" ] && continue
  [ "$version" = "0.0.0" ] || continue
  grep -qsE "^[\"']$name[\"']:" "$root"/.changeset/*.md || fail "$name has no changeset (pnpm changeset)"
done

step "pack every public workspace package into $dest"
# Old tarballs would be installed beside the new ones.
rm -f "$dest"/*.tgz
for pkg in "$root"/packages/*/ "$root"/apps/*/; do
  [ -f "$pkg/package.json" ] || continue
  if [ "$(node -p "Boolean(require('$pkg/package.json').private)")" = "true" ]; then continue; fi
  (cd "$pkg" && pnpm pack --pack-destination "$dest" >/dev/null)
done
ls -1 "$dest"

step "check each tarball holds its build, types and README, and no tests"
for tgz in "$dest"/*.tgz; do
  list="$(tar tzf "$tgz")"
  for want in package/package.json package/README.md package/dist/index.js package/dist/index.d.ts; do
    grep -qx "$want" <<<"$list" || fail "$(basename "$tgz") lacks $want"
  done
  if grep -q '\.test\.' <<<"$list"; then fail "$(basename "$tgz") ships test files"; fi
  # the console's built app: an installed node serves it from here
  if [[ "$(basename "$tgz")" == peerstash-web-* ]]; then
    grep -qx 'package/dist/ui/index.html' <<<"$list" || fail "$(basename "$tgz") lacks the built console (dist/ui)"
    grep -qE '^package/dist/ui/assets/.+\.js$' <<<"$list" || fail "$(basename "$tgz") lacks the console's scripts"
  fi
  if tar xzOf "$tgz" package/package.json | grep -q 'workspace:'; then
    fail "$(basename "$tgz") still names workspace: versions"
  fi
done
step "OK: install them together with: npm i -g $dest/*.tgz"
