# Shared by pack-check.sh and install-check.sh (sourced, with NAME set): a temp work dir removed on
# exit, and an installed `peerstash` ($bin) taken through init, serve, put, get, the web console
# and a clean stop.

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/peerstash-$NAME-XXXXXX")"
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

step() { printf '== %s: %s\n' "$NAME" "$*"; }
fail() { printf '%s: FAILED: %s\n' "$NAME" "$*" >&2; exit 1; }

# A node in $work/node, served in the background until stop_node.
start_node() {
  step "init a node and serve it"
  "$bin" init --dir "$work/node" --listen 127.0.0.1:0 >/dev/null
  "$bin" serve --dir "$work/node" --api-port 0 >"$work/serve.log" 2>&1 &
  node_pid=$!
  for _ in $(seq 1 300); do
    if "$bin" status --dir "$work/node" >/dev/null 2>&1; then break; fi
    kill -0 "$node_pid" 2>/dev/null || fail "the node exited at start"
    sleep 0.1
  done
  "$bin" status --dir "$work/node" >/dev/null || fail "the node never answered"
}

put_and_get() {
  step "put and get a file"
  head -c 3000000 /dev/urandom >"$work/in.bin"
  "$bin" put "$work/in.bin" --key "$NAME.bin" --dir "$work/node"
  "$bin" get "$NAME.bin" -o "$work/out.bin" --dir "$work/node"
  cmp "$work/in.bin" "$work/out.bin" || fail "the file came back different"
  "$bin" ls --dir "$work/node" | grep -q "$NAME.bin" || fail "ls does not list the file"
}

# The console the installed node serves: `peerstash ui`'s link signs in (303 + cookie), and the page
# and every script and style it names come from the installed @peerstash/web's dist/ui.
console_check() {
  step "web console: sign in with the link peerstash ui prints, load the page and its assets"
  local url origin cookie page
  url="$("$bin" ui --dir "$work/node" 2>/dev/null)" || fail "peerstash ui failed"
  origin="${url%%/ui/*}"
  curl -s -o /dev/null -D "$work/sign-in.head" "$url" || fail "the sign-in link did not answer"
  grep -qi '^HTTP/1.1 303' "$work/sign-in.head" || fail "the sign-in link did not redirect: $(head -1 "$work/sign-in.head")"
  cookie="$(grep -i '^set-cookie:' "$work/sign-in.head" | sed -E 's/^[^:]+: *([^;]+);.*/\1/' | tr -d '\r')"
  [ -n "$cookie" ] || fail "no session cookie after sign-in"
  page="$(curl -sf -H "cookie: $cookie" "$origin/ui/")" || fail "GET /ui/ failed"
  grep -q '<title>peerstash console</title>' <<<"$page" || fail "/ui/ is not the console page"
  local assets
  assets="$(grep -oE '/ui/assets/[^"]+\.(js|css)' <<<"$page" | sort -u)"
  [ -n "$assets" ] || fail "the console page names no assets"
  for a in $assets; do
    curl -sf -o /dev/null "$origin$a" || fail "asset $a not served"
  done
  curl -sf -H "cookie: $cookie" "$origin/ui/api/v1/status" | grep -q '"nodeId"' \
    || fail "the console's API pass-through did not answer"
  "$bin" ui --revoke --dir "$work/node" | grep -q '^ended 1 console session' || fail "ui --revoke"
}

stop_node() {
  step "stop the node (SIGTERM must exit 0)"
  kill -TERM "$node_pid"
  local rc=0
  wait "$node_pid" || rc=$?
  node_pid=""
  [ "$rc" -eq 0 ] || fail "serve exited $rc on SIGTERM"
  [ ! -e "$work/node/api.json" ] || fail "api.json left behind after stop"
}
