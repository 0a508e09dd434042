#!/bin/bash
# doc/gates.md's echo gate is code that works: its ```c block is compiled
# with the page's own build line (its `cc`, the build's compiler and
# flags, so -Werror holds it to no warnings) against libcloudgate
# installed into a temporary DESTDIR, found by pkg-config. Then, with no
# root and no network (a daemon with a gate socket and no links):
#
#   cloudcat (address 02) --gate--> cloud --gate--> echogate (address 01)
#            <----------------------------------------- the same lines
#
# 20 lines sent in one go come back whole and in order (the handler sends
# the received packet straight back: the page's word on how long received
# data lives); the daemon is restarted and the gate, reconnected by
# cg_run, echoes again and said "gone" and "back"; SIGTERM ends it with 0.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
T=t-gate-guide
say() { echo "$T: $*"; }
fail() { say "FAIL: $*"; exit 1; }
command -v pkg-config >/dev/null || { say "no pkg-config"; exit 77; }
command -v certtool >/dev/null || { say "no certtool (gnutls-bin)"; exit 77; }
CLOUD=$top_builddir/cloud/cloud
CLOUDCAT=$top_builddir/gates/cloudcat
[ -x "$CLOUD" ] && [ -x "$CLOUDCAT" ] || { say "cloud, cloudcat not built"; exit 99; }
page=$top_srcdir/doc/gates.md
tmp=$(mktemp -d /tmp/cgguide.XXXXXX) || exit 99
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# wait_for SECS CMD...: poll CMD every 0.1 s until it succeeds.
wait_for() {
	local n=$(($1 * 10))
	shift
	while ! "$@"; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || return 1
		sleep 0.1
	done
}

# ---- the page's code and build line ------------------------------------------
awk '/^```c$/ { n++; on = 1; next } /^```$/ { on = 0 } on { print > (dir "/block" n ".c") }' \
	dir="$tmp" "$page"
[ -f "$tmp/block1.c" ] || fail "no \`\`\`c block in doc/gates.md"
[ ! -f "$tmp/block2.c" ] || fail "doc/gates.md has more than one \`\`\`c block"
mv "$tmp/block1.c" "$tmp/echogate.c"
build=$(awk '/^```sh$/ { on = 1; next } /^```$/ { on = 0 } on && /^cc / { print; exit }' "$page")
[ -n "$build" ] || fail "no build line (\`\`\`sh, starting with cc) in doc/gates.md"
case $build in *echogate.c*'pkg-config --cflags --libs cloudgate'*) ;;
*) fail "the build line does not build echogate.c with pkg-config: $build" ;;
esac

# libcloudgate, its header and cloudgate.pc, as make install puts them
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$top_builddir" \
	DESTDIR="$tmp/root" install-libLTLIBRARIES install-includeHEADERS \
	install-pkgconfigDATA >"$tmp/install.log" 2>&1 ||
	{ cat "$tmp/install.log"; fail "make install into $tmp/root"; }
so=$(find "$tmp/root" -name libcloudgate.so) && pc=$(find "$tmp/root" -name cloudgate.pc)
[ -n "$so" ] && [ -n "$pc" ] || fail "no libcloudgate.so or cloudgate.pc in $tmp/root"
export PKG_CONFIG_LIBDIR=${pc%/*} PKG_CONFIG_PATH='' PKG_CONFIG_SYSROOT_DIR=$tmp/root

# The page says `cc`; here that is the build's compiler with its flags (an
# ASan build's library needs an ASan program).
cc() {
	# shellcheck disable=SC2086
	${CG_CC:-command cc} ${CG_CFLAGS:--O2} ${CG_LDFLAGS:-} "$@"
}
(cd "$tmp" && eval "$build") >"$tmp/cc.log" 2>&1 ||
	{ cat "$tmp/cc.log"; fail "doc/gates.md's build line failed: $build"; }
[ -x "$tmp/echogate" ] || fail "the build line made no ./echogate"
say "built: $build"

# ---- a daemon, the gate, and cloudcat ----------------------------------------
"$top_srcdir/tools/cloud-cert" ca "$tmp/pki" >/dev/null &&
	"$top_srcdir/tools/cloud-cert" node "$tmp/pki" guide >/dev/null ||
	fail "cloud-cert"
gate=$tmp/gate.sock st=$tmp/status
cat >"$tmp/cloud.cfg" <<EOF
key $tmp/pki/guide.key
cert $tmp/pki/guide.crt
ca $tmp/pki/ca.crt
gate $gate
status-file $st
status-interval 100ms
EOF
cloud_start() {
	"$CLOUD" -@include "$tmp/cloud.cfg" >>"$tmp/cloud.log" 2>&1 &
	CLOUD_PID=$!
	pids+=("$CLOUD_PID")
	wait_for 10 test -S "$gate" || { cat "$tmp/cloud.log"; fail "no gate socket"; }
}
route_01() { grep -q '^route addr=7/01/8 via=local ' "$st" 2>/dev/null; }
cloud_start
LD_LIBRARY_PATH=${so%/*} "$tmp/echogate" "$gate" 7 01 2>"$tmp/echogate.log" &
ECHO_PID=$!
pids+=("$ECHO_PID")
wait_for 10 route_01 || { cat "$tmp/echogate.log"; fail "echogate's address 7/01 is not routed"; }

# echo_check TAG N: N lines sent from address 02 to 01 all come back.
echo_check() {
	local tag=$1 n=$2 i
	for ((i = 1; i <= n; i++)); do
		printf '%s %d\n' "$tag" "$i"
	done >"$tmp/sent"
	sed 's/^/01\t/' "$tmp/sent" >"$tmp/want"
	timeout 10 "$CLOUDCAT" -gate "$gate" -instance 7 -address 02 -to 01 \
		-count "$n" <"$tmp/sent" >"$tmp/got" 2>"$tmp/cat.err" ||
		{ cat "$tmp/cat.err" "$tmp/echogate.log"; fail "$tag: cloudcat got $(wc -l <"$tmp/got") of $n lines back"; }
	cmp -s "$tmp/want" "$tmp/got" ||
		{ diff "$tmp/want" "$tmp/got" | head; fail "$tag: the lines came back changed"; }
	say "$tag: $n lines echoed"
}
echo_check first 20

kill -TERM "$CLOUD_PID"
wait "$CLOUD_PID" || fail "cloud did not exit 0 on SIGTERM"
pids=("$ECHO_PID")
rm -f "$st"
wait_for 5 grep -q 'daemon gone' "$tmp/echogate.log" ||
	{ cat "$tmp/echogate.log"; fail "echogate did not say the daemon went"; }
cloud_start
wait_for 10 grep -q 'daemon back' "$tmp/echogate.log" ||
	{ cat "$tmp/echogate.log"; fail "echogate did not come back to the daemon"; }
wait_for 10 route_01 || fail "echogate's address is not routed after the restart"
echo_check again 5

kill -TERM "$ECHO_PID"
wait "$ECHO_PID" || { cat "$tmp/echogate.log"; fail "echogate did not exit 0 on SIGTERM"; }
pids=("$CLOUD_PID")
grep -q '25 echoed, 0 dropped' "$tmp/echogate.log" ||
	{ cat "$tmp/echogate.log"; fail "echogate did not count 25 echoed, 0 dropped"; }
if grep -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' \
	"$tmp/echogate.log" "$tmp/cloud.log"; then
	fail "sanitizer report"
fi
say "ok"
