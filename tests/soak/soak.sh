#!/bin/bash
# Endurance: six nodes in a ring with a chord, ether on every node, three
# TCP sessions through the TAPs (tests/soak/flow.py: every byte checked
# and echoed), while links flap, daemons restart and gates restart at
# random times. `make soak` (as root; not part of make check).
#
#        A ---- B              daemons restarted (SIGTERM, start): C E
#       / \      \             ethers restarted (SIGTERM, start):  D F
#      F   \      C            long-lived daemons: A B D F
#       \   \    /             long-lived ethers:  A B C E
#        E ---- D              sessions: B -> E, F -> C, A -> D
#     (chord A - D)
#
# A flap drops everything on one link (nftables, in one end's namespace)
# for 1 to 8 s: longer than conn_timeout (3 s) the link goes down. At most
# two links are cut at a time. The chaos stops SOAK_SETTLE s before the
# end, so the last 30 s show whether everything came back.
#
# Checked at the end, all reported in one table, any failure fails:
#   - every daemon and gate is alive, each one stopped with SIGTERM
#     exited 0, and no log has a sanitizer report (lib.sh looks);
#   - the RSS and open fds of each long-lived process are flat after
#     warm-up: the largest sample of the last third is at most the
#     largest of the first third (after warm-up) plus a tolerance;
#   - no forwarding loop: ttl_expired stays 0 on every daemon (the
#     counts of restarted daemons are read just before each stop);
#   - each session is one connection without error, and echoed at least
#     a quarter of its rate in the last 30 s.
#
# Environment: SOAK_SECONDS (600) the whole run, SOAK_SETTLE (40) the calm
# end, SOAK_SEED (random) for $RANDOM, SOAK_RATE (500000) bytes/s per
# session, SOAK_SAMPLE (5) s between samples, SOAK_RSS_TOL_KB (1024) and
# SOAK_RSS_TOL_PCT (10), SOAK_FD_TOL (3). KEEP=1 keeps the logs.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
NET_NAME=soak
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
. "$top_srcdir/tests/net/mesh.sh"
. "$top_srcdir/tests/net/ether.sh"
net_init
net_need_cloud
ether_need
command -v python3 >/dev/null || skip "no python3"
command -v nft >/dev/null || skip "no nft"
FLOW=$top_srcdir/tests/soak/flow.py

DURATION=${SOAK_SECONDS:-600}
SETTLE=${SOAK_SETTLE:-40}
SEED=${SOAK_SEED:-$((($$ * 7919 + $(date +%s)) % 32768))}
RATE=${SOAK_RATE:-500000}
SAMPLE=${SOAK_SAMPLE:-5}
RSS_TOL_KB=${SOAK_RSS_TOL_KB:-1024}
RSS_TOL_PCT=${SOAK_RSS_TOL_PCT:-10}
FD_TOL=${SOAK_FD_TOL:-3}
[ "$DURATION" -ge $((SETTLE + 20)) ] ||
	hard_error "SOAK_SECONDS=$DURATION: at least SOAK_SETTLE + 20"
WARMUP=$((DURATION / 10 > 10 ? DURATION / 10 : 10))
# An ASan build keeps freed memory in quarantine (256 MB by default),
# which its RSS climbs to for minutes: a small one lets it level off.
case ${ASAN_OPTIONS:-} in
*quarantine_size_mb*) ;;
*) export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4 ;;
esac
RANDOM=$SEED
NODES=(A B C D E F)
CHURN_CLOUD=(C E)
CHURN_ETHER=(D F)
LONG_CLOUD=(A B D F)
LONG_ETHER=(A B C E)
# session: client server; the server's TAP address is 10.91.0.<its index>
SESSIONS=("B E" "F C" "A D")
say "seed $SEED, $DURATION s ($SETTLE s calm at the end), warm-up $WARMUP s"

# ---- the mesh ---------------------------------------------------------
host "${NODES[@]}"
LINK_NS=() LINK_NAME=()	# per link number: the namespace that cuts it
soak_link() {
	link "$1" "$2"
	LINK_NS[NET_LINKS]=$1
	LINK_NAME[NET_LINKS]=$1-$2
	eval "TO_$2_FROM_$1=$LB"
}
soak_link A B; soak_link B C; soak_link C D; soak_link D E
soak_link E F; soak_link F A; soak_link A D
certs "${NODES[@]}"
# cloud_conf NAME: the daemon's connect lines (each link's first end
# connects to the other)
cloud_conf() {
	local v
	for v in $(compgen -v "TO_"); do
		[ "${v##*_FROM_}" = "$1" ] || continue
		echo "$CONNECT ${!v} 5000"
	done
}
start_cloud() {
	local lines=()
	mapfile -t lines < <(cloud_conf "$1")
	mesh_start "$1" "${lines[@]}"
}
idx() { local i; for i in "${!NODES[@]}"; do [ "${NODES[i]}" = "$1" ] && echo $((i + 1)); done; }
start_ether() {
	local i
	i=$(idx "$1")
	ether_start "$1" "$1" "$1" -iface_addr "10.91.0.$i/24" \
		-mac "02:00:00:00:01:0$i"
}
for n in "${NODES[@]}"; do start_cloud "$n"; done
for l in "A B" "B C" "C D" "D E" "E F" "F A" "A D"; do
	wait_for 20 links_up $l || fail "link $l not up"
done
for n in "${NODES[@]}"; do start_ether "$n"; done
for n in "${NODES[@]}"; do
	wait_for 5 tap_up "$n" || fail "$n's TAP is not up"
done
for s in "${SESSIONS[@]}"; do
	read -r c v <<<"$s"
	wait_for 10 pings "$c" "10.91.0.$(idx "$v")" || fail "ping $c -> $v failed"
done

for s in "${SESSIONS[@]}"; do
	read -r c v <<<"$s"
	run_in "$v" "flow-server-$v" python3 "$FLOW" serve "10.91.0.$(idx "$v")" 7001
	wait_for 5 listening "$v" 7001 || fail "flow server on $v not listening"
	run_in "$c" "flow-$c-$v" python3 "$FLOW" send "10.91.0.$(idx "$v")" 7001 \
		--rate "$RATE" --reconnect
	eval "PID_flow_$c=$LAST_PID"
done

# ---- the chaos ----------------------------------------------------------
declare -A FLAP_UNTIL=() FLAPS=() RESTARTS=() TTL_GONE=() NOROUTE_GONE=()
declare -A TTL=() NOROUTE=()
BAD=()	# failures, reported at the end
bad() { BAD+=("$*"); say "FAIL: $*"; }
# status_field NAME KEY: KEY's value on NAME's fwd line (0 if none)
status_field() {
	sed -n "s/^fwd .* $2=\([0-9]*\).*/\1/p" "$NET_TMP/$1.status" 2>/dev/null |
		head -n 1 | grep . || echo 0
}
cut_link() {
	local i=$1 ns=${LINK_NS[$1]}
	in_ns "$ns" nft -f - <<-EOF || bad "nft on link ${LINK_NAME[i]}"
	table inet cvsoak_v$i {
		chain i { type filter hook input priority 0; iifname "v$i" drop; }
		chain o { type filter hook output priority 0; oifname "v$i" drop; }
	}
	EOF
	FLAP_UNTIL[$i]=$(($(now_ms) + 1000 + RANDOM % 7000))
	FLAPS[$i]=$((${FLAPS[$i]:-0} + 1))
}
heal_link() {
	in_ns "${LINK_NS[$1]}" nft delete table inet "cvsoak_v$1" ||
		bad "nft delete on link ${LINK_NAME[$1]}"
	unset "FLAP_UNTIL[$1]"
}
heal_due() {
	local i t
	t=$(now_ms)
	for i in "${!FLAP_UNTIL[@]}"; do
		[ "${FLAP_UNTIL[$i]}" -le "$t" ] && heal_link "$i"
	done
	return 0
}
restart_cloud() {
	local n=$1 rc=0
	TTL_GONE[$n]=$((${TTL_GONE[$n]:-0} + $(status_field "$n" ttl_expired)))
	NOROUTE_GONE[$n]=$((${NOROUTE_GONE[$n]:-0} + $(status_field "$n" no_route)))
	cloud_stop "$n" TERM 5 || rc=$?
	[ "$rc" -eq 0 ] || bad "daemon $n exited $rc on SIGTERM"
	sleep "0.$((RANDOM % 10))"
	start_cloud "$n"
	RESTARTS[cloud_$n]=$((${RESTARTS[cloud_$n]:-0} + 1))
}
restart_ether() {
	local n=$1 rc=0 pid
	pid=$(eval echo "\$PID_ether_$n")
	proc_stop "$pid" TERM 5 || rc=$?
	[ "$rc" -eq 0 ] || bad "ether $n exited $rc on SIGTERM"
	sleep "0.$((RANDOM % 10))"
	start_ether "$n"
	RESTARTS[ether_$n]=$((${RESTARTS[ether_$n]:-0} + 1))
}
chaos() {
	local r=$((RANDOM % 4)) i
	case $r in
	0 | 1)
		[ "${#FLAP_UNTIL[@]}" -lt 2 ] || return 0
		i=$((1 + RANDOM % NET_LINKS))
		[ -z "${FLAP_UNTIL[$i]:-}" ] && cut_link "$i"
		;;
	2) restart_cloud "${CHURN_CLOUD[RANDOM % ${#CHURN_CLOUD[@]}]}" ;;
	3) restart_ether "${CHURN_ETHER[RANDOM % ${#CHURN_ETHER[@]}]}" ;;
	esac
}
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
sample() {
	local t=$1 n pid
	for n in "${LONG_CLOUD[@]}"; do
		pid=$(eval echo "\${PID_$n:-}")
		echo "$t cloud_$n $(rss_kb "$pid") $(fd_count "$pid")"
	done
	for n in "${LONG_ETHER[@]}"; do
		pid=$(eval echo "\${PID_ether_$n:-}")
		echo "$t ether_$n $(rss_kb "$pid") $(fd_count "$pid")"
	done
}

t_start=$(now_ms)
t_calm=$((t_start + (DURATION - SETTLE) * 1000))
t_end=$((t_start + DURATION * 1000))
next_event=$((t_start + 2000))
next_sample=$t_start
ticks=0
events=0
while [ "$(now_ms)" -lt "$t_end" ] && [ $((ticks++)) -lt $((DURATION * 10)) ]; do
	now=$(now_ms)
	if [ "$now" -ge "$next_sample" ]; then
		sample $(((now - t_start) / 1000)) >>"$NET_TMP/samples.txt"
		next_sample=$((next_sample + SAMPLE * 1000))
	fi
	heal_due
	if [ "$now" -lt "$t_calm" ] && [ "$now" -ge "$next_event" ]; then
		chaos
		events=$((events + 1))
		next_event=$(($(now_ms) + 2000 + RANDOM % 4000))
	elif [ "$now" -ge "$t_calm" ]; then
		for i in "${!FLAP_UNTIL[@]}"; do heal_link "$i"; done
	fi
	[ "$((ticks % 50))" -ne 0 ] || say "$(((now - t_start) / 1000)) s: $events events"
	sleep 0.2
done
say "chaos done: $events events in $(((t_calm - t_start) / 1000)) s, then $SETTLE s calm"

# ---- the checks ------------------------------------------------------------
# Alive: every daemon, gate and session.
for n in "${NODES[@]}"; do
	alive "$(eval echo "\${PID_$n:-0}")" || bad "daemon $n is not running"
	alive "$(eval echo "\${PID_ether_$n:-0}")" || bad "ether $n is not running"
done
# No loop: ttl_expired over every daemon's life.
for n in "${NODES[@]}"; do
	TTL[$n]=$((${TTL_GONE[$n]:-0} + $(status_field "$n" ttl_expired)))
	NOROUTE[$n]=$((${NOROUTE_GONE[$n]:-0} + $(status_field "$n" no_route)))
	[ "${TTL[$n]}" -eq 0 ] || bad "daemon $n: ttl_expired=${TTL[$n]} (a forwarding loop)"
done
# Sessions: stop them (each prints its last line), then judge their logs.
t_stop=$(now_ms)
for s in "${SESSIONS[@]}"; do
	read -r c v <<<"$s"
	proc_stop "$(eval echo "\$PID_flow_$c")" TERM 5 || bad "session $c -> $v exited non-zero"
done
# flow_stats LOG T_STOP: total echoed, echoed in the 30 s before T_STOP,
# connections, errors, longest pause of the echo (ms)
flow_stats() {
	grep '^ms=' "$1" | awk -v te="$2" '
	{ split($1, m, "="); split($3, e, "="); split($4, c, "=");
	  split($5, r, "="); ms = m[2]; b = e[2] }
	NR == 1 { moved = ms }
	b > prev { if (ms - moved > gap) gap = ms - moved; moved = ms }
	ms <= te - 30000 { b30 = b }
	{ prev = b; conns = c[2]; errs = r[2] }
	END { print b + 0, b - b30, conns + 0, errs + 0, gap + 0 }'
}
FLOW_ROWS=()
for s in "${SESSIONS[@]}"; do
	read -r c v <<<"$s"
	read -r total last30 conns errs gap <<<"$(flow_stats "$NET_TMP/flow-$c-$v.log" "$t_stop")"
	FLOW_ROWS+=("$(printf '%-8s %12d %12d %6d %6d %10d' "$c->$v" "$total" "$last30" "$conns" "$errs" "$gap")")
	[ "$conns" -eq 1 ] && [ "$errs" -eq 0 ] ||
		bad "session $c -> $v: $conns connections, $errs errors"
	[ "$last30" -ge $((RATE * 30 / 4)) ] ||
		bad "session $c -> $v: $last30 bytes in the last 30 s (rate $RATE/s)"
done
# Flat: per long-lived process, the largest RSS and fd count in the first
# and in the last third of the samples after warm-up.
PROC_ROWS=()
while read -r name n rss0 rss1 fd0 fd1; do
	PROC_ROWS+=("$(printf '%-9s %4d %9d %9d %6d %6d' "$name" "$n" "$rss0" "$rss1" "$fd0" "$fd1")")
	[ "$n" -ge 3 ] || { bad "$name: only $n samples after warm-up"; continue; }
	[ "$rss1" -le $((rss0 + rss0 * RSS_TOL_PCT / 100 + RSS_TOL_KB)) ] ||
		bad "$name: RSS grew from $rss0 to $rss1 kB"
	[ "$fd1" -le $((fd0 + FD_TOL)) ] || bad "$name: fds grew from $fd0 to $fd1"
done < <(awk -v w="$WARMUP" '$1 >= w { k[$2] = k[$2] " " $3 ":" $4 }
	END { for (p in k) { n = split(substr(k[p], 2), s, " ");
		a = int(n / 3); if (a < 1) a = 1
		r0 = f0 = r1 = f1 = 0
		for (i = 1; i <= n; i++) { split(s[i], v, ":")
			if (i <= a) { if (v[1] > r0) r0 = v[1]; if (v[2] > f0) f0 = v[2] }
			if (i > n - a) { if (v[1] > r1) r1 = v[1]; if (v[2] > f1) f1 = v[2] } }
		print p, n, r0, r1, f0, f1 } }' "$NET_TMP/samples.txt" | sort)
# Exited as told: every daemon and ether stops with SIGTERM, status 0.
for n in "${NODES[@]}"; do
	rc=0
	proc_stop "$(eval echo "\${PID_ether_$n:-0}")" TERM 5 || rc=$?
	[ "$rc" -eq 0 ] || bad "ether $n exited $rc on the final SIGTERM"
	rc=0
	cloud_stop "$n" TERM 5 || rc=$?
	[ "$rc" -eq 0 ] || bad "daemon $n exited $rc on the final SIGTERM"
done

# ---- the table ------------------------------------------------------------
echo "== soak summary: seed $SEED, $DURATION s, $events events"
printf '%-5s %9s %9s %12s %9s\n' node restarts ether_rst ttl_expired no_route
for n in "${NODES[@]}"; do
	printf '%-5s %9d %9d %12d %9d\n' "$n" "${RESTARTS[cloud_$n]:-0}" \
		"${RESTARTS[ether_$n]:-0}" "${TTL[$n]}" "${NOROUTE[$n]}"
done
printf '%-9s %4s %9s %9s %6s %6s\n' process n rss_kB_1st rss_kB_end fd_1st fd_end
printf '%s\n' "${PROC_ROWS[@]}"
printf '%-8s %12s %12s %6s %6s %10s\n' session echoed last_30s conns errors max_gap_ms
printf '%s\n' "${FLOW_ROWS[@]}"
printf '%-5s %6s\n' link flaps
for i in $(seq 1 "$NET_LINKS"); do
	printf '%-5s %6d\n' "${LINK_NAME[i]}" "${FLAPS[$i]:-0}"
done
if [ "${#BAD[@]}" -gt 0 ]; then
	printf 'soak: FAIL: %s\n' "${BAD[@]}"
	exit 1
fi
say "PASS"
