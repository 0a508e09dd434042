#!/bin/bash
# metrics HOST PORT: B serves its figures in Prometheus's text format;
# promtool finds nothing wrong in them, and a real Prometheus scrapes
# them. The HTTP server answers 404 and 405 as it should, drops a client
# that sends its request too slowly (slowloris) after 5 s, and closes a
# 9th client at once while 8 are held, unharmed.
#
#   [prometheus 127.0.0.1:9090, scrapes B every 1 s]
#   [python3: requests, held clients]
#   A (gate a) ---- B (gate b, metrics * 9100) ---- C (gate c)
#
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
. "$top_srcdir/tests/net/mesh.sh"
net_init
net_need_cloud
command -v prometheus >/dev/null || skip "no prometheus (tools/install-deps)"
command -v promtool >/dev/null || skip "no promtool (package prometheus)"
command -v python3 >/dev/null || skip "no python3"

# client.py HOST PORT req BYTES: send BYTES (Python escapes), print what
# comes back until the server closes.
# client.py HOST PORT hold: 7 idle clients and 1 that sends a request head
# a byte every 0.4 s; then a 9th: prints "extra BYTES MS" (what it got and
# when it was closed), then "idle MS" (when the last idle one was
# dropped) and "slow MS SENT" (when the slow one was, and bytes it sent).
# client.py HOST PORT junk N: N connections, one after the other, each
# sending random bytes or a cut or mangled request, then leaving at once,
# after a half close, or after reading the answer; prints "junk N".
cat >"$NET_TMP/client.py" <<'PY'
import socket, sys, time
host, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def conn():
    return socket.create_connection((host, port), timeout=15)
def closed_after(s, t0):
    """ms until the server closes s, and what it sent"""
    got = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            got += d
    except (ConnectionResetError, socket.timeout):
        pass
    return int((time.monotonic() - t0) * 1000), got
if mode == "req":
    s = conn()
    s.sendall(sys.argv[4].encode().decode("unicode_escape").encode("latin-1"))
    sys.stdout.buffer.write(closed_after(s, time.monotonic())[1])
    sys.exit(0)
if mode == "junk":
    import random
    rnd = random.Random(1)
    good = b"GET /metrics HTTP/1.1\r\nHost: b\r\n\r\n"
    for i in range(int(sys.argv[4])):
        kind = rnd.randrange(4)
        if kind == 0:
            data = rnd.randbytes(rnd.randrange(1, 6000))
        elif kind == 1:
            data = good[:rnd.randrange(len(good))]
        else:
            b = bytearray(good + rnd.randbytes(rnd.randrange(64)))
            for _ in range(rnd.randrange(1, 4)):
                b[rnd.randrange(len(b))] = rnd.randrange(256)
            data = bytes(b)
        s = conn()
        s.settimeout(5)
        try:
            s.sendall(data)
            if kind == 3:
                s.shutdown(socket.SHUT_WR)
                closed_after(s, time.monotonic())
        except OSError:
            pass
        s.close()
    print("junk", sys.argv[4])
    sys.exit(0)
t0 = time.monotonic()
idle = [conn() for _ in range(7)]
slow = conn()
head, sent = b"GET /metrics HTTP/1.1\r\nX-Slow: " + b"a" * 100, 0
slow.setblocking(False)
time.sleep(0.5)
x = conn()
ms, got = closed_after(x, time.monotonic())
print("extra", len(got), ms, flush=True)
slow_ms = None
while slow_ms is None:
    try:
        if slow.recv(1) == b"":
            slow_ms = int((time.monotonic() - t0) * 1000)
    except BlockingIOError:
        pass
    except ConnectionResetError:
        slow_ms = int((time.monotonic() - t0) * 1000)
    if slow_ms is None:
        try:
            slow.send(head[sent:sent + 1])
            sent += 1
        except OSError:
            pass
        time.sleep(0.4)
    if time.monotonic() - t0 > 30:
        break
print("slow", slow_ms, sent, flush=True)
worst = 0
for s in idle:
    s.settimeout(30)
    worst = max(worst, closed_after(s, t0)[0])
print("idle", worst, flush=True)
PY
http() { in_ns A python3 "$NET_TMP/client.py" "$AB" 9100 "$@"; }
scrape() { http req 'GET /metrics HTTP/1.1\r\nHost: b\r\n\r\n' >"$NET_TMP/$1.http"; }
body() { sed '1,/^\r$/d' "$NET_TMP/$1.http"; }
value() { body "$1" | grep -E "^$2 " | awk '{ print $2 }'; }

host A B C
link A B; AB=$LB
link B C; BC=$LA
certs A B C
mesh_start B "metrics * 9100"
mesh_start A "$CONNECT $AB 5000"
mesh_start C "$CONNECT $BC 5000"
wait_for 15 links_up A B || fail "A-B not up"
wait_for 15 links_up B C || fail "B-C not up"
cat_listen A a 1 0a
cat_listen B b 1 0b
cat_listen C c 1 0c
wait_for 10 has_route B 1/0c/8 C || fail "B has no route to C's gate"
wait_for 10 has_route B 1/0a/8 A || fail "B has no route to A's gate"
cat_send A 1 0a 0c "through B" >/dev/null
wait_for 5 out_has c "through B" || fail "A's line did not reach C"

# two strangers whose handshakes fail: one sends bytes that are no TLS,
# one leaves at once
in_ns A python3 -c "
import socket
s = socket.create_connection(('$AB', 5000), timeout=5)
s.sendall(b'not TLS at all' * 8)
try:
    s.recv(100)
except OSError:
    pass
socket.create_connection(('$AB', 5000), timeout=5).close()" ||
	fail "strangers could not connect"

# ---- what B serves ---------------------------------------------------------
scrape m1
head -n 1 "$NET_TMP/m1.http" | grep -q '^HTTP/1.1 200 OK' ||
	fail "GET /metrics: $(head -n 1 "$NET_TMP/m1.http")"
grep -qi '^Content-Type: text/plain; version=0.0.4' "$NET_TMP/m1.http" ||
	fail "no Prometheus content type"
body m1 >"$NET_TMP/m1.txt"
promtool check metrics <"$NET_TMP/m1.txt" >"$NET_TMP/promtool.out" 2>&1 ||
	fail "promtool check metrics: $(head -n 5 "$NET_TMP/promtool.out")"
say "promtool check metrics: ok on $(wc -l <"$NET_TMP/m1.txt") lines"
want() {
	grep -Eq "$1" "$NET_TMP/m1.txt" || fail "no line matching: $1"
}
want '^cloudvpn_build_info\{version="[^"]+"\} 1$'
want '^cloudvpn_node_info\{name="B",node_id="[0-9a-f]{16}"\} 1$'
want '^cloudvpn_links\{state="up"\} 2$'
want '^cloudvpn_routes 3$'
for p in A C; do
	l="peer=\"$p\",node_id=\"[0-9a-f]{16}\",transport=\"tcp\",link=\"[0-9]+\""
	want "^cloudvpn_link_rtt_seconds\{$l\} 0\.[0-9]+$"
	want "^cloudvpn_link_sent_bytes_total\{$l\} [1-9][0-9]*$"
	want "^cloudvpn_link_received_packets_total\{$l\} [0-9]+$"
	want "^cloudvpn_link_drops_total\{$l,reason=\"queue_full\"\} 0$"
	want "^cloudvpn_link_control_retransmits_total\{$l\} 0$"
done
# A's line came in on A's link and left on C's
want '^cloudvpn_link_received_packets_total\{peer="A",.*\} [1-9]'
want '^cloudvpn_link_sent_packets_total\{peer="C",.*\} [1-9]'
want '^cloudvpn_gate_addresses\{gate="cloudcat",gate_id="[0-9]+"\} 1$'
want '^cloudvpn_forward_drops_total\{reason="no_route"\} 0$'
hs=$(grep '^cloudvpn_handshake_failures_total' "$NET_TMP/m1.txt" |
	awk '{ n += $2 } END { print n + 0 }')
[ "$hs" -ge 2 ] || fail "handshake failures: $hs, not the 2 strangers'"
want '^cloudvpn_admit_refused_total\{reason="source"\} 0$'

# ---- other requests ----------------------------------------------------------
http req 'GET /nothing HTTP/1.1\r\n\r\n' | head -n 1 | grep -q '^HTTP/1.1 404 ' ||
	fail "GET /nothing: not 404"
r=$(http req 'POST /metrics HTTP/1.1\r\nContent-Length: 2\r\n\r\nab')
echo "$r" | head -n 1 | grep -q '^HTTP/1.1 405 ' || fail "POST: not 405: $r"
echo "$r" | grep -q '^Allow: GET, HEAD' || fail "405 without Allow"
http req '\x00\xff garbage\r\n\r\n' | head -n 1 | grep -q '^HTTP/1.1 400 ' ||
	fail "garbage: not 400"
r=$(http req 'HEAD /metrics HTTP/1.0\r\n\r\n')
echo "$r" | head -n 1 | grep -q '^HTTP/1.1 200 ' || fail "HEAD: not 200"
[ -z "$(echo "$r" | sed '1,/^\r$/d')" ] || fail "HEAD: a body came"
http req "GET /metrics HTTP/1.1\r\nX-Big: $(printf 'a%.0s' {1..5000})\r\n\r\n" |
	head -n 1 | grep -q '^HTTP/1.1 431 ' || fail "a 5 KB head: not 431"

# ---- junk, then slowloris and too many clients ----------------------------------------
t0=$(now_ms)
http junk 400 >/dev/null || fail "junk: could not connect"
say "400 connections of junk in $(($(now_ms) - t0)) ms"
cloud_check B
in_ns A python3 "$NET_TMP/client.py" "$AB" 9100 hold >"$NET_TMP/hold.out" ||
	fail "hold: $(cat "$NET_TMP/hold.out")"
read -r _ xbytes xms < <(grep '^extra ' "$NET_TMP/hold.out")
read -r _ sms sent < <(grep '^slow ' "$NET_TMP/hold.out")
read -r _ ims < <(grep '^idle ' "$NET_TMP/hold.out")
say "9th client: $xbytes bytes, closed after $xms ms; slowloris dropped after $sms ms ($sent bytes sent); idle ones after $ims ms"
[ "$xbytes" = 0 ] && [ "$xms" -lt $((1000 * SLOW)) ] ||
	fail "the 9th client got $xbytes bytes, closed after $xms ms"
[ "$sms" != None ] && [ "$sms" -ge 4500 ] && [ "$sms" -lt $((8000 * SLOW)) ] ||
	fail "slowloris dropped after $sms ms (want 5 s)"
[ "$sent" -ge 8 ] || fail "slowloris sent only $sent bytes"
[ "$ims" -ge 4500 ] && [ "$ims" -lt $((8000 * SLOW)) ] ||
	fail "idle clients dropped after $ims ms"
cloud_check B
scrape m2
head -n 1 "$NET_TMP/m2.http" | grep -q '^HTTP/1.1 200 OK' ||
	fail "after the held clients: $(head -n 1 "$NET_TMP/m2.http")"
[ "$(value m2 cloudvpn_metrics_clients_refused_total)" -ge 1 ] ||
	fail "refused clients not counted"
[ "$(value m2 cloudvpn_metrics_clients_timed_out_total)" -ge 8 ] ||
	fail "timed out clients: $(value m2 cloudvpn_metrics_clients_timed_out_total), not 8"

# ---- a real Prometheus scrapes B ----------------------------------------------
cat >"$NET_TMP/prom.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: cloudvpn
    static_configs:
      - targets: ['$AB:9100']
EOF
run_in A prometheus prometheus --config.file="$NET_TMP/prom.yml" \
	--storage.tsdb.path="$NET_TMP/prom-data" \
	--web.listen-address=127.0.0.1:9090
PID_prom=$LAST_PID
# query.py QUERY: the first result's value, or nothing
cat >"$NET_TMP/query.py" <<'PY'
import json, sys, urllib.parse, urllib.request
url = "http://127.0.0.1:9090/api/v1/query?query=" + urllib.parse.quote(sys.argv[1])
try:
    r = json.load(urllib.request.urlopen(url, timeout=2))
    print(r["data"]["result"][0]["value"][1])
except Exception:
    pass
PY
query() { in_ns A python3 "$NET_TMP/query.py" "$1"; }
scraped() { [ "$(query cloudvpn_routes)" = 3 ]; }
t0=$(now_ms)
wait_for $((20 * SLOW)) scraped || fail "Prometheus has no cloudvpn_routes 3: \"$(query cloudvpn_routes)\""
say "Prometheus has cloudvpn_routes 3 after $(($(now_ms) - t0)) ms"
[ "$(query 'up{job="cloudvpn"}')" = 1 ] || fail "Prometheus: target not up"
[ "$(query 'count(cloudvpn_link_rtt_seconds)')" = 2 ] ||
	fail "Prometheus: not 2 link RTTs"
# its exit is Prometheus's business: it ends within 10 ms of SIGTERM, but
# its last thread waits on the disk (D state), which on a busy machine took
# 5 to 20 s after it said goodbye: SIGKILL after 3 s
proc_stop "$PID_prom" TERM 3 || true
grep -q "See you next time" "$NET_TMP/prometheus.log" ||
	say "prometheus did not say goodbye: $(tail -n 1 "$NET_TMP/prometheus.log")"
cloud_check A B C

# ---- configuration errors ------------------------------------------------------
echo "metrics /run/x.sock" >"$NET_TMP/bad.cfg"
out=$("$CLOUD" -@include "$NET_TMP/bad.cfg" -key "$CERTS/B.key" \
	-cert "$CERTS/B.crt" -ca "$CERTS/ca.crt" 2>&1) && fail "a UNIX path was taken"
echo "$out" | grep -q "bad.cfg:1: metrics: \"/run/x.sock\": a host and port are needed here" ||
	fail "metrics with a path: $out"
out=$(in_ns B "$CLOUD" -metrics "$AB 9100" -key "$CERTS/B.key" \
	-cert "$CERTS/B.crt" -ca "$CERTS/ca.crt" 2>&1) && fail "a port in use was taken"
echo "$out" | grep -q "command line: metrics: not listening on \"$AB 9100\" at all" ||
	fail "metrics on a port in use: $out"
say "ok"
