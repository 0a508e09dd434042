#!/bin/bash
# The whole mesh from one node: node records (doc/PROTOCOL.md 2.7) reach
# A from every node, `cloudctl nodes` says how A reaches each and why it
# goes through a relay, `cloudctl graph` draws it (dot renders it when
# graphviz is here), and a cut link shows within seconds.
#
#        A ====== slow (a proxy delays 25 ms each way) ====== D
#        |                                                    |
#        B ------------------ C (over UDP) -------------------+
#
# A reaches B directly, C through B (no link of its own), D through B and
# C (its direct link is slower). Then B-C is cut: C is reached through D;
# it comes back; then A-B is cut: B through D, "direct link down".
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
. "$top_srcdir/tests/net/mesh.sh"
net_init
net_need_cloud
CTL=$top_builddir/tools/cloudctl
command -v python3 >/dev/null || skip "no python3 (the delay proxy)"

host A B C D
link A B; AB=$LB; V_AB=v$NET_LINKS
link B C; BC=$LB; V_BC=v$NET_LINKS
link C D; CD=$LB
link A D; AD=$LB

# A's link to D goes through this: every chunk waits 25 ms, both ways.
cat >"$NET_TMP/delay.py" <<'PY'
import asyncio, sys

DELAY = 0.025

async def pipe(r, w):
    loop, q = asyncio.get_running_loop(), asyncio.Queue()
    async def out():
        while True:
            t, data = await q.get()
            if not data:
                w.close()
                return
            await asyncio.sleep(max(0, t + DELAY - loop.time()))
            w.write(data)
            await w.drain()
    task = asyncio.create_task(out())
    while True:
        data = await r.read(65536)
        await q.put((loop.time(), data))
        if not data:
            break
    await task

async def handle(cr, cw):
    try:
        sr, sw = await asyncio.open_connection(sys.argv[3], int(sys.argv[4]))
    except OSError:
        cw.close()
        return
    await asyncio.gather(pipe(cr, sw), pipe(sr, cw), return_exceptions=True)

async def main():
    srv = await asyncio.start_server(handle, sys.argv[1], int(sys.argv[2]))
    async with srv:
        await srv.serve_forever()

asyncio.run(main())
PY
run_in A delay python3 "$NET_TMP/delay.py" 127.0.0.1 6000 "$AD" 5000

certs A B C D
mesh_start D
mesh_start C "listen-udp * 5000" "connect $CD 5000"
mesh_start B "connect-udp $BC 5000"
mesh_start A "connect $AB 5000" "connect 127.0.0.1 6000" \
	"control $NET_TMP/A.ctl"
wait_for 15 links_up A B || fail "A-B not up"
wait_for 15 links_up B C || fail "B-C not up"
wait_for 15 links_up C D || fail "C-D not up"
wait_for 15 links_up A D || fail "A-D (through the proxy) not up"
for n in A B C D; do
	cat_listen "$n" "$n" 1 "0$(echo "$n" | tr A-D a-d)"
done
VERSION=$("$CLOUD" -V | awk '{print $3}')

# node_has NAME ERE: A's status has a node line of NAME matching ERE.
node_has() { grep "^node name=$1 " "$NET_TMP/A.status" 2>/dev/null |
	grep -Eq -- "$2"; }
# edge_has X Y ERE: A's status has an edge line between X and Y (either
# way round) matching ERE; edge_gone X Y: none at all.
edge_line() { grep -E "^edge from=($1 .* to=$2|$2 .* to=$1) " \
	"$NET_TMP/A.status" 2>/dev/null; }
edge_has() { edge_line "$1" "$2" | grep -Eq -- "$3"; }
edge_gone() { [ -s "$NET_TMP/A.status" ] && ! edge_line "$1" "$2" >/dev/null; }
direct_slower='why="direct link slower: metric [0-9]+ direct, [0-9]+ via B"'

wait_for 10 node_has D "reach=relayed via=B hops=3 " ||
	fail "A does not reach D through B: $(grep '^node' "$NET_TMP/A.status")"
wait_for 5 node_has D "$direct_slower" ||
	fail "no reason why D is relayed: $(grep '^node name=D' "$NET_TMP/A.status")"
wait_for 5 node_has C 'reach=relayed via=B hops=2 .*why="no direct link' ||
	fail "A: C not through B, or no reason: $(grep '^node' "$NET_TMP/A.status")"
wait_for 5 node_has B "reach=direct via=B hops=1 metric=[0-9]+ why=- version=$VERSION links=2 " ||
	fail "A: B not direct: $(grep '^node' "$NET_TMP/A.status")"
wait_for 5 edge_has B C "transport=udp rtt_us=[0-9]+ next_hop=0" ||
	fail "A has no edge B-C over UDP: $(grep '^edge' "$NET_TMP/A.status")"
# records go once a node's links have been still for a second
wait_for 5 edge_has C D "transport=tcp " || fail "A has no edge C-D"
wait_for 5 edge_has A B "transport=tcp rtt_us=[0-9]+ next_hop=3$" ||
	fail "A's edge to B is not the next hop of 3 nodes: $(edge_line A B)"
rtt=$(edge_line A D | sed -n 's/.* rtt_us=\([0-9]*\) .*/\1/p')
[ "${rtt:-0}" -ge 50000 ] || fail "A-D RTT ${rtt:-none} us, under the proxy's 50 ms"
four_edges() { [ "$(grep -c '^edge' "$NET_TMP/A.status")" -eq 4 ]; }
wait_for 5 four_edges ||
	fail "A sees other than 4 links: $(grep '^edge' "$NET_TMP/A.status")"
for n in B C D; do
	wait_for 5 node_has "$n" "version=$VERSION links=2 age_s=[0-9]+" ||
		fail "A holds no record of $n: $(grep "^node name=$n" "$NET_TMP/A.status")"
done
say "A: $(grep '^node name=D' "$NET_TMP/A.status")"

# cloudctl: the same live, as text, JSON and a graph
"$CTL" -s "$NET_TMP/A.ctl" nodes >"$NET_TMP/nodes.txt" || fail "cloudctl nodes"
[ "$(grep -c '^node   name=' "$NET_TMP/nodes.txt")" -eq 4 ] ||
	fail "cloudctl nodes: $(cat "$NET_TMP/nodes.txt")"
grep -q '^node   name=A .* reach=self ' "$NET_TMP/nodes.txt" ||
	fail "cloudctl nodes lists no line for A itself"
"$CTL" -s "$NET_TMP/A.ctl" -json nodes >"$NET_TMP/nodes.json" ||
	fail "cloudctl -json nodes"
python3 - "$NET_TMP/nodes.json" <<'PY' || fail "cloudctl -json nodes: $(cat "$NET_TMP/nodes.json")"
import json, sys
n = {r["name"]: r for r in json.load(open(sys.argv[1]))}
assert set(n) == {"A", "B", "C", "D"}, n
assert n["B"]["reach"] == "direct" and n["B"]["why"] is None, n["B"]
assert n["D"]["reach"] == "relayed" and n["D"]["via"] == "B", n["D"]
assert type(n["D"]["hops"]) is int and type(n["D"]["metric"]) is int, n["D"]
assert n["D"]["why"].startswith("direct link slower"), n["D"]
assert isinstance(n["D"]["version"], str) and isinstance(n["D"]["id"], str)
PY
"$CTL" -s "$NET_TMP/A.ctl" graph >"$NET_TMP/mesh.dot" || fail "cloudctl graph"
[ "$(grep -c ' -- ' "$NET_TMP/mesh.dot")" -eq 4 ] ||
	fail "cloudctl graph: not 4 edges: $(cat "$NET_TMP/mesh.dot")"
grep -q 'penwidth=3' "$NET_TMP/mesh.dot" || fail "cloudctl graph: no next hop drawn bold"
grep -q 'label="D\\nvia B, 3 hops' "$NET_TMP/mesh.dot" ||
	fail "cloudctl graph: D's label: $(grep '"D' "$NET_TMP/mesh.dot")"
if command -v dot >/dev/null; then
	dot -Tsvg "$NET_TMP/mesh.dot" >"$NET_TMP/mesh.svg" 2>"$NET_TMP/dot.err" ||
		fail "dot -Tsvg: $(cat "$NET_TMP/dot.err")"
	grep -q '<svg' "$NET_TMP/mesh.svg" || fail "dot made no SVG"
	say "dot -Tsvg renders cloudctl graph ($(wc -c <"$NET_TMP/mesh.svg") bytes)"
else
	say "no dot (graphviz): the graph is not rendered"
fi
cloud_check A B C D

# B-C cut: C through D within seconds (B-C times out after conn_timeout,
# 3 s; then B and C each flood a record, once their links have been
# still for a second)
t0=$(now_ms)
in_ns B ip link set "$V_BC" down
wait_for 10 edge_gone B C || fail "A still sees B-C: $(grep '^edge' "$NET_TMP/A.status")"
t_edge=$(($(now_ms) - t0))
wait_for 5 node_has C 'reach=relayed via=D hops=2 ' ||
	fail "A does not reach C through D: $(grep '^node name=C' "$NET_TMP/A.status")"
wait_for 5 node_has B "links=1 " || fail "B's record still lists 2 links: $(grep '^node name=B' "$NET_TMP/A.status")"
say "B-C cut: gone from A's view after $t_edge ms (conn_timeout 3 s)"
[ "$t_edge" -lt 8000 ] || fail "the cut took $t_edge ms to show"

in_ns B ip link set "$V_BC" up
wait_for 15 edge_has B C "transport=udp" || fail "B-C did not come back"
wait_for 10 node_has C "reach=relayed via=B hops=2 " || fail "C not through B again"

# A-B cut: B is reached through D, and A says why
t0=$(now_ms)
in_ns A ip link set "$V_AB" down
wait_for 10 node_has B 'reach=relayed via=D hops=3 .*why="direct link down [0-9]+ s ago: timed out' ||
	fail "A: B not through D, or no reason: $(grep '^node name=B' "$NET_TMP/A.status")"
say "A-B cut: $(($(now_ms) - t0)) ms; $(grep '^node name=B' "$NET_TMP/A.status")"
cloud_check A B C D
say "ok"
