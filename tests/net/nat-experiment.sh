#!/bin/bash
# UDP hole punching through the NATs of nat.sh, with plain Python sockets.
# Not part of the suite (it answers questions, it does not pass or fail);
# run it as root from the top of the tree:
#
#   tests/net/nat-experiment.sh [RUNS]      (default 10 runs per case)
#   KEEP=1 tests/net/nat-experiment.sh      keeps the temp dir (logs, json)
#   CASES='q3*' tests/net/nat-experiment.sh runs only the matching cases
#
# Needs nft and conntrack(8) (to flush the NATs' tables between runs).
# Each run: A and B (one UDP socket each, port 5300) ask the echo server
# on S (ports 3478 and 3479 answer "ip port" of what they saw) for their
# public mapping; at a common instant both optionally send 3 packets with
# TTL 2 to the other's mapping (they die at I, past the own NAT), 200 ms
# later both probe each other every 20 ms for 1.5 s. With clone=1, A then
# binds a second socket to port 5300 (SO_REUSEADDR on both), connects it
# to B, and counts which socket B's packets reach; then closes it,
# connects the first socket instead and does the same. Last, coturn
# (nat_coturn) is asked by tests/net/stun_probe.py from both sides.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
. "$top_srcdir/tests/net/nat.sh"
net_init
command -v conntrack >/dev/null || skip "needs conntrack(8)"
RUNS=${1:-10}
PORT=5300

cat >"$NET_TMP/udp.py" <<'PY'
import json, os, select, socket, sys, time

def echo(ports):
    socks = []
    for p in ports:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(('0.0.0.0', p))
        socks.append(s)
    while True:
        for s in select.select(socks, [], [])[0]:
            data, src = s.recvfrom(2048)
            s.sendto(('%s %d' % src).encode(), src)

def ask(s, server):
    for _ in range(5):
        s.sendto(b'?', server)
        end = time.time() + 0.3
        while time.time() < end:
            if select.select([s], [], [], max(0, end - time.time()))[0]:
                data, src = s.recvfrom(2048)
                if src == server:
                    ip, port = data.decode().split()
                    return (ip, int(port))
    return None

def wait_file(path, secs):
    end = time.time() + secs
    while not os.path.exists(path):
        if time.time() > end:
            sys.exit('no ' + path)
        time.sleep(0.01)
    with open(path) as f:
        return f.read().split()

def put(path, text):
    with open(path + '.tmp', 'w') as f:
        f.write(text)
    os.rename(path + '.tmp', path)

def reuse_sock(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('0.0.0.0', port))
    return s

def peer(o):
    me, other, d = o['name'], o['peer'], o['dir']
    port = int(o['port'])
    res = {'name': me}
    s1 = reuse_sock(port)
    servers = [(ip, int(p)) for ip, p in
               (x.split(':') for x in o['stun'].split(','))]
    res['mapped'] = [ask(s1, sv) for sv in servers]
    m = res['mapped'][0]
    put('%s/%s.map' % (d, me), '%s %d' % m)
    ip, p = wait_file('%s/%s.map' % (d, other), 10)
    target = (ip, int(p))
    g = float(wait_file(d + '/go', 10)[0])
    time.sleep(max(0, g - time.time()))
    ttl = int(o.get('ttl', 0))
    if ttl:
        s1.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 2)
        for i in range(ttl):
            s1.sendto(b'ttl', target)
        s1.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 64)
    # probe phase: g+0.2 .. g+1.7
    t0 = g + 0.2
    time.sleep(max(0, t0 - time.time()))
    targets = [target]
    learn = o.get('learn') == '1'
    rx, acks, seq, nxt = [], [], 0, t0
    while time.time() < g + 1.7:
        now = time.time()
        if now >= nxt:
            seq += 1
            for t in targets:
                s1.sendto(b'probe %s %d' % (me.encode(), seq), t)
            nxt += 0.02
        if not select.select([s1], [], [], max(0, min(nxt, g + 1.7) - now))[0]:
            continue
        data, src = s1.recvfrom(2048)
        ms = round((time.time() - t0) * 1000, 2)
        if data.startswith(b'probe'):
            rx.append((ms, src))
            s1.sendto(b'ack ' + me.encode(), src)
            if learn and src not in targets:
                targets.append(src)
        elif data.startswith(b'ack'):
            acks.append((ms, src))
    res.update(sent=seq, targets=targets,
               rx_n=len(rx), rx_first_ms=rx[0][0] if rx else None,
               rx_from=sorted(set('%s:%d' % x[1] for x in rx)),
               ack_n=len(acks), ack_first_ms=acks[0][0] if acks else None,
               ack_from=sorted(set('%s:%d' % x[1] for x in acks)))
    res['punched'] = bool(rx) and bool(acks)
    role = o.get('clone', '')
    seen = rx[0][1] if rx else (acks[0][1] if acks else target)
    if role == 'a' and res['punched']:
        res['clone'] = clone_a(s1, port, seen, servers[0], g, o)
    elif role == 'b' and res['punched']:
        echo_b(s1, seen, g, o)
    print(json.dumps(res), flush=True)
    put('%s/%s.json' % (d, me), json.dumps(res))

def tally(socks, names, until, send):
    # receive on socks until `until`; send() every 50 ms
    got = {n: [] for n in names}
    nxt = 0
    while time.time() < until:
        if time.time() >= nxt:
            send()
            nxt = time.time() + 0.05
        r = select.select(socks, [], [], max(0, min(nxt, until) - time.time()))[0]
        for s in r:
            try:
                data, src = s.recvfrom(2048)
            except OSError as e:
                got[names[socks.index(s)]].append(('error', str(e)))
                continue
            got[names[socks.index(s)]].append((src, data.decode()))
    return got

def summary(items):
    out = {}
    for src, data in items:
        k = data.split()[0] if src != 'error' else 'error'
        if src != 'error':
            k = '%s from %s:%d' % (k, src[0], src[1])
        out[k] = out.get(k, 0) + 1
    return out

def drain(s):
    out = []
    while select.select([s], [], [], 0)[0]:
        data, src = s.recvfrom(2048)
        out.append((src, data.decode()))
    return out

def clone_a(s1, port, peer, server, g, o):
    r = {}
    time.sleep(max(0, g + 2.0 - time.time()))
    # what reached s1 before the clone existed is not the clone's business
    r['before_clone'] = summary(drain(s1))
    s2 = reuse_sock(port)
    gap = float(o.get('gap', 0))
    if gap:
        # bound but not yet connected: who gets B's packets now?
        got = tally([s1, s2], ['first', 'clone'], time.time() + gap,
                    lambda: None)
        r['unconnected_clone'] = {k: summary(v) for k, v in got.items()}
    s2.connect(peer)
    n = [0]
    def send():
        n[0] += 1
        s2.send(b'c2 %d' % n[0])
        if n[0] % 5 == 1:
            s1.sendto(b'?', server)
    got = tally([s1, s2], ['first', 'clone'], g + 3.0, send)
    r['clone_phase'] = {k: summary(v) for k, v in got.items()}
    r['clone_seen_by_b'] = sorted(set(
        ' '.join(d.split()[1:3]) for src, d in got['clone'] + got['first']
        if src != 'error' and d.startswith('seen') and ' c2 ' in d))
    s2.close()
    time.sleep(max(0, g + 3.2 - time.time()))
    s1.connect(peer)
    def send1():
        n[0] += 1
        s1.send(b'c1 %d' % n[0])
        if n[0] % 5 == 1:
            s1.sendto(b'?', server)
    got = tally([s1], ['first'], g + 4.2, send1)
    r['connected_first_phase'] = summary(got['first'])
    r['connected_first_seen_by_b'] = sorted(set(
        ' '.join(d.split()[1:3]) for src, d in got['first']
        if src != 'error' and d.startswith('seen') and ' c1 ' in d))
    return r

def echo_b(s1, peer, g, o):
    time.sleep(max(0, g + 2.0 - time.time()))
    n = [0]
    end = g + 4.3 + float(o.get('gap', 0))
    nxt = 0
    while time.time() < end:
        if time.time() >= nxt:
            n[0] += 1
            s1.sendto(b'b2a %d' % n[0], peer)
            nxt = time.time() + 0.05
        if select.select([s1], [], [], max(0, min(nxt, end) - time.time()))[0]:
            data, src = s1.recvfrom(2048)
            if data.startswith(b'c'):
                s1.sendto(b'seen %s %d ' % (src[0].encode(), src[1]) + data, src)

if sys.argv[1] == 'echo':
    echo([int(x) for x in sys.argv[2:]])
else:
    peer(dict(a.split('=', 1) for a in sys.argv[2:]))
PY

nat_topo easy easy
run_in S echo python3 "$NET_TMP/udp.py" echo 3478 3479
PID_echo=$LAST_PID
wait_for 5 sh -c "ip netns exec $(ns S) ss -Hlun 'sport = :3479' | grep -q ." ||
	hard_error "echo server not up"

# one_run TAG A_OPTS B_OPTS: one run; A.json and B.json land in $RUN
one_run() {
	local tag=$1 pa pb i
	RUN=$NET_TMP/$tag
	mkdir -p "$RUN"
	nat_ct_flush N1 N2
	run_in A "$tag-A" python3 "$NET_TMP/udp.py" peer name=A peer=B \
		port=$PORT dir="$RUN" stun="$NAT_S_IP:3478,$NAT_S_IP:3479" $2
	pa=$LAST_PID
	run_in B "$tag-B" python3 "$NET_TMP/udp.py" peer name=B peer=A \
		port=$PORT dir="$RUN" stun="$NAT_S_IP:3478,$NAT_S_IP:3479" $3
	pb=$LAST_PID
	wait_for 10 test -f "$RUN/A.map" -a -f "$RUN/B.map" ||
		{ say "$tag: no mappings"; }
	python3 -c 'import time; print(time.time() + 0.3)' >"$RUN/go.tmp"
	mv "$RUN/go.tmp" "$RUN/go"
	for i in $pa $pb; do
		wait_for 15 sh -c "! [ -d /proc/$i ] || grep -q ') Z' /proc/$i/stat 2>/dev/null"
		proc_stop "$i" TERM 1 || true
	done
	{
		echo "## N1 conntrack"; nat_ct N1
		echo "## N2 conntrack"; nat_ct N2
	} >"$RUN/ct.txt"
}

# case LABEL A_KIND B_KIND A_OPTS B_OPTS: RUNS runs, one line each
case_runs() {
	local label=$1 ok=0 r line
	RUN=
	[[ $label == ${CASES:-*} ]] || return 0
	nat_kind N1 "$2"
	nat_kind N2 "$3"
	echo "### $label (A $2, B $3; A: $4; B: $5; NAT_INPUT=${NAT_INPUT:-accept})"
	for ((r = 1; r <= RUNS; r++)); do
		one_run "$label-$r" "$4" "$5"
		line=$(python3 - "$RUN" <<'PY'
import json, sys
d = sys.argv[1]
out = []
both = True
for n in 'AB':
    try:
        j = json.load(open('%s/%s.json' % (d, n)))
    except Exception:
        out.append('%s: no result' % n); both = False; continue
    both = both and j['punched']
    out.append('%s mapped %s rx %d first %s ms from %s acked %d' % (
        n, ['%s:%d' % tuple(m) if m else None for m in j['mapped']],
        j['rx_n'], j['rx_first_ms'], j['rx_from'], j['ack_n']))
    c = j.get('clone')
    if c:
        b2a = lambda t: sum(v for k, v in t.items() if k.startswith('b2a'))
        u = c.get('unconnected_clone')
        out.append('clone: B->A on first %d, on clone %d%s, B saw clone as %s;'
                   ' first connected: B->A %d, B saw %s, S replies %d' % (
            b2a(c['clone_phase']['first']), b2a(c['clone_phase']['clone']),
            ' (unconnected window: first %d, clone %d)' % (
                b2a(u['first']), b2a(u['clone'])) if u else '',
            c['clone_seen_by_b'], b2a(c['connected_first_phase']),
            c['connected_first_seen_by_b'],
            sum(v for k, v in c['connected_first_phase'].items()
                if 'from 192.0.2.10' in k)))
print(('PUNCHED ' if both else 'failed  ') + ' | '.join(out))
PY
)
		echo "run $r: $line"
		case $line in PUNCHED*) ok=$((ok + 1)) ;; esac
	done
	echo "=> $label: $ok/$RUNS punched both ways"
	CASE_OK=$ok
}

show_ct() {
	[ -n "$RUN" ] || return 0
	echo "conntrack after the last $1 run:"
	cat "$RUN/ct.txt"
}
clone_detail() {
	[ -n "$RUN" ] || return 0
	echo "clone detail (last run):"
	python3 -c 'import json, sys
print(json.dumps(json.load(open(sys.argv[1]))["clone"], indent=1))' "$RUN/A.json"
}

case_runs q1-plain easy easy "" ""
show_ct q1-plain
NAT_INPUT=drop case_runs q1-plain-wanfw easy easy "" ""
show_ct q1-plain-wanfw
case_runs q2-ttl easy easy "ttl=3" "ttl=3"
case_runs q3-clone easy easy "ttl=3 clone=a" "ttl=3 clone=b"
clone_detail
case_runs q3-clone-gap easy easy "ttl=3 clone=a gap=0.3" "ttl=3 clone=b gap=0.3"
clone_detail
case_runs q4-hard hard hard "ttl=3 learn=1" "ttl=3 learn=1"
show_ct q4-hard
case_runs q5-easy-hard easy hard "ttl=3 learn=1" "ttl=3 learn=1"
case_runs q5-fwd-hard fwd hard "ttl=3 learn=1" "ttl=3 learn=1"
show_ct q5-fwd-hard
case_runs q5-fwd-hard-nottl fwd hard "learn=1" "learn=1"
proc_stop "$PID_echo" TERM 1 || true

# coturn (STUN only) answers RFC 5389 Binding requests of stun_probe.py
if [[ coturn == ${CASES:-*} ]] && command -v turnserver >/dev/null; then
	echo "### coturn (A easy, B hard): stun_probe.py from port 5300"
	nat_kind N1 easy
	nat_kind N2 hard
	nat_coturn S 3480
	nat_coturn S 3481
	for h in A B; do
		for p in 3480 3481; do
			echo "$h -> coturn :$p: $(in_ns $h python3 \
				"$top_srcdir/tests/net/stun_probe.py" -r -b 0.0.0.0:$PORT \
				"$NAT_S_IP" $p 2>&1)"
		done
	done
fi
exit 0
