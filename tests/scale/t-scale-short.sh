#!/bin/bash
# The scale measurement of tests/scale/scale.sh, small enough for make
# check (about 30 s): 12 daemons on a random graph of mean degree 3, each
# in its namespace, each announcing one address. It fails when a figure
# misses the issue-15 aims scaled to 12 nodes: converged within 5 s of the
# last daemon's start, rerouted within 1 s of the busiest node's SIGKILL,
# at most 8 MB RSS a daemon, at most 120 B/s (1 KB/s x 12/100) of idle
# control traffic a node, at most 0.5 % of a core of idle CPU a daemon.
# `make scale` runs the full set (tests/scale/run).
#
# An aim named in SCALE_KNOWN_MISSED (e.g. "ctl") is reported, not held.
#
#   n1 - n2 - ...   random tree + an edge more per leaf + random edges
#    \___/  ...     (measure.py graph random 12 1), 18 edges
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
export top_srcdir
# Idle is measured once the mesh has settled: its links' first pings
# still lower their costs (and flood records) for a while after it has
# converged. Under ASan, with the gates attached from the start (so that
# it converges sooner), 10 s was not enough: 145-312 B/s in 4 runs of 4,
# 28 B/s in 3 of 3 with 25 s.
settle=10
grep -q __asan_init "${top_builddir:-.}/cloud/cloud" 2>/dev/null && settle=25
SCALE_N=12 SCALE_GRAPH=random SCALE_SEED=1 SCALE_SETTLE=${SCALE_SETTLE:-$settle} \
	SCALE_IDLE=${SCALE_IDLE:-15} SCALE_ASSERT=1 NET_NAME=t-scale-short \
	exec bash "$top_srcdir/tests/scale/scale.sh"
