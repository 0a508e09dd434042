#!/bin/bash
# example.cfg is a working configuration: with its paths pointed at test
# certificates it starts, links to a peer, writes its status file, drops
# privileges after opening its sockets, and exits 0 on SIGTERM.
#
#   A (example.cfg, listen * 5000, user nobody) <-------- B connects
#
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
net_init
net_need_cloud

host A B
link A B
certs node1 B
mkdir -p "$NET_TMP/run"
chmod 777 "$NET_TMP/run"
sed -e "s|/etc/cloudvpn|$CERTS|g" -e "s|/run/cloudvpn|$NET_TMP/run|g" \
	-e 's|^#user nobody|user nobody|' -e 's|^status-interval 5s|status-interval 100ms|' \
	"$top_srcdir/example.cfg" >"$NET_TMP/A.cfg"
chmod 644 "$CERTS"/*
chmod 755 "$CERTS" "$NET_TMP"
run_in A A "${WRAP[@]}" "$CLOUD" -@include "$NET_TMP/A.cfg"
PID_A=$LAST_PID
wait_for 5 listening A 5000 || { cloud_check A; fail "A (example.cfg) not listening"; }
cloud_start B "connect $LA 5000" "conn_retry 500ms"
st=$NET_TMP/run/status
wait_for 15 sh -c "grep -q '^link peer=B .*state=up' '$st'" ||
	fail "example.cfg node did not link with B"
uid=$(awk '/^Uid:/ { print $2 }' "/proc/$PID_A/status")
[ "$uid" = "$(id -u nobody)" ] || fail "daemon runs as uid $uid, not nobody"
[ -S "$NET_TMP/run/gate.sock" ] || fail "no gate socket"
say "example.cfg node up as nobody: $(grep '^link' "$st")"
proc_stop "$PID_A" TERM 3 || fail "example.cfg node did not exit 0 on SIGTERM"
say "ok"
