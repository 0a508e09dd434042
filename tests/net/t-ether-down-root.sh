#!/bin/bash
# iface_down_cmd runs at exit, after ether switched to user: it could not
# act on the TAP, so ether refuses the pair at start, naming the option's
# file and line; with group alone (it stays root) ether starts.
#
#   ether (user nobody, iface_down_cmd)   -> refused before any TAP
#   ether (group nogroup, iface_down_cmd) -> on to the gate (none here)
#
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
ETHER=$top_builddir/ether/ether
net_init
[ -x "$ETHER" ] || hard_error "$ETHER: not built"
id nobody >/dev/null 2>&1 || skip "no user nobody"
grp=$(id -gn nobody)

host A
cfg=$NET_TMP/e.cfg
printf '%s\n' "gate $NET_TMP/none.gate" "user nobody" \
	"iface_down_cmd touch $NET_TMP/down" >"$cfg"
in_ns A timeout 10 "$ETHER" -@include "$cfg" >"$NET_TMP/e.log" 2>&1 &&
	fail "ether started with user and iface_down_cmd"
grep -q "e\.cfg:3: iface_down_cmd: cannot be used with user" "$NET_TMP/e.log" ||
	fail "ether's error: $(cat "$NET_TMP/e.log")"

printf '%s\n' "gate $NET_TMP/none.gate" "group $grp" \
	"iface_down_cmd touch $NET_TMP/down" >"$cfg"
in_ns A timeout 10 "$ETHER" -@include "$cfg" >"$NET_TMP/e2.log" 2>&1
grep -q "cannot reach the daemon" "$NET_TMP/e2.log" ||
	fail "group alone did not get to the gate: $(cat "$NET_TMP/e2.log")"
say "ok"
