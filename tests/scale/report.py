#!/usr/bin/env python3
"""report: the results of tests/scale/run as markdown and a plot.

  report.py DIR DATE COMMIT RUN.kv...

Each RUN.kv is what scale.sh wrote (key=value), beside RUN.kv.nodes (its
per-node idle table). Writes DIR/DATE-GRAPH-N.md for each run, and
DIR/DATE-scale.dat and DIR/DATE-scale.png (gnuplot) over all of them.
"""
import os
import subprocess
import sys

ROWS = [
    # label, value format, aim key, unit
    ("converged, from the last daemon's start", "{conv_ms} ms "
     "(poll round {conv_round_ms} ms)", "conv", "ms"),
    ("converged, from the first daemon's start (the harness takes "
     "{start_ms} ms to start them all)", "{conv_first_ms} ms", None, None),
    ("rerouted, from the SIGKILL of {killed} (next hop of "
     "{killed_routes_via} routes)", "{reroute_ms} ms "
     "(poll round {reroute_round_ms} ms)", "reroute", "ms"),
    ("RSS per daemon, max / mean", "{rss_max:.0f} / {rss_mean:.0f} kB",
     "rss", "kB"),
    ("idle control traffic sent per node (link frames), max / mean",
     "{ctl_max:.0f} / {ctl_mean:.0f} B/s", "ctl", "B/s"),
    ("idle CPU per daemon, max / mean", "{cpu_max:.3f} / {cpu_mean:.3f} "
     "% of a core", "cpu", "%"),
    ("idle traffic sent per node on the wire (veth), max / mean",
     "{wire_max:.0f} / {wire_mean:.0f} B/s", None, None),
    ("peak RSS (VmHWM) per daemon, max", "{hwm_max:.0f} kB", None, None),
    ("PSS / USS (private) per daemon, mean", "{pss_mean:.0f} / "
     "{uss_mean:.0f} kB", None, None),
    ("CPU of all daemons to converge / to reroute",
     "{conv_cpu_s} s / {reroute_cpu_s} s", None, None),
    ("start of all gates (waiting for their daemons) / then of all "
     "daemons", "{gates_ms} ms / {start_ms} ms", None, None),
    ("nodes cut off by the kill / pairs then more than 64 hops apart "
     "(route_max_dist; neither counted)", "{cut_off} / {far}", None, None),
]


def load(path):
    kv = {}
    with open(path) as f:
        for line in f:
            k, eq, v = line.rstrip("\n").partition("=")
            if eq:
                try:
                    kv[k] = float(v) if "." in v else int(v)
                except ValueError:
                    kv[k] = v
    kv.setdefault("far", "-")
    return kv


def aim_cell(kv, key, unit):
    if key is None:
        return "", ""
    if "aim_" + key not in kv:
        return "(not held under ASan)", ""
    met = kv["met_" + key]
    return "<= %s %s" % (kv["aim_" + key], unit), \
        "yes" if met == "yes" else "**no**"


def markdown(kv, nodes, date, commit):
    g, n = kv["graph"], kv["n"]
    lines = [
        "# Scale: %s graph, N = %d (%s, commit %s)" % (g, n, date, commit),
        "",
        "`make scale` (tests/scale/run; this run alone: `SCALE_GRAPH=%s "
        "SCALE_N=%d bash tests/scale/scale.sh` as root). %d cloud daemons, "
        "each in its own network namespace, %d veth links (one TLS link "
        "each), each node announcing one address through a cloudcat; "
        "default timers. 2 cores shared with other work: load average "
        "before the run %s." % (g, n, n, kv["edges"], kv["load"]),
        "",
        "| figure | value | aim at N = %d | met |" % n,
        "| --- | --- | --- | --- |",
    ]
    for label, fmt, key, unit in ROWS:
        aim, met = aim_cell(kv, key, unit)
        lines.append("| %s | %s | %s | %s |" % (
            label.format(**kv), fmt.format(**kv), aim, met))
    lines += [
        "",
        "Idle: over %s s, from %s s after convergence. Aims: issue 15 at "
        "N = 100 (converged within 5 s, rerouted within 1 s, 8 MB RSS, "
        "1 KB/s of idle control traffic a node, idle CPU near zero: taken "
        "as 0.5 %% of a core); the traffic aim scales with N, the others "
        "stay." % (kv["idle_s"], kv.get("settle_s", "-")),
        "",
        "Per node (idle window):",
        "",
        "| node | links | routes | ctl B/s | wire B/s | CPU % | RSS kB "
        "| HWM kB | PSS kB | USS kB |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
        "| ---: |",
    ]
    for row in nodes:
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def plot(dat, png, graphs):
    def series(col):
        return ", ".join(
            "'%s' using 2:%d index %d with linespoints title '%s'" %
            (dat, col, i, g) for i, g in enumerate(graphs))
    script = "\n".join([
        "set terminal pngcairo size 1000,760 font ',10'",
        "set output '%s'" % png,
        "set multiplot layout 2,2 title 'cloudvpn scale (%s)'" %
        os.path.basename(png)[:10],
        "set key top left",
        "set grid",
        "set xlabel 'N (nodes)'",
        "set ylabel 'ms'",
        "set title 'converged after the last start (aim 5000 ms at 100)'",
        "plot " + series(3) + ", 5000 with lines dt 2 lc 'red' title 'aim'",
        "set title 'rerouted after SIGKILL of the busiest (aim 1000 ms)'",
        "plot " + series(4) + ", 1000 with lines dt 2 lc 'red' title 'aim'",
        "set ylabel 'kB'",
        "set title 'RSS per daemon, max (aim 8192 kB)'",
        "plot " + series(5) + ", 8192 with lines dt 2 lc 'red' title 'aim'",
        "set ylabel 'B/s'",
        "set logscale y",
        "set title 'idle control traffic per node, max (aim 10*N B/s)'",
        "plot " + series(6) + ", 10*x with lines dt 2 lc 'red' title 'aim'",
        "unset multiplot",
    ])
    subprocess.run(["gnuplot"], input=script, text=True, check=True)


def main(argv):
    if len(argv) < 5:
        sys.stderr.write(__doc__)
        return 2
    out, date, commit = argv[1], argv[2], argv[3]
    runs = [(load(p), p) for p in argv[4:]]
    by_graph = {}
    for kv, path in runs:
        nodes = []
        with open(path + ".nodes") as f:
            for line in f:
                if not line.startswith("#"):
                    nodes.append(line.split())
        md = os.path.join(out, "%s-%s-%d.md" % (date, kv["graph"], kv["n"]))
        with open(md, "w") as f:
            f.write(markdown(kv, nodes, date, commit))
        print("report: " + md)
        by_graph.setdefault(kv["graph"], []).append(kv)
    dat = os.path.join(out, "%s-scale.dat" % date)
    with open(dat, "w") as f:
        f.write("# graph N conv_ms reroute_ms rss_max_kB ctl_max_Bps "
                "cpu_max_pct (commit %s)\n" % commit)
        for g, kvs in by_graph.items():
            f.write("# %s\n" % g)
            for kv in sorted(kvs, key=lambda k: k["n"]):
                f.write("%s %d %d %d %.0f %.0f %.3f\n" % (
                    g, kv["n"], kv["conv_ms"], kv["reroute_ms"],
                    kv.get("rss_max", 0), kv["ctl_max"], kv["cpu_max"]))
            f.write("\n\n")
    png = os.path.join(out, "%s-scale.png" % date)
    plot(dat, png, list(by_graph))
    print("report: " + dat)
    print("report: " + png)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
