# Shared by pack-check.sh and install-check.sh (sourced, with NAME set): a temp work dir removed on
# exit, and an installed `peerstash` ($bin) taken through init, serve, put, get and a clean stop.

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

stop_node() {
  step "stop the node (SIGTERM must exit 0)"
  kill -TERM "$node_pid"
  local rc=0
  wait "$node_pid" || rc=$?
  node_pid=""
  [ "$rc" -eq 0 ] || fail "serve exited $rc on SIGTERM"
  [ ! -e "$work/node/api.json" ] || fail "api.json left behind after stop"
}
