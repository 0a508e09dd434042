#!/bin/sh
# What a new user reads when the configuration is wrong: golden files.
# Each tests/unit/errors/PROG-CASE.cfg holds one mistake (its first line
# says which); PROG (cloud, ether, stunproxy) is started on it in a
# temporary directory holding a CA and nodes A and B (pki/), and its
# stderr, the temporary path replaced by TMP and the port of a socket this
# test holds by PORT, then "exit=STATUS", must be PROG-CASE.out exactly:
# the file, line and option, the file it could not use and why, an
# "error:" label, and the last line "PROG: error: ...; exiting".
#
#   tmp/ pki/{ca,A,B}.{crt,key}   CASE.cfg (@PORT@ -> the held port)
#        base.cfg                 -> PROG -@include CASE.cfg 2>out
#
# MAKE_GOLDEN=1 writes the .out files instead of comparing.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
fail() { echo "t-start-errors: FAIL: $*"; exit 1; }
say() { echo "t-start-errors: $*"; }
dir=$top_srcdir/tests/unit/errors
CLOUD_GRANTS=$top_builddir/tools/cloud-grants
export CLOUD_GRANTS
for p in cloud/cloud ether/ether stunproxy/stunproxy; do
	[ -x "$top_builddir/$p" ] || { say "$p not built"; exit 99; }
done
command -v python3 >/dev/null || { say "no python3"; exit 77; }
tmp=$(mktemp -d /tmp/start-errors.XXXXXX) || exit 99
holder=
cleanup() {
	[ -z "$holder" ] || kill "$holder" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

cert=$top_srcdir/tools/cloud-cert
"$cert" ca "$tmp/pki" >/dev/null 2>&1 || fail "cloud-cert ca"
for n in A B; do
	"$cert" node "$tmp/pki" $n >/dev/null 2>&1 || fail "cloud-cert node $n"
done
cp "$dir/base.cfg" "$tmp/" || exit 99

# A TCP port in use on 127.0.0.1, held by a child until the end.
python3 -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
print(s.getsockname()[1], flush=True)
time.sleep(60)' >"$tmp/port" &
holder=$!
i=0
while [ ! -s "$tmp/port" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
port=$(cat "$tmp/port")
[ -n "$port" ] || fail "no port held"

n=0
bad=0
for cfg in "$dir"/*-*.cfg; do
	case=$(basename "$cfg" .cfg)
	prog=${case%%-*}
	if [ "$case" = cloud-chroot-missing ] && [ "$(id -u)" != 0 ]; then
		say "$case: skipped (chroot needs root)"
		continue
	fi
	sed "s/@PORT@/$port/g" "$cfg" >"$tmp/$case.cfg"
	(cd "$tmp" && timeout 10 "$top_builddir/$prog/$prog" \
		-@include "$case.cfg" >/dev/null 2>"$tmp/err")
	st=$?
	{
		sed -e "s|$tmp|TMP|g" -e "s/\\b$port\\b/PORT/g" "$tmp/err"
		echo "exit=$st"
	} >"$tmp/got"
	if [ -n "${MAKE_GOLDEN:-}" ]; then
		cp "$tmp/got" "$dir/$case.out"
		continue
	fi
	n=$((n + 1))
	[ -f "$dir/$case.out" ] || { bad=1; say "$case: no $case.out"; continue; }
	if ! diff -u "$dir/$case.out" "$tmp/got"; then
		bad=1
		say "$case: differs (above)"
		continue
	fi
	# what every case must show, whatever its golden file says
	[ "$st" != 0 ] && [ "$st" != 124 ] || { bad=1; say "$case: exit $st"; }
	tail -n 2 "$tmp/got" | head -n 1 | grep -q "^$prog: error: .*; exiting\$" ||
		{ bad=1; say "$case: no final \"$prog: error: ...; exiting\""; }
	grep -q "^$prog: error: \\|^$case\\.cfg:[0-9]*: " "$tmp/got" ||
		{ bad=1; say "$case: no error line"; }
done
[ $bad = 0 ] || fail "see above"
say "ok ($n cases)"
