#!/bin/bash
# A UDP listener under a datagram flood still links its real peer: M
# floods B's UDP port for a few seconds, from one address and from 40
# at once, with (a) garbage (random bytes, and records shaped like DTLS
# application data, which may cost B a rate-limited trial decryption) and
# (b) datagrams shaped like DTLS ClientHellos (record type 22, version
# 0xfefd, epoch 0, handshake type 1, a random body or a well-formed hello
# with a wrong cookie). Meanwhile A links up to B over UDP, on the same
# socket, and lines pass A -> B. B must answer the hellos with cookies
# and keep no state for them (no link, no fd), count the garbage without
# logging it, and keep its fd count and RSS bounded.
#
#   A (10.77.1.1) ---------> B (10.77.1.2)   listen-udp * :5000
#       connect-udp         B (10.77.2.1) <=========== M 10.77.2.2
#                                                       + 10.77.2.100-139
#                                           garbage, ClientHellos
#
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
. "$top_srcdir/tests/net/mesh.sh"
net_init
net_need_cloud
command -v python3 >/dev/null || skip "no python3"

FLOOD_S=6
RATE=8000		# datagrams per second, each flooder
# under valgrind B links up slowly: a longer, slower flood
[ -z "${NET_WRAP:-}" ] || FLOOD_S=12 RATE=2000
NSRC=40
# B's RSS may grow by A's link and a few MB of buffers; ASan's quarantine
# (and valgrind's) keep freed blocks, so there the bound is looser.
RSS_SLACK_KB=8192
if [ -n "${NET_WRAP:-}" ] || grep -q __asan_init "$CLOUD" 2>/dev/null; then
	RSS_SLACK_KB=65536
fi
# B must read at least 1/READ_MIN of the flood (the kernel drops what a
# slow reader leaves; under valgrind B is slow)
READ_MIN=2
[ -z "${NET_WRAP:-}" ] || READ_MIN=20

host A B M
link A B
link B M; IP_B2=$LA IF_M=v$NET_LINKS
certs A B
SRCS=()
for ((i = 100; i < 100 + NSRC; i++)); do
	in_ns M ip addr add "10.77.2.$i/24" dev "$IF_M" || hard_error "ip addr add"
	SRCS+=("10.77.2.$i")
done

cat >"$NET_TMP/flood.py" <<'PY'
import os, random, select, socket, struct, sys, time
dst, port, secs, rate = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
srcs = sys.argv[5:]
socks = []
for a in srcs:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((a, 0)); s.setblocking(False); socks.append(s)

def rec(typ, epoch, body):
    return struct.pack(">BHH", typ, 0xfefd, epoch) + os.urandom(6) + \
        struct.pack(">H", len(body)) + body

def garbage(i):
    if i % 2:
        return os.urandom(random.randint(1, 1400))
    return rec(23, 1, os.urandom(random.randint(16, 1200)))

def hello(i):
    if i % 2:
        body = os.urandom(random.randint(40, 300))
    else:	# a well-formed ClientHello with a cookie B never made
        body = struct.pack(">H", 0xfefd) + os.urandom(32) + b"\0" + \
            b"\x20" + os.urandom(32) + struct.pack(">HHH", 4, 0xc02b, 0xc02f) + \
            b"\x01\x00"
    hs = bytes([1]) + len(body).to_bytes(3, "big") + b"\0\0" + \
        b"\0\0\0" + len(body).to_bytes(3, "big") + body
    return struct.pack(">BHH", 22, 0xfefd, 0) + b"\0" * 6 + \
        struct.pack(">H", len(hs)) + hs

sent = {"garbage": 0, "hello": 0}
answered = set()
hvr = 0
t0 = time.monotonic(); i = 0
while time.monotonic() - t0 < secs:
    s = socks[i % len(socks)]
    kind = "garbage" if (i // len(socks)) % 2 else "hello"
    try:
        s.sendto(garbage(i) if kind == "garbage" else hello(i), (dst, port))
        sent[kind] += 1
    except OSError:
        pass
    i += 1
    if i % 64 == 0:	# read B's HelloVerifyRequests
        r, _, _ = select.select(socks, [], [], 0)
        for x in r:
            try:
                while True:
                    b = x.recv(2048)
                    if len(b) > 13 and b[0] == 22 and b[13] == 3:
                        hvr += 1; answered.add(x.getsockname()[0])
            except BlockingIOError:
                pass
        ahead = i / rate - (time.monotonic() - t0)
        if ahead > 0:
            time.sleep(ahead)
print(f"sent garbage={sent['garbage']} hello={sent['hello']} "
      f"hvr={hvr} answered={len(answered)}/{len(srcs)}", flush=True)
PY

mesh_start B "listen-udp * 5000" "conn_timeout 5s"
wait_for 5 log_has B "listening on 0.0.0.0:5000 \(udp\)" ||
	{ cloud_check B; fail "B not listening on udp"; }
cat_listen B b 1 0b
wait_for 5 grep -q '^udp ' "$NET_TMP/B.status" || fail "B has no status"
wait_for 5 grep -q '^gate ' "$NET_TMP/B.status" || fail "B's cloudcat did not attach"
udp_count() { sed -n "s/^udp .*$1=\([0-9]*\).*/\1/p" "$NET_TMP/B.status"; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$PID_B/status"; }
links_b() { grep -c '^link ' "$NET_TMP/B.status"; }
G0=$(udp_count garbage) C0=$(udp_count cookies_sent)
FD0=$(fd_count "$PID_B") RSS0=$(rss_kb)
LOG0=$(wc -l <"$NET_TMP/B.log")
say "B before: $FD0 fds, RSS $RSS0 kB, garbage=$G0 cookies_sent=$C0"

run_in M flood1 python3 "$NET_TMP/flood.py" "$IP_B2" 5000 $FLOOD_S $RATE "$IP_M"
F1=$LAST_PID
run_in M flood40 python3 "$NET_TMP/flood.py" "$IP_B2" 5000 $FLOOD_S $RATE "${SRCS[@]}"
F40=$LAST_PID
arrived() { [ "$(udp_count cookies_sent)" -gt $((C0 + 100)) ] &&
	[ "$(udp_count garbage)" -gt $((G0 + 100)) ]; }
wait_for 5 arrived || fail "the flood does not reach B: $(grep '^udp' "$NET_TMP/B.status")"

t0=$(now_ms)
mesh_start A "connect-udp $IP_B 5000"
wait_for 10 links_up A B || fail "no link A <-> B within 10 s under the flood"
link_over A B udp || fail "A-B is not a udp link"
say "link up in $(($(now_ms) - t0)) ms under the flood"
ID=$(sed -n 's/^link peer=A id=\([^ ]*\) .*/\1/p' "$NET_TMP/B.status")

# Lines A -> B while the flood lasts; watch B's links and fds meanwhile.
flooding() { alive "$F1" && alive "$F40"; }
sent=0 maxlinks=0 maxfd=0
while flooding && [ $sent -lt 50 ]; do
	sent=$((sent + 1))
	cat_send A 1 0a 0b "line $sent" >/dev/null 2>&1 || fail "cloudcat A failed"
	wait_for 5 out_has b "line $sent\$" || fail "line $sent did not reach B under the flood"
	n=$(links_b) && [ "$n" -le "$maxlinks" ] || maxlinks=$n
	n=$(fd_count "$PID_B") && [ "$n" -le "$maxfd" ] || maxfd=$n
	sleep 0.1
done
[ $sent -ge 3 ] || fail "only $sent lines passed while the flood lasted"
flooding || say "note: the flood ended during line $sent"
say "$sent lines A -> B passed during the flood; B had at most $maxlinks links, $maxfd fds"
[ "$maxlinks" -le 1 ] || fail "B had $maxlinks links during the flood"
[ "$maxfd" -le $((FD0 + 2)) ] || fail "B had $maxfd fds during the flood, $FD0 before"

flood_done() { ! alive "$F1" && ! alive "$F40"; }
wait_for $((FLOOD_S + 10)) flood_done || fail "the flooders still run"
proc_stop "$F1" TERM 1 || fail "flooder 1 failed"
proc_stop "$F40" TERM 1 || fail "flooder 40 failed"
cat "$NET_TMP/flood1.log" "$NET_TMP/flood40.log"
# (the status file may lag by one status-interval: a few hundred datagrams)
G=$(($(udp_count garbage) - G0)) C=$(($(udp_count cookies_sent) - C0))
read -r SG SH < <(cat "$NET_TMP/flood1.log" "$NET_TMP/flood40.log" |
	sed -n 's/^sent garbage=\([0-9]*\) hello=\([0-9]*\).*/\1 \2/p' |
	awk '{g += $1; h += $2} END {print g + 0, h + 0}')
say "flood: $SG garbage and $SH hellos sent; B counted garbage +$G, cookies_sent +$C"
# each flooder sends half garbage, half hellos: at least half of that
[ "$SG" -ge $((RATE * FLOOD_S / 2)) ] && [ "$SH" -ge $((RATE * FLOOD_S / 2)) ] ||
	fail "the flood was too small to prove anything"
[ "$G" -ge $((SG / READ_MIN)) ] || fail "B counted $G garbage datagrams of $SG"
# hellos answered with a cookie are not garbage
[ "$G" -le $((SG + 100)) ] || fail "B counted $G garbage datagrams, but only $SG were"
[ "$C" -ge $((SH / READ_MIN)) ] || fail "B sent $C cookies for $SH hellos"
grep -q "answered=$NSRC/$NSRC" "$NET_TMP/flood40.log" ||
	fail "B did not answer every one of the $NSRC sources with a cookie"

LOGN=$(($(wc -l <"$NET_TMP/B.log") - LOG0))
say "B logged $LOGN lines during the flood"
[ "$LOGN" -le 30 ] ||
	fail "B logged $LOGN lines for a flood of $((SG + SH)) datagrams"
grep -q '10\.77\.2\.' "$NET_TMP/B.log" &&
	fail "B logged about the flooder: $(grep -m 3 '10\.77\.2\.' "$NET_TMP/B.log")"

cloud_check A B
links_up A B || fail "link A <-> B lost after the flood"
[ "$(sed -n 's/^link peer=A id=\([^ ]*\) .*/\1/p' "$NET_TMP/B.status")" = "$ID" ] ||
	fail "B's link to A was replaced during the flood"
grep -E 'link .* down' "$NET_TMP/A.log" "$NET_TMP/B.log" && fail "a link went down"
[ "$(links_b)" -eq 1 ] || fail "B has extra links: $(grep '^link ' "$NET_TMP/B.status")"
grep -q '^cloud name=B .* links=1 ' "$NET_TMP/B.status" ||
	fail "B's links= is not 1: $(head -n 1 "$NET_TMP/B.status")"
FD1=$(fd_count "$PID_B") RSS1=$(rss_kb)
say "B after: $FD1 fds, RSS $RSS1 kB"
[ "$FD1" -le $((FD0 + 2)) ] || fail "B: $FD1 fds after the flood, $FD0 before"
# a per-datagram leak over about 100k datagrams would show
[ "$RSS1" -le $((RSS0 + RSS_SLACK_KB)) ] ||
	fail "B's RSS grew from $RSS0 to $RSS1 kB"
say "ok"
