#!/bin/bash
# `connect HOST PORT NODEID` pins the peer: C connects to B's address with
# A's node ID and refuses B, although B's certificate is valid, retrying
# as after any failed link; with B's node ID the link comes up. A bad node
# ID is an error naming file, line and option. LINK_UDP=1: connect-udp.
#
#   C (10.77.1.1) ---------> B (10.77.1.2) :5000
#     pinned to A's ID  -> "refused: node B (id <B>) is not the pinned node <A>"
#     pinned to B's ID  -> up
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
net_init
net_need_cloud

host B C
link C B
certs A B C
# node_id NAME: the SHA-256 key ID of NAME's certificate, as cloud prints it
node_id() {
	certtool -i --infile "$CERTS/$1.crt" |
		awk '/Public Key ID:/ { f = 1 } f && /sha256:/ { sub(/.*sha256:/, ""); print; exit }'
}
ID_A=$(node_id A) ID_B=$(node_id B)
[ ${#ID_A} -eq 64 ] && [ ${#ID_B} -eq 64 ] || hard_error "node IDs: '$ID_A' '$ID_B'"

cloud_start B "$LISTEN $IP_B 5000"
wait_for 5 listening B 5000 || { cloud_check B; fail "B not listening"; }
wait_for 5 grep -q "^cloud name=B id=$ID_B " "$NET_TMP/B.status" ||
	fail "B's status does not show id=$ID_B"

log_mark C
cloud_start C "$CONNECT $IP_B 5000 $ID_A" "conn_retry 500ms"
refusals() { log_since C | grep -cF "link $IP_B:5000: refused: node B (id $ID_B) is not the pinned node $ID_A"; }
twice() { cloud_check C; [ "$(refusals)" -ge 2 ]; }
wait_for 10 twice || fail "C did not refuse B (pinned to A) and retry: $(log_since C | grep refused | tail -n 2)"
! any_link_up C || fail "C's link to B came up though pinned to A"
say "pinned to A: $(log_since C | grep -m1 'pinned node')"
cloud_stop C TERM 2 || true
rm -f "$NET_TMP/C.status"

cloud_start C "$CONNECT $IP_B 5000 $ID_B" "conn_retry 500ms"
wait_for 15 links_up C B || fail "C-B not up when pinned to B"
say "pinned to B: up"
cloud_stop C TERM 2 || true

# a malformed node ID: the daemon exits, naming file, line and option
cloud_start C "$CONNECT $IP_B 5000 ${ID_B%?}"
exited() { ! alive "$PID_C"; }
wait_for 5 exited || fail "C started with a 63-digit node ID"
line=$(grep -n "^$CONNECT " "$NET_TMP/C.cfg" | cut -d: -f1)
grep -qF "C.cfg:$line: $CONNECT: bad node ID" "$NET_TMP/C.log" ||
	fail "no error naming C.cfg:$line: $CONNECT: $(tail -n 2 "$NET_TMP/C.log")"
say "bad ID: $(grep -m1 'bad node ID' "$NET_TMP/C.log")"
cloud_check B
say "ok"
