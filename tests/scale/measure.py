#!/usr/bin/env python3
"""measure: what tests/scale/scale.sh asks of a mesh of cloud daemons.

Every command reads NODES, a file of one line per node:

  NAME CONTROL_SOCKET ADDR PID NETNS

(ADDR as status route lines give it, e.g. 1/0007/16). The daemons are
asked for snapshots through their control sockets (all at once, so a
round costs about one snapshot's time, not N), which keeps them from
writing status files while idle.

  measure.py graph KIND N SEED         print the edges "A B" (A < B)
  measure.py converge NODES EDGES T0_MS SECS [DEAD]
      poll until every live node has a route to every live node that
      the graph EDGES (lines "I J", nodes numbered from 1 in NODES'
      order) still connects it to, along which the next hops, followed
      node by node, reach it (no hop through DEAD, no loop, no
      withdrawn route), if it is at most SCALE_MAX_DIST (64, the
      daemon's route_max_dist) hops away. Prints "ms=... rounds=...
      round_ms=... cut_off=... far=..." (ms from T0_MS, wall clock, to
      the last answer of the first round that saw it: every table held
      by then; round_ms: how long that round took with our own work on
      the answers; cut_off: live nodes DEAD's
      death left apart from the largest part; far: pairs of live nodes
      connected but too far apart); exit 1 after SECS.
  measure.py cpu NODES [DEAD]          CPU seconds (utime+stime) the
      daemons but DEAD have used, all together
  measure.py busiest NODES             the node that is the next hop of
      the most routes of the others (ties: the first listed)
  measure.py idle NODES SECS OUT       counters over SECS of idle:
      per node control bytes sent on its links (frames), bytes its
      veths sent (wire), CPU (utime+stime), and at the end RSS, its
      peak (VmHWM), PSS and USS (private pages: what one more daemon
      costs); OUT gets one line a node; stdout the key=value summary.
"""
import json
import os
import random
import selectors
import socket
import subprocess
import sys
import time

INF = 4294967295


def load(path):
    nodes = []
    with open(path) as f:
        for line in f:
            w = line.split()
            if len(w) == 5:
                nodes.append({"name": w[0], "ctl": w[1], "addr": w[2],
                              "pid": int(w[3]), "ns": w[4]})
    return nodes


def fields(line):
    kind, _, rest = line.partition(" ")
    rec = {}
    for w in rest.split(" "):
        k, eq, v = w.partition("=")
        if eq:
            rec[k] = v
    return kind, rec


def snapshots(nodes, timeout=3.0, req=b"status\n"):
    """Ask every node for a snapshot at once: name -> text (None: no
    answer, e.g. a daemon not yet listening or dead), and the wall clock
    time the last answer ended. The request is said at once: a client
    that says nothing waits CTL_ASK (100 ms) for its answer. "routes"
    gets the route lines alone (at N = 100, 12 KB, not the 48 KB of a
    snapshot with links, nodes and edges)."""
    sel = selectors.DefaultSelector()
    out = {}
    last = time.time()
    for n in nodes:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(n["ctl"])
            s.sendall(req)
        except OSError:
            s.close()
            out[n["name"]] = None
            continue
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, (n["name"], []))
    end = time.monotonic() + timeout
    while sel.get_map():
        left = end - time.monotonic()
        if left <= 0:
            break
        for key, _ in sel.select(left):
            name, parts = key.data
            try:
                b = key.fileobj.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                b = b""
            if b:
                parts.append(b)
                continue
            sel.unregister(key.fileobj)
            key.fileobj.close()
            out[name] = b"".join(parts).decode("ascii", "replace")
            last = time.time()
    for key in list(sel.get_map().values()):
        out[key.data[0]] = None
        key.fileobj.close()
    sel.close()
    return out, last


def parse(text):
    """-> (routes: addr -> record, links: [record])"""
    routes, links = {}, []
    for line in (text or "").splitlines():
        if not line.startswith(("route ", "link ")):
            continue
        kind, rec = fields(line)
        if kind == "route":
            routes[rec.get("addr")] = rec
        elif kind == "link":
            links.append(rec)
    return routes, links


def hops(nodes, edges, dead):
    """name -> {name: hops} over the live nodes (unreachable: absent)."""
    adj = {n["name"]: [] for n in nodes if n["name"] not in dead}
    for a, b in edges:
        x, y = nodes[a - 1]["name"], nodes[b - 1]["name"]
        if x in adj and y in adj:
            adj[x].append(y)
            adj[y].append(x)
    dist = {}
    for start in adj:
        d = dist[start] = {start: 0}
        todo = [start]
        for x in todo:
            for y in adj[x]:
                if y not in d:
                    d[y] = d[x] + 1
                    todo.append(y)
    return dist


def missing_paths(nodes, want, tables, dead):
    """Pairs (src, dst) in want whose next hops do not lead to dst."""
    live = [n for n in nodes if n["name"] not in dead]
    miss = []
    for s in live:
        for d in live:
            if d["name"] not in want[s["name"]]:
                continue
            cur, ok = s["name"], False
            for _ in range(len(nodes) + 1):
                r = tables.get(cur, {}).get(d["addr"])
                if r is None or r.get("metric") == str(INF):
                    break
                via = r.get("via")
                if via == "local":
                    ok = cur == d["name"]
                    break
                if via in dead or via not in tables:
                    break
                cur = via
            if not ok:
                miss.append((s["name"], d["name"]))
    return miss


def load_edges(path):
    with open(path) as f:
        return [tuple(int(x) for x in line.split()) for line in f
                if line.strip()]


def cmd_converge(nodes, edges, t0_ms, secs, dead, max_dist):
    dead = set(dead)
    live = [n for n in nodes if n["name"] not in dead]
    dist = hops(nodes, edges, dead)
    cut_off = len(live) - max(len(d) for d in dist.values())
    # routes travel route_max_dist hops at most
    far = sum(1 for d in dist.values() for h in d.values() if h > max_dist)
    want = {x: {y for y, h in d.items() if h <= max_dist}
            for x, d in dist.items()}
    rounds = 0
    end = time.time() + secs
    miss = [("-", "-")]
    while True:
        start = time.time()
        snap, last = snapshots(live, req=b"routes\n")
        tables = {k: parse(v)[0] for k, v in snap.items() if v is not None}
        miss = missing_paths(nodes, want, tables, dead)
        stop = time.time()
        rounds += 1
        if not miss:
            print("ms=%d rounds=%d round_ms=%d cut_off=%d far=%d" % (
                last * 1000 - t0_ms, rounds, (stop - start) * 1000,
                cut_off, far))
            return 0
        if stop >= end:
            break
        time.sleep(0.02)
    print("ms=- rounds=%d round_ms=%d missing=%d first=%s" % (
        rounds, (stop - start) * 1000, len(miss),
        ",".join("%s>%s" % p for p in miss[:8])))
    return 1


def cmd_busiest(nodes):
    snap = snapshots(nodes, req=b"routes\n")[0]
    count = {n["name"]: 0 for n in nodes}
    for text in snap.values():
        for r in parse(text)[0].values():
            if r.get("via") in count:
                count[r["via"]] += 1
    best = max(nodes, key=lambda n: count[n["name"]])
    print("%s %d" % (best["name"], count[best["name"]]))
    return 0


def proc_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        st = f.read().rsplit(")", 1)[1].split()
    return int(st[11]) + int(st[12])	# utime, stime (fields 14, 15)


def proc_kb(pid, key, where="status"):
    with open("/proc/%d/%s" % (pid, where)) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def wire_tx(ns):
    """Bytes sent by every veth of namespace ns."""
    out = subprocess.run(["ip", "-n", ns, "-s", "-j", "link", "show"],
                         capture_output=True, text=True, check=True).stdout
    tx = 0
    for dev in json.loads(out):
        if dev.get("link_type") == "ether":
            tx += dev["stats64"]["tx"]["bytes"]
    return tx


def counters(nodes):
    snap = snapshots(nodes)[0]
    c = {}
    for n in nodes:
        routes, links = parse(snap.get(n["name"]))
        if snap.get(n["name"]) is None:
            raise SystemExit("measure: %s: no snapshot" % n["name"])
        c[n["name"]] = {
            "ctl": sum(int(l.get("bytes_out", 0)) for l in links),
            "wire": wire_tx(n["ns"]),
            "ticks": proc_ticks(n["pid"]),
            "links": len(links),
            "routes": len(routes),
        }
    return c


def cmd_cpu(nodes, dead):
    ticks = 0
    for n in nodes:
        if n["name"] in dead:
            continue
        try:
            ticks += proc_ticks(n["pid"])
        except OSError:
            pass	# dead
    print("%.2f" % (ticks / os.sysconf("SC_CLK_TCK")))
    return 0


def stats(vals):
    return max(vals), sum(vals) / len(vals)


def cmd_idle(nodes, secs, out):
    hz = os.sysconf("SC_CLK_TCK")
    a = counters(nodes)
    t0 = time.monotonic()
    time.sleep(secs)
    b = counters(nodes)
    dt = time.monotonic() - t0
    rows = []
    for n in nodes:
        x, y = a[n["name"]], b[n["name"]]
        rows.append({
            "name": n["name"], "links": y["links"], "routes": y["routes"],
            "ctl": (y["ctl"] - x["ctl"]) / dt,
            "wire": (y["wire"] - x["wire"]) / dt,
            "cpu": 100.0 * (y["ticks"] - x["ticks"]) / hz / dt,
            "rss": proc_kb(n["pid"], "VmRSS"),
            "hwm": proc_kb(n["pid"], "VmHWM"),
            "pss": proc_kb(n["pid"], "Pss", "smaps_rollup"),
            "uss": proc_kb(n["pid"], "Private_Clean", "smaps_rollup") +
            proc_kb(n["pid"], "Private_Dirty", "smaps_rollup"),
        })
    with open(out, "w") as f:
        f.write("# name links routes ctl_Bps wire_Bps cpu_pct rss_kB "
                "hwm_kB pss_kB uss_kB (idle %.1f s)\n" % dt)
        for r in rows:
            f.write("%s %d %d %.1f %.1f %.3f %d %d %d %d\n" % (
                r["name"], r["links"], r["routes"], r["ctl"], r["wire"],
                r["cpu"], r["rss"], r["hwm"], r["pss"], r["uss"]))
    for k in ("ctl", "wire", "cpu", "rss", "hwm", "pss", "uss"):
        mx, mean = stats([r[k] for r in rows])
        print("%s_max=%.3f" % (k, mx))
        print("%s_mean=%.3f" % (k, mean))
    print("idle_s=%.1f" % dt)
    return 0


def grid_shape(n):
    r = int(n ** 0.5)
    while n % r:
        r -= 1
    return r, n // r


def cmd_graph(kind, n, seed):
    edges = set()
    if kind == "ring":
        edges = {(i, i % n + 1) for i in range(1, n + 1)}
    elif kind == "grid":
        rows, cols = grid_shape(n)
        for i in range(n):
            if i % cols + 1 < cols:
                edges.add((i + 1, i + 2))
            if i + cols < n:
                edges.add((i + 1, i + cols + 1))
    elif kind == "random":
        # a random tree (each node joins one before it: connected), an
        # edge more for each leaf (so that one node's death cuts few
        # off), then random edges until the mean degree is 3
        rng = random.Random(seed)
        deg = [0] * (n + 1)

        def add(a, b):
            e = (min(a, b), max(a, b))
            if a != b and e not in edges:
                edges.add(e)
                deg[a] += 1
                deg[b] += 1

        for i in range(2, n + 1):
            add(rng.randint(1, i - 1), i)
        for i in range(1, n + 1):
            while deg[i] < 2 and n > 2:
                add(i, rng.randint(1, n))
        while len(edges) < 3 * n // 2:
            add(*rng.sample(range(1, n + 1), 2))
    else:
        raise SystemExit("measure: graph: random, ring or grid")
    for a, b in sorted((min(e), max(e)) for e in edges):
        print(a, b)
    return 0


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "graph" and len(argv) == 5:
        return cmd_graph(argv[2], int(argv[3]), int(argv[4]))
    if cmd == "converge" and len(argv) in (6, 7):
        return cmd_converge(load(argv[2]), load_edges(argv[3]),
                            int(argv[4]), float(argv[5]),
                            argv[6].split(",") if len(argv) == 7 else [],
                            int(os.environ.get("SCALE_MAX_DIST", "64")))
    if cmd == "busiest" and len(argv) == 3:
        return cmd_busiest(load(argv[2]))
    if cmd == "cpu" and len(argv) in (3, 4):
        return cmd_cpu(load(argv[2]), argv[3:])
    if cmd == "idle" and len(argv) == 5:
        return cmd_idle(load(argv[2]), float(argv[3]), argv[4])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
