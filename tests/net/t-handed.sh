#!/bin/bash
# Sockets handed over by a gate (gate protocol SOCKET, as stunproxy hands
# its punched sockets): each side's handsock binds a UDP socket, connects
# it to the other side and hands it to its daemon with the node ID it must
# lead to. There are no connect lines: the link exists only because of
# the handed sockets.
#
#   handsock A :4000 --> A (10.77.1.1) <==DTLS== B (10.77.1.2) <-- handsock B :4001
#            (and :4010 / :4011 for the refusal, -tcp for the wrong kind)
#
# 1. Both sides hand: the link comes up, both handsocks print "up", the
#    status files show dir=handed, and a packet crosses it.
# 2. B expects another node: B refuses with a log line and its handsock
#    prints "down: node A ... is not the expected node ...".
# 3. A TCP socket: "down: not a connected UDP socket", the gate stays.
# 4. B's daemon killed: A's handsock prints down, A's link is gone and
#    nothing reconnects.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
. "$top_srcdir/tests/net/mesh.sh"
net_init
net_need_cloud
HANDSOCK=$top_builddir/tests/net/handsock
CLOUDCTL=$top_builddir/tools/cloudctl
[ -x "$HANDSOCK" ] || hard_error "$HANDSOCK: not built (make check builds it)"

host A B
link A B
certs A B
for n in A B; do
	cloud_start $n "gate $NET_TMP/$n.gate" "conn_keepalive 200ms" \
		"conn_timeout 3s"
done
node_id() { sed -n "s/^cloud name=$1 id=\([0-9a-f]\{64\}\) .*/\1/p" \
	"$NET_TMP/$1.status" 2>/dev/null; }
has_id() { [ -n "$(node_id "$1")" ]; }
wait_for 10 has_id A || { cloud_check A; fail "no id in A's status file"; }
wait_for 10 has_id B || { cloud_check B; fail "no id in B's status file"; }
wait_for 5 test -S "$NET_TMP/B.gate" || fail "no gate socket on B"
ID_A=$(node_id A) ID_B=$(node_id B)
say "A is ${ID_A:0:16}, B is ${ID_B:0:16}"

# hand NAME TAG ARGS...: a handsock on NAME's gate, output in TAG.log
hand() {
	local n=$1 tag=$2
	shift 2
	run_in "$n" "$tag" "$HANDSOCK" "$NET_TMP/$n.gate" "$@"
	eval "PID_$tag=$LAST_PID"
}
said() { grep -Eq -- "$2" "$NET_TMP/$1.log" 2>/dev/null; }
status_has() { grep -Eq -- "$2" "$NET_TMP/$1.status" 2>/dev/null; }
handed_up() { grep "^link peer=$2 " "$NET_TMP/$1.status" 2>/dev/null |
	grep ' dir=handed ' | grep ' state=up' | grep -q ' transport=udp '; }

# ---- 1. both sides hand: the link comes up ---------------------------
t0=$(now_ms)
hand A hsa 4000 "$IP_B" 4001 "$ID_B" -note B direct
hand B hsb 4001 "$IP_A" 4000 "$ID_A"
wait_for 30 said hsa '^up$' || fail "A's handsock never printed up"
wait_for 10 said hsb '^up$' || fail "B's handsock never printed up"
say "handed link up on both sides in $(($(now_ms) - t0)) ms"
said hsa "^node A $ID_A\$" || fail "cg_node_id/cg_node_name on A: $(head -1 "$NET_TMP/hsa.log")"
wait_for 10 handed_up A B || fail "A's status shows no up handed link to B"
wait_for 10 handed_up B A || fail "B's status shows no up handed link to A"
"$CLOUDCTL" -f "$NET_TMP/A.status" links | grep -q 'peer=B .*dir=handed' ||
	fail "cloudctl does not show A's handed link"
log_has A "link $IP_B:4001: handed socket, DTLS" || fail "A did not log the handed socket"
# the note handsock left on A, with how B is reached now
wait_for 5 status_has A "^node name=B id=${ID_B:0:16} reach=direct via=B .*note=\"direct\"\$" ||
	fail "A's status has no note line on B: $(grep '^node' "$NET_TMP/A.status")"
"$CLOUDCTL" -f "$NET_TMP/A.status" -json nodes | grep -q '"note":"direct"' ||
	fail "cloudctl -json shows no note: $("$CLOUDCTL" -f "$NET_TMP/A.status" -json nodes)"
# a packet crosses the handed link
cat_listen B b 1 0b
wait_for 10 has_route A 1/0b/8 B || fail "A has no route to B's gate over the handed link"
cat_send A 1 0a 0b "over the handed link" >/dev/null || fail "cloudcat A"
wait_for 10 out_has b "over the handed link" || fail "nothing crossed the handed link"
say "a packet crossed it"

# ---- 1b. a second link to the same node: both stay ----------------------
# Parallel links to one node are allowed (as a TCP and a UDP link may be):
# each is a peer of its own to routing, which picks the cheaper. Neither
# is closed and nothing flaps.
hand A hsa5 4030 "$IP_B" 4031 "$ID_B"
hand B hsb5 4031 "$IP_A" 4030 "$ID_A"
wait_for 30 said hsa5 '^up$' || fail "A's second handed link never came up"
wait_for 10 said hsb5 '^up$' || fail "B's second handed link never came up"
two_links() { [ "$(grep -c '^link peer=B .*dir=handed state=up' "$NET_TMP/A.status")" -eq 2 ]; }
wait_for 10 two_links || fail "A does not show two handed links to B"
cat_send A 1 0a 0b "with two links" >/dev/null || fail "cloudcat A"
wait_for 10 out_has b "with two links" || fail "nothing crossed with two links"
grep -q '^down' "$NET_TMP/hsa.log" "$NET_TMP/hsa5.log" "$NET_TMP/hsb.log" \
	"$NET_TMP/hsb5.log" && fail "a link went down beside a parallel one"
say "two handed links to one node: both up"

# ---- 2. B expects another node: refused -------------------------------
# The wrong ID is on the same side of B's ID as A's, so both sides still
# agree on who is the DTLS client and the handshake completes.
if [[ "$ID_B" < "$ID_A" ]]; then WRONG=$(printf 'f%.0s' {1..64})
else WRONG=$(printf '0%.0s' {1..64}); fi
hand A hsa2 4010 "$IP_B" 4011 "$ID_B"
hand B hsb2 4011 "$IP_A" 4010 "$WRONG"
wait_for 30 said hsb2 "^down: node A \(id ${ID_A:0:16}\) is not the expected node ${WRONG:0:16}\$" ||
	fail "B's handsock did not report the refusal: $(cat "$NET_TMP/hsb2.log")"
log_has B "link $IP_A:4010: refused: node A \(id ${ID_A:0:16}\) is not the expected node ${WRONG:0:16}" ||
	fail "B did not log the refusal"
wait_for 15 said hsa2 '^down: ' || fail "A's handsock never heard the refused link end"
said hsa2 '^up$' && fail "A's side of the refused link came up"
say "wrong ID refused: $(grep down "$NET_TMP/hsb2.log")"

# ---- 3. the wrong kind of socket: refused, the gate stays -------------
hand B hsb3 4020 "$IP_A" 4021 "$ID_A" -tcp
wait_for 10 said hsb3 '^down: not a connected UDP socket$' ||
	fail "a TCP socket was not refused: $(cat "$NET_TMP/hsb3.log")"
hand B hsb4 4022 "$IP_A" 4023 "$ID_A" -unconnected
wait_for 10 said hsb4 '^down: not a connected UDP socket$' ||
	fail "an unconnected UDP socket was not refused: $(cat "$NET_TMP/hsb4.log")"
alive "$PID_hsb3" && alive "$PID_hsb4" || fail "a refused handsock lost its gate"
log_has B 'gate .*handsock.*closing' && fail "B closed a gate over a refused socket"
gates_b() { grep -c '^gate .*name=handsock ' "$NET_TMP/B.status"; }
three_gates() { [ "$(gates_b)" -ge 3 ]; }
wait_for 5 three_gates || fail "B shows $(gates_b) handsock gates, not 3"
handed_up A B || fail "the first handed link did not survive the refusals"
cloud_check A B

# ---- 3b. descriptors that break the protocol close that gate only ------
command -v python3 >/dev/null || skip "no python3"
cat >"$NET_TMP/fds.py" <<'PY'
import socket, sys
path, kind = sys.argv[1], sys.argv[2]
def msg(t, p):
    return bytes([t]) + len(p).to_bytes(3, "big") + p
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(path)
s.sendall(msg(1, b"\x00\x01\x05fdbad"))
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
if kind == "nonsocket":	# a descriptor on a KEEPALIVE
    socket.send_fds(s, [msg(4, b"")], [u.fileno()])
elif kind == "nofd":		# a SOCKET with no descriptor
    s.sendall(msg(8, b"\x01" * 32))
else:				# three descriptors on one SOCKET
    socket.send_fds(s, [msg(8, b"\x01" * 32)], [u.fileno()] * 3)
s.settimeout(20)
try:
    while s.recv(4096):
        pass
    print("closed")
except socket.timeout:
    print("still open")
except OSError:
    print("closed")
PY
for kind in nonsocket nofd three; do
	out=$(in_ns B timeout 30 python3 "$NET_TMP/fds.py" "$NET_TMP/B.gate" $kind 2>&1)
	[ "$out" = closed ] || fail "fds.py $kind: $out"
done
log_has B 'gate [0-9]+ \(fdbad\): descriptor with a non-socket message, closing' ||
	fail "B did not close the gate that sent a descriptor with a keepalive"
log_has B 'gate [0-9]+ \(fdbad\): socket message without a descriptor, closing' ||
	fail "B did not close the gate that sent a SOCKET without a descriptor"
# (all in one read with the hello, it may come before the name is known)
log_has B 'gate [0-9]+ \((fdbad|-)\): too many descriptors, closing' ||
	fail "B did not close the gate that sent three descriptors"
alive "$PID_hsb3" || fail "another gate of B was closed too"
handed_up A B || fail "the handed link did not survive the bad gates"
cloud_check B
say "bad descriptors: the offending gates closed, the rest untouched"

# ---- 4. B dies: A's link ends and is not retried -----------------------
log_mark A
cloud_stop B KILL
wait_for 15 said hsa '^down: ' || fail "A's handsock did not hear the link end"
wait_for 5 said hsa5 '^down: ' || fail "A's second handsock did not hear its link end"
no_link() { ! grep -q '^link peer=B ' "$NET_TMP/A.status"; }
wait_for 5 no_link || fail "A still shows a link to B"
say "after B's death A's handsock printed: $(grep '^down' "$NET_TMP/hsa.log")"
# a handed link has no connector: wait two of its keepalives' worth of
# conn_timeout and check that nothing tried again
sleep 2
log_since A | grep -Eq 'handed socket|connecting|link .* up over' &&
	fail "A tried to reconnect a handed link: $(log_since A)"
status_has A ' links=0 ' || fail "A has links after B died: $(grep '^cloud' "$NET_TMP/A.status")"
cloud_check A
say "ok"
