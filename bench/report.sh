# bench/report.sh: raw samples -> summary, Markdown table, gnuplot PNG.
# Sourced by bench/run after the hosts are gone; uses RAW, RESDIR, DATE,
# ONLY, RUNS, SECS, LOSS, QUICK, ELAPSED.
# shellcheck shell=bash disable=SC2015,SC2086

# samples.tsv (vpn topo metric run value) -> summary.tsv
# (vpn topo metric n median min max)
summarize() {
	sort -t "$(printf '\t')" -k1,1 -k2,2 -k3,3 -k5,5g "$RAW/samples.tsv" |
	awk -F '\t' -v OFS='\t' '
	function flush() {
		if (n == 0) return
		if (n % 2) med = v[(n + 1) / 2]
		else med = (v[n / 2] + v[n / 2 + 1]) / 2
		print key, n, med, v[1], v[n]
	}
	{
		k = $1 OFS $2 OFS $3
		if (k != key) { flush(); key = k; n = 0 }
		v[++n] = $5
	}
	END { flush() }' >"$RAW/summary.tsv"
}

# summ VPN TOPO METRIC -> "n median min max" (empty if none)
summ() {
	awk -F '\t' -v a="$1" -v b="$2" -v c="$3" \
		'$1 == a && $2 == b && $3 == c { print $4, $5, $6, $7 }' \
		"$RAW/summary.tsv"
}

# cell VPN TOPO METRIC FORMAT -> "median (min-max)" or "-"
cell() {
	local s
	s=$(summ "$1" "$2" "$3")
	[ -n "$s" ] || { echo "-"; return; }
	set -- $s "$4"
	if [ "$1" -gt 1 ]; then
		awk -v f="$5" -v m="$2" -v lo="$3" -v hi="$4" \
			'BEGIN { printf f " (" f "–" f ")", m, lo, hi }'
	else
		awk -v f="$5" -v m="$2" 'BEGIN { printf f, m }'
	fi
}

# ratio BASE VPN TOPO METRIC: BASE median / VPN median
ratio() {
	local c p
	c=$(summ "$1" "$3" "$4")
	p=$(summ "$2" "$3" "$4")
	[ -n "$c" ] && [ -n "$p" ] || { echo "-"; return; }
	awk -v c="${c#* }" -v p="${p#* }" 'BEGIN {
		split(c, x, " "); split(p, y, " ")
		if (y[1] == 0) print "-"; else printf "%.2f", x[1] / y[1] }'
}

fmt_of() {
	case $1 in
	tput1|tput4|retr1|retr4) echo "%.0f" ;;
	rtt|ping50|ping99|pingmax) echo "%.3f" ;;
	cpu) echo "%.2f" ;;
	rss) echo "%.1f" ;;
	esac
}

measured() { grep -q "^$1	" "$RAW/summary.tsv"; }

# ratios BASE: the table of BASE / every other VPN measured
ratios() {
	local base=$1 v topo m row
	echo "## $base / peer (ratio of medians)"
	echo
	if ! measured "$base"; then
		echo "$base was not measured in this run (see notes), so no ratios."
		echo
		return
	fi
	echo "Throughput: > 1 means $base is faster. RTT, ping p99, CPU, RSS: < 1 means $base uses less."
	echo
	echo "| peer | topology | TCP 1 | TCP 4 | RTT | ping p99 | CPU/GB | RSS |"
	echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
	for v in $ONLY; do
		[ "$v" = "$base" ] && continue
		measured "$v" || continue
		for topo in pair line; do
			row="| $v | $topo"
			for m in tput1 tput4 rtt ping99 cpu rss; do
				row="$row | $(ratio "$base" "$v" "$topo" "$m")"
			done
			echo "$row |"
		done
	done
	echo
}

report_md() {
	local v topo m row cpu
	cpu=$(awk -F: '/^model name/ { sub(/^ */, "", $2); print $2; exit }' \
		/proc/cpuinfo)
	cat <<EOF
# cloudvpn benchmark, $DATE

$( [ "$QUICK" = 1 ] && echo "**Quick run** (--quick): 1 run per figure, 3 s iperf3; indicative only." )
Host: $(nproc) cores, ${cpu:-unknown CPU}, Linux $(uname -r); the machine is shared,
so figures carry noise from other load. Runs per figure: $RUNS; iperf3 TCP $SECS s per run;
$PINGS idle pings ${PING_I} s apart per run. Total time ${ELAPSED}s.
Underlay loss: $( [ "$LOSS" = 0 ] && echo "none." || echo "$LOSS % per underlay hop and direction, emulated with an nftables rule \`numgen random mod 100 < $LOSS drop\` on each namespace's veth ingress (this kernel has no netem); the veths carry no GSO packets (gso_max_segs 1), so every packet is dropped on its own." )

Topologies (network namespaces, veth underlay MTU 1500, overlay MTU 1400):
pair = A - B, measured A -> B; line = A - B - C with no underlay route
A <-> C, measured A -> C through B.

Figures are "median (min–max)" over the runs. TCP = iperf3 throughput in
Mbit/s with 1 and 4 streams; Retr/GB = the inner TCP's retransmits (iperf3's
sender count) per GB received, 1 and 4 streams; RTT = median idle ping
through the tunnel, ms; ping p50, p99, max = percentiles (nearest rank) of
every idle ping of all runs together ($((RUNS * PINGS)) pings), ms: the tail
that a median hides;
CPU = seconds of CPU (utime+stime of all VPN processes on all nodes, from
/proc/PID/stat) per GB received by iperf3; RSS = largest per-node VmRSS
(MiB, sum of that node's VPN processes) sampled every 0.2 s under load.
The underlay has no processes: its CPU and RSS are in the kernel ("-").

| VPN | topology | TCP 1 stream | TCP 4 streams | Retr/GB 1 | Retr/GB 4 | RTT ms | ping p50 | ping p99 | ping max | CPU s/GB | RSS MiB |
| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
EOF
	for v in $ONLY; do
		measured "$v" || continue
		for topo in pair line; do
			row="| $v | $topo"
			for m in tput1 tput4 retr1 retr4 rtt ping50 ping99 pingmax \
				cpu rss; do
				row="$row | $(cell "$v" "$topo" "$m" "$(fmt_of "$m")")"
			done
			echo "$row |"
		done
	done
	echo
	echo "Largest RSS of each program under load (MiB, max over runs):"
	echo
	echo "| VPN | topology | program | RSS MiB |"
	echo "| --- | --- | --- | ---: |"
	awk -F '\t' '$3 ~ /^rss:/ { k = $1 "\t" $2 "\t" substr($3, 5)
		if (!(k in m) || $5 + 0 > m[k]) m[k] = $5 + 0 }
		END { for (k in m) { split(k, f, "\t")
			printf "| %s | %s | %s | %.1f |\n", f[1], f[2], f[3], m[k] } }' \
		"$RAW/samples.tsv" | sort
	echo
	ratios cloudvpn
	measured cloudvpn-udp && ratios cloudvpn-udp
	measured cloudvpn-tun && ratios cloudvpn-tun
	echo "## Configurations"
	echo
	awk -F '\t' '{ printf "- **%s** (%s): %s\n", $1, $2, $3 }' \
		"$RAW/versions.tsv"
	echo "- iperf3 $(iperf3 --version | head -1 | cut -d' ' -f2)," \
		"default TCP congestion control of the kernel" \
		"($(cat /proc/sys/net/ipv4/tcp_congestion_control 2>/dev/null))."
	if [ -s "$RAW/notes.tsv" ]; then
		echo
		echo "## Notes"
		echo
		awk -F '\t' '{ printf "- %s: %s\n", $1, $2 }' "$RAW/notes.tsv"
	fi
	echo
	echo "Plot: [$DATE.png]($DATE.png). Raw data: raw-$DATE/ (iperf3 JSON, ping output," \
		"samples.tsv, summary.tsv, daemon logs)."
}

# plot.dat: vpn, then median/min/max for pair-1, pair-4, line-1, line-4
report_plotdata() {
	local v topo m s
	for v in $ONLY; do
		measured "$v" || continue
		printf '%s' "$v"
		for topo in pair line; do
			for m in tput1 tput4; do
				s=$(summ "$v" "$topo" "$m")
				if [ -n "$s" ]; then
					set -- $s
					printf ' %s %s %s' "$2" "$3" "$4"
				else
					printf ' ? ? ?'
				fi
			done
		done
		echo
	done
}

report() {
	summarize
	report_md >"$RESDIR/$DATE.md"
	report_plotdata >"$RAW/plot.dat"
	if ! command -v gnuplot >/dev/null; then
		log "gnuplot not found: no plot"
	elif [ -s "$RAW/plot.dat" ]; then
		gnuplot -e "datafile='$RAW/plot.dat'; outfile='$RESDIR/$DATE.png'; \
			subtitle='$DATE, runs=$RUNS, ${SECS}s, loss=$LOSS%'" \
			"$BENCH/plot.gp" 2>>"$RAW/logs/gnuplot.log" ||
			log "gnuplot failed (raw-$DATE/logs/gnuplot.log)"
	fi
}
