#!/bin/bash
# Prefix subscriptions (gate protocol SUBSCRIBE, PREFIX): a gate on A that
# subscribes to instance 7 gets the whole set at once (its own node's
# address flagged local), then C's address as it comes and goes; a gate
# subscribed to instance 8 sees nothing of instance 7; a thousand
# prefixes come and go in a few messages; a 17th subscription closes the
# gate.
#
#   [cat 7/0a0a0a]                        [cat 7/0a0b0c, comes and goes]
#   [sub 7] [sub 8]   A ---- B ---- C     [ann 9/0000..03e7, 1000 of them]
#   [sub 9]         [cat 8/0808]
#
# The subscriber is a small gate client in python, written out below, so
# the daemon's side is checked independently of libcloudgate.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
. "$top_srcdir/tests/net/mesh.sh"
net_init
net_need_cloud
command -v python3 >/dev/null || skip "no python3"

# sub.py SOCKET NAME OUT INST...: say hello, subscribe to each INST, then
# write a line to OUT per PREFIX message ("msg N", its entry count) and
# per entry ("up|down INST/HEX/PLEN local=L metric=M", "full INST" before
# a full set). Exits 0 when the daemon closes, 1 on anything malformed.
# sub.py SOCKET NAME OUT -announce INST N: announce N addresses of INST
# (two bytes each, 00:00 up), then only answer keepalives.
cat >"$NET_TMP/sub.py" <<'EOF'
import socket, struct, sys

path, name, out = sys.argv[1], sys.argv[2].encode(), open(sys.argv[3], "a", buffering=1)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(path)
s.sendall(struct.pack(">BHBHB", 1, 0, 3 + len(name), 1, len(name)) + name)
if sys.argv[4:5] == ["-announce"]:
    inst, n = int(sys.argv[5]), int(sys.argv[6])
    p = struct.pack(">H", n) + b"".join(struct.pack(">IBHH", inst, 2, 16, i) for i in range(n))
    s.sendall(bytes([2]) + len(p).to_bytes(3, "big") + p)
    insts = []
else:
    insts = [int(i) for i in sys.argv[4:]]

def bad(why):
    out.write("error %s\n" % why)
    sys.exit(1)

def prefix(p):
    if len(p) < 3 or p[0] & ~1:
        bad("prefix header")
    flags, count = p[0], struct.unpack(">H", p[1:3])[0]
    off, lines, seen_inst = 3, [], set()
    for _ in range(count):
        if len(p) - off < 13:
            bad("short entry")
        up, local, metric, inst, alen, plen = struct.unpack(">BBIIBH", p[off:off + 13])
        addr = p[off + 13:off + 13 + alen]
        if up > 1 or local > 1 or alen > 16 or plen > 8 * alen or len(addr) != alen:
            bad("entry")
        off += 13 + alen
        seen_inst.add(inst)
        lines.append("%s %d/%s/%d local=%d metric=%d" % (
            "up" if up else "down", inst, addr.hex(), plen, local, metric))
    if off != len(p):
        bad("trailing bytes")
    out.write("msg %d\n" % count)
    if flags:
        # a full set is of one instance and names it (an empty one holds
        # one entry: gone, that instance, the empty address)
        if len(seen_inst) != 1:
            bad("full set of instances %s" % sorted(seen_inst))
        out.write("full %d\n" % seen_inst.pop())
    for l in lines:
        out.write(l + "\n")

buf, seen = b"", set()
while True:
    d = s.recv(65536)
    if not d:
        out.write("closed\n")
        sys.exit(0)
    buf += d
    while len(buf) >= 4:
        t, n = buf[0], int.from_bytes(buf[1:4], "big")
        if len(buf) < 4 + n:
            break
        p, buf = buf[4:4 + n], buf[4 + n:]
        seen.add(t)
        if t == 4:
            s.sendall(bytes([4, 0, 0, 0]))
        elif t == 12:
            prefix(p)
        if t in (1, 7) and {1, 7} <= seen and insts:
            for i in insts:
                s.sendall(struct.pack(">BHBI", 11, 0, 4, i))
            out.write("subscribed\n")
            insts = []
EOF

sub() {	# sub NAME INST...: a subscriber on A writing $NET_TMP/NAME.out
	local n=$1
	shift
	: >"$NET_TMP/$n.out"
	run_in A "$n" python3 "$NET_TMP/sub.py" "$NET_TMP/A.gate" "$n" \
		"$NET_TMP/$n.out" "$@"
	eval "PID_$n=$LAST_PID"
}

# (links are not what is tested: under valgrind, a thousand routes may
# keep a daemon busy past mesh.sh's 3 s)
line_abc "conn_timeout 20s"
cat_listen A a 7 0a0a0a
cat_listen B b 8 0808
wait_for 10 has_route A 7/0a0a0a/24 local || fail "A: no local 7/0a0a0a/24"
wait_for 10 has_route A 8/0808/16 B || fail "A: no route to 8/0808/16"

sub sub7 7
sub sub8 8
wait_for 5 out_has sub7 "^up 7/0a0a0a/24 local=1 metric=0$" ||
	fail "sub7: no full set with A's own address: $(cat "$NET_TMP/sub7.out")"
grep -q "^full 7$" "$NET_TMP/sub7.out" || fail "sub7: the set is not marked full"
wait_for 5 out_has sub8 "^up 8/0808/16 local=0 metric=[1-9]" ||
	fail "sub8: no instance 8 set: $(cat "$NET_TMP/sub8.out")"
wait_for 5 grep -q "^gate .*name=sub7 .* subs=1$" "$NET_TMP/A.status" ||
	fail "A's status: no subs=1 on the gate sub7"
out_has sub7 0a0b0c && fail "sub7: C's address before it was announced"

t0=$(now_ms)
cat_listen C c 7 0a0b0c
wait_for 3 out_has sub7 "^up 7/0a0b0c/24 local=0 metric=[1-9][0-9]*$" ||
	fail "sub7: no up for C's address within 3 s: $(cat "$NET_TMP/sub7.out")"
say "up after $(($(now_ms) - t0)) ms"

t0=$(now_ms)
proc_stop "$PID_cat_c"
wait_for 3 out_has sub7 "^down 7/0a0b0c/24 local=0 metric=0$" ||
	fail "sub7: no down for C's address within 3 s: $(cat "$NET_TMP/sub7.out")"
say "down after $(($(now_ms) - t0)) ms"

# A change goes only to the subscribers of its instance.
out_has sub8 " 7/" && fail "sub8 saw instance 7: $(cat "$NET_TMP/sub8.out")"
out_has sub8 "^error" && fail "sub8: $(cat "$NET_TMP/sub8.out")"
out_has sub7 "^error" && fail "sub7: $(cat "$NET_TMP/sub7.out")"

# A thousand prefixes go in a few messages: the full set in two (512
# entries each), their withdrawal batched too.
run_in C ann python3 "$NET_TMP/sub.py" "$NET_TMP/C.gate" ann "$NET_TMP/ann.out" \
	-announce 9 1000
PID_ann=$LAST_PID
# (C signs each, B and A check each signature)
wait_for $((10 * SLOW)) has_route A 9/03e7/16 B ||
	fail "A: no route to C's 9/03e7/16"
routes9() { [ "$(grep -c '^route addr=9/' "$NET_TMP/A.status")" = 1000 ]; }
wait_for $((10 * SLOW)) routes9 || fail "A: not 1000 routes of instance 9"
# The table must hold still while the set is read: under valgrind a slow
# daemon's routes may move, so a subscriber that saw them move is
# replaced by a new one (at most twice).
set_in_two() {
	[ "$(grep -m 3 -E '^(msg|full)' "$NET_TMP/$1.out" | tr '\n' ' ')" = \
		"msg 512 full 9 msg 488 " ]
}
for try in 1 2 3; do
	sub sub9 9
	wait_for 5 set_in_two sub9 && break
	say "try $try: $(grep -m 4 -E '^(msg|full)' "$NET_TMP/sub9.out" | tr '\n' ' ')"
	proc_stop "$PID_sub9"
done
set_in_two sub9 ||
	fail "sub9: the full set of 1000 is not 2 messages: $(head -c 300 "$NET_TMP/sub9.out")"
distinct() { grep "^$1 9/" "$NET_TMP/sub9.out" | cut -d' ' -f2 | sort -u | wc -l; }
all9() { [ "$(distinct "$1")" = 1000 ]; }
all9 up || fail "sub9: not 1000 prefixes: $(distinct up)"
# (metric updates follow: every ping moves the RTT, and routing re-advertises
# every metric change)
: >"$NET_TMP/sub9.out"
proc_stop "$PID_ann"
wait_for 5 all9 down ||
	fail "sub9: not 1000 withdrawals: $(distinct down)"
# messages with a withdrawal in them
msgs=$(awk '/^msg/ { m = 0 } /^down/ && !m { m = 1; n++ } END { print n + 0 }' \
	"$NET_TMP/sub9.out")
say "1000 withdrawals in $msgs messages"
[ "$msgs" -le 10 ] || fail "sub9: 1000 withdrawals took $msgs messages"

# 16 subscriptions (one repeated) are fine; a 17th closes the gate.
sub many $(seq 100 115) 100
wait_for 5 out_has many "^full 115$" || fail "many: not all 16 sets"
sub toomany $(seq 100 116)
wait_for 5 out_has toomany "^closed$" || fail "toomany: a 17th subscription is not refused"
log_has A "gate [0-9]+ \(toomany\): more than 16 subscriptions, closing" ||
	fail "A: no log line for the 17th subscription"
alive "$PID_many" || fail "many: closed"
cloud_check A B C
say "ok"
