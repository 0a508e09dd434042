#!/bin/bash
# Live reload of the whole configuration (SIGHUP, cloudctl reload), in a
# daemon that runs chrooted as user nobody, while a TCP session (every
# byte checked, tests/soak/flow.py) runs between the TAPs of A and B.
#
#        B 10.90.0.2 (flow server)
#       /
#   A 10.90.0.1 (chroot, nobody; sender)
#       \
#        C     A -> B from the start; A -> C:5000 added, then removed;
#              C -> A:5001 tries from the start, A's listener added, then
#              removed (the link from it stays)
#
# A.cfg (root's, mode 0600: nobody cannot open it, the daemon reads it
# through the descriptor it kept; edited in place) includes A-extra.cfg
# (0644, replaced by rename: read again by its name in the directory kept
# open). Checked:
#  1. SIGHUP with `connect` to C, `uplimit-conn` and `listen * 5001` added
#     (and `listen * 999`, which nobody may not bind: logged, not fatal):
#     both A-C links come up (A's out, and C's in through 5001), A's links
#     show the new up_limit, and the A-B link is the same link (its byte
#     count goes on, no "down" in A's log);
#  2. the session ends with one connection and no error;
#  3. the C line and `listen * 5001` removed, `cloudctl reload` answers
#     with the counts: A's link to C closes and is not tried again, 5001
#     closes (over TCP; a UDP socket stays for its links), C's link in
#     through it stays;
#  4. options that cannot change live (conn_timeout, gate) are named in
#     one log line and in cloudctl's answer;
#  5. a configuration with an error changes nothing: cloudctl says where
#     (FILE:LINE) and exits 1; so does an A.cfg replaced by one nobody may
#     not read.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
. "$top_srcdir/tests/net/mesh.sh"
. "$top_srcdir/tests/net/ether.sh"
net_init
net_need_cloud
ether_need
id nobody >/dev/null 2>&1 || skip "no user nobody"
command -v python3 >/dev/null || skip "no python3"
FLOW=$top_srcdir/tests/soak/flow.py
CLOUDCTL=$top_builddir/tools/cloudctl
[ -x "$CLOUDCTL" ] || hard_error "$CLOUDCTL: not built"
# LeakSanitizer needs /proc, which the jail has not: no leak check here
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

host A B C
link A B; AB=$LB
link A C; AC=$LB; CA=$LA
certs A B C
# nobody reads the CA again at each reload, and A-extra.cfg
chmod 755 "$NET_TMP" "$CERTS"
chmod 644 "$CERTS/ca.crt"
JAIL=$NET_TMP/jail
mkdir -p "$JAIL/run"
chmod 755 "$JAIL"
chown nobody "$JAIL/run"
ln -s "$JAIL/run/A.status" "$NET_TMP/A.status"
# A's listen lines kept: listen, and with LINK_UDP=1 listen-udp too
LK=1
[ "$TRANSPORT" = tcp ] || LK=2
EXTRA=$NET_TMP/A-extra.cfg
CTL=$NET_TMP/A.ctl
# extra LINE...: A-extra.cfg becomes these lines (a new file renamed over)
extra() {
	printf '%s\n' "# changed by t-reload" "$@" >"$EXTRA.new"
	chmod 644 "$EXTRA.new"
	mv "$EXTRA.new" "$EXTRA"
}
extra
mesh_start B
mesh_start C "$CONNECT $CA 5001"
mesh_start A "$CONNECT $AB 5000" "chroot $JAIL" "user nobody" \
	"status-file /run/A.status" "control $CTL" "@include $EXTRA"
chmod 600 "$NET_TMP/A.cfg"
wait_for 15 links_up A B || fail "A-B not up"
[ "$(stat -c %U "/proc/$PID_A")" = nobody ] || fail "A does not run as nobody"
ether_start A A A -iface_addr 10.90.0.1/24 -mac 02:00:00:00:00:01
ether_start B B B -iface_addr 10.90.0.2/24 -mac 02:00:00:00:00:02
wait_for 5 tap_up A && wait_for 5 tap_up B || fail "TAPs not up"
wait_for 10 pings A 10.90.0.2 || fail "ping A -> B failed"

run_in B flow-server python3 "$FLOW" serve 10.90.0.2 7001
wait_for 5 listening B 7001 || fail "flow server not listening"
run_in A flow python3 "$FLOW" send 10.90.0.2 7001 --rate 1e6 --secs 12
flow_pid=$LAST_PID
echoed() { grep '^ms=' "$NET_TMP/flow.log" | tail -n 1 | sed -n 's/.* echoed=\([0-9]*\).*/\1/p'; }
moving() { [ "$(echoed)" -gt "${1:-0}" ] 2>/dev/null; }
wait_for 10 moving 500000 || fail "the session did not start (500 kB echoed)"
bytes_to_B() {
	grep "^link peer=B " "$NET_TMP/A.status" | sed -n 's/.* bytes_out=\([0-9]*\).*/\1/p'
}
b0=$(bytes_to_B)

# 1. SIGHUP: connect C, a limit, a listener (and one nobody cannot bind)
log_mark A
extra "$CONNECT $AC 5000" "uplimit-conn 50Mbit" "$LISTEN * 5001" "listen * 999"
kill -HUP "$PID_A"
# link_dir PEER DIR: A has an up link to PEER, outbound (out) or in
link_dir() { grep "^link peer=$1 .* dir=$2 state=up" "$NET_TMP/A.status" | grep -Eq ' rtt_us=[0-9]+'; }
wait_for 10 link_dir C out || fail "A-C did not come up after SIGHUP: $(log_since A | grep -v debug)"
wait_for 10 link_dir C in || fail "C's link to A:5001 did not come up"
log_since A | grep -q "SIGHUP: CAs and CRLs reloaded, 0 links closed; connect: 1 added, 0 removed, 1 kept; listen: 1 added, 0 removed, $LK kept, 1 failed" ||
	fail "no summary of the SIGHUP: $(log_since A | grep -v debug)"
log_since A | grep -q 'listen.*999.*Permission denied\|999.*not listening' ||
	fail "no log of the port nobody cannot bind"
limited() { [ "$(grep -c ' up_limit=6250000 ' "$NET_TMP/A.status")" = 3 ]; }
wait_for 5 limited || fail "no up_limit=6250000 on A's 3 links: $(grep '^link' "$NET_TMP/A.status")"
b1=$(bytes_to_B)
[ "$b1" -gt "$b0" ] || fail "A's link to B restarted: bytes_out $b0, then $b1"
log_since A | grep -q 'link B (.*) down' && fail "the A-B link went down"

# 2. the session, which ran through the reload
wait_for 25 grep -qE '^(done|error)' "$NET_TMP/flow.log" ||
	fail "the session did not end"
rc=0
proc_exit "$flow_pid" 10 || rc=$?
[ "$rc" -ne 124 ] || fail "the session did not exit"
[ "$rc" -eq 0 ] || fail "the session ended in error (exit status $rc)"
grep -q '^error' "$NET_TMP/flow.log" "$NET_TMP/flow-server.log" &&
	fail "the session had an error"
grep "^ms=" "$NET_TMP/flow.log" | tail -n 1 | grep -q ' conns=1 errors=0$' ||
	fail "the session was not one connection without error"
say "session: $(($(echoed) / 1000)) kB echoed, one connection, SIGHUP in its middle"

# 3. cloudctl reload: C and 5001 removed
log_mark A
extra "uplimit-conn 50Mbit" "listen * 999"
out=$(timeout 10 "$CLOUDCTL" -s "$CTL" reload) || fail "cloudctl reload failed: $out"
say "cloudctl reload: $out"
grep -q "^reload  *ok=1 connect_added=0 connect_removed=1 connect_kept=1 listen_added=0 listen_removed=1 listen_kept=$LK listen_failed=1 " <<<"$out" ||
	fail "cloudctl reload's answer: $out"
gone() { ! grep -q '^link peer=C .* dir=out ' "$NET_TMP/A.status"; }
wait_for 5 gone || fail "A kept its link to C"
log_since A | grep -q "link C ($AC:5000) down: removed from the configuration" ||
	fail "no log of the A-C link removed"
[ "$TRANSPORT" = udp ] || ! listening A 5001 || fail "A still listens on 5001"
mark_c=$(wc -l <"$NET_TMP/A.log")

# 4. options that cannot change live: the log and cloudctl name them
log_mark A
echo "conn_timeout 4s" >>"$NET_TMP/A.cfg"
echo "gate $NET_TMP/A2.gate" >>"$NET_TMP/A.cfg"
out=$(timeout 10 "$CLOUDCTL" -s "$CTL" reload) || fail "cloudctl reload failed: $out"
grep -q '^refused  *options=conn_timeout,gate$' <<<"$out" ||
	fail "cloudctl does not name the options: $out"
wait_for 5 eval 'log_since A | grep -q "reload: these options cannot change while running: conn_timeout, gate (restart to apply)"' ||
	fail "the log does not name the options: $(log_since A | grep reload)"

# 5. errors change nothing: one in A-extra.cfg, then an A.cfg replaced
log_mark A
extra "uplimit-conn 50Mbit" "$CONNECT $AC"
out=$(timeout 10 "$CLOUDCTL" -s "$CTL" reload) && fail "cloudctl reload succeeded: $out"
grep -q "^error  *text=\"$EXTRA:3: $CONNECT: .*a host and port are needed" <<<"$out" ||
	fail "cloudctl does not say where the error is: $out"
log_since A | grep -q "$EXTRA:3: $CONNECT:" || fail "A did not log the error"
log_since A | grep -q 'the configuration has errors; nothing changed' ||
	fail "A did not say it changed nothing"
extra "uplimit-conn 50Mbit"
cp -p "$NET_TMP/A.cfg" "$NET_TMP/A.cfg.new"
mv "$NET_TMP/A.cfg.new" "$NET_TMP/A.cfg"
out=$(timeout 10 "$CLOUDCTL" -s "$CTL" reload) && fail "reload of a file nobody may read: $out"
log_since A | grep -q 'A.cfg was replaced since the start' ||
	fail "A did not say why it cannot read A.cfg: $(log_since A | grep reload)"

tail -n +$((mark_c + 1)) "$NET_TMP/A.log" | grep -q "link C ($AC:5000)" &&
	fail "A linked to C again after its line was removed"
grep -q 'link B (.*) down' "$NET_TMP/A.log" && fail "the A-B link went down"
grep 'link C (.*) down' "$NET_TMP/A.log" | grep -vq "($AC:5000)" &&
	fail "C's link in through the removed listener went down"
link_dir C in || fail "C's link in through the removed listener is gone"
links_up A B || fail "A-B not up at the end"
cloud_check A B C
say "ok"
