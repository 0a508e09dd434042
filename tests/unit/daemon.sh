# Sourced by tests that start one cloud daemon on 127.0.0.1 (t-notify.sh,
# t-syslog.sh): NAME is the test's name. Makes $tmp (removed at exit)
# with a CA and node A (pki/), picks a free TCP port ($PORT) and writes
# $tmp/a.cfg: node A listening there, its gate socket $GATE.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
fail() { echo "$NAME: FAIL: $*"; exit 1; }
say() { echo "$NAME: $*"; }
CLOUD=$top_builddir/cloud/cloud
[ -x "$CLOUD" ] || { say "$CLOUD not built"; exit 99; }
command -v python3 >/dev/null || { say "no python3"; exit 77; }
command -v certtool >/dev/null || { say "no certtool (gnutls-bin)"; exit 77; }
tmp=$(mktemp -d "/tmp/$NAME.XXXXXX") || exit 99
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
cert=$top_srcdir/tools/cloud-cert
{ "$cert" ca "$tmp/pki" && "$cert" node "$tmp/pki" A; } >/dev/null 2>&1 ||
	fail "cloud-cert"
PORT=$(python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])') || exit 99
GATE=$tmp/gate.sock
export PORT GATE
cat >"$tmp/a.cfg" <<CFG
key $tmp/pki/A.key
cert $tmp/pki/A.crt
ca $tmp/pki/ca.crt
listen 127.0.0.1 $PORT
gate $GATE
loglevel 2
CFG
