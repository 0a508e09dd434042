#!/bin/bash
# iface_down_cmd runs at exit, after the gate switched to user: it could
# not act on the interface, so the gate refuses the pair at start, naming
# the option's file and line; with group alone (it stays root) the gate
# starts. GATE=tun runs it for tun (t-tun-down-root.sh), which keeps
# CAP_NET_ADMIN for itself but cannot hand it to a command.
#
#   ether (user nobody, iface_down_cmd)   -> refused before any TAP
#   ether (group nogroup, iface_down_cmd) -> on to the gate (none here)
#
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
GATE=${GATE:-ether}
BIN=$top_builddir/$GATE/$GATE
net_init
[ -x "$BIN" ] || hard_error "$BIN: not built"
id nobody >/dev/null 2>&1 || skip "no user nobody"
grp=$(id -gn nobody)
# tun needs an address before it gets to the user
addr=()
[ "$GATE" = tun ] && addr=("iface_addr 10.77.99.1/24")

host A
cfg=$NET_TMP/e.cfg
printf '%s\n' "gate $NET_TMP/none.gate" "user nobody" \
	"iface_down_cmd touch $NET_TMP/down" "${addr[@]}" >"$cfg"
in_ns A timeout 10 "$BIN" -@include "$cfg" >"$NET_TMP/e.log" 2>&1 &&
	fail "$GATE started with user and iface_down_cmd"
grep -q "e\.cfg:3: iface_down_cmd: cannot be used with user" "$NET_TMP/e.log" ||
	fail "$GATE's error: $(cat "$NET_TMP/e.log")"

printf '%s\n' "gate $NET_TMP/none.gate" "group $grp" \
	"iface_down_cmd touch $NET_TMP/down" "${addr[@]}" >"$cfg"
in_ns A timeout 10 "$BIN" -@include "$cfg" >"$NET_TMP/e2.log" 2>&1
grep -q "cannot reach the daemon" "$NET_TMP/e2.log" ||
	fail "group alone did not get to the gate: $(cat "$NET_TMP/e2.log")"
say "ok"
