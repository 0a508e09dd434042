# Shared helpers for the network-namespace tests (sourced by t-*.sh, bash).
#
# Each test run gets its own prefix (cvt<pid>), so runs never collide:
#   host NAME          network namespace cvt<pid>NAME with lo up
#   link A B           veth pair A <-> B, 10.77.N.1/24 on A, 10.77.N.2/24 on B
#                      (N counts links); sets LA/LB and IP_<A>/IP_<B> (first)
#   run_in NAME LOG CMD...   start CMD in NAME in the background -> $LAST_PID
#   cloud_start NAME [LINE...]  start the daemon with a generated config
#   wait_for SECS CMD...     poll CMD every 0.1 s until it succeeds
# LINK_UDP=1 in the environment runs a test's links over UDP: $LISTEN and
# $CONNECT are then listen-udp/connect-udp (else listen/connect), and
# $TRANSPORT is udp (else tcp). NET_NAME names the test in its output
# (a wrapper that runs another test sets it to its own name).
# The EXIT trap kills exactly the processes started here and deletes
# exactly the namespaces created here, whatever the outcome.
# Exit codes follow automake: 0 pass, 1 fail, 77 skip, 99 hard error.

set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
CLOUD=${CLOUDVPN_DAEMON:-$top_builddir/cloud/cloud}
# NET_WRAP runs every daemon and gate under a tool, e.g.
# NET_WRAP="valgrind -q --leak-check=full --error-exitcode=99"
read -r -a WRAP <<<"${NET_WRAP:-}"
# Waits on work that valgrind slows down most (signatures: each check is
# some 70 times slower) are multiplied by this.
SLOW=${NET_SLOW:-$([ -n "${NET_WRAP:-}" ] && echo 6 || echo 1)}
CLOUD_CERT=$top_srcdir/tools/cloud-cert
# cloud-cert makes grants with the cloud-grants we built
CLOUD_GRANTS=${CLOUD_GRANTS:-$top_builddir/tools/cloud-grants}
export CLOUD_GRANTS
PFX=cvt$$
T=${NET_NAME:-${0##*/}}
T=${T%.sh}
if [ "${LINK_UDP:-}" = 1 ]; then
	LISTEN=listen-udp CONNECT=connect-udp TRANSPORT=udp
else
	LISTEN=listen CONNECT=connect TRANSPORT=tcp
fi

NET_NS=()	# namespaces we created
NET_ETC=()	# /etc/netns/* folders we created
NET_PIDS=()	# processes we started (direct children)
NET_LOG=()	# pid -> the name of its log (run_in)
NET_LINKS=0
NET_TMP=
LAST_PID=

say() { echo "$T: $*"; }
skip() { say "SKIP: $*"; exit 77; }
# NET_WHY is said again after the logs are dumped: CI shows a log's tail.
fail() { NET_WHY="FAIL: $*"; say "$NET_WHY"; exit 1; }
hard_error() { NET_WHY="ERROR: $*"; say "$NET_WHY"; exit 99; }

now_ms() {
	local t=${EPOCHREALTIME/./}
	echo $((t / 1000))
}

ns() { echo "$PFX$1"; }
in_ns() {
	local n=$1
	shift
	ip netns exec "$PFX$n" "$@" 8>&-
}

# Is PID still a process we started (our direct child)?
net_is_ours() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	set -- $stat
	[ "$2" = "$$" ]
}

net_forget() {
	local p keep=()
	for p in "${NET_PIDS[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	NET_PIDS=("${keep[@]}")
}

# Signal one of our processes, wait up to SECS for it; kill -9 after that.
# Returns the process's exit status (as wait reports it).
proc_stop() {
	local pid=$1 sig=${2:-TERM} secs=${3:-2} i rc=0
	if net_is_ours "$pid"; then
		kill -"$sig" "$pid" 2>/dev/null
		for ((i = 0; i < secs * 10; i++)); do
			net_is_ours "$pid" || break
			[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] &&
				break
			sleep 0.1
		done
		if net_is_ours "$pid" &&
			[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]
		then
			say "pid $pid ignored SIG$sig for ${secs}s: SIGKILL"
			kill -9 "$pid" 2>/dev/null
		fi
	fi
	wait "$pid" 2>/dev/null || rc=$?
	net_forget "$pid"
	return $rc
}

# the first line of a sanitizer's or valgrind's report
NET_REPORT='ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|^==[0-9]+== [A-Z0-9]'
# net_crashed PID STATUS: a process that a crash's signal ended (SIGILL,
# SIGABRT, SIGBUS, SIGFPE, SIGSEGV) is said and fails the test.
net_crashed() {
	case $2 in 132 | 134 | 135 | 136 | 139) ;; *) return 0 ;; esac
	say "FAIL: pid $1 (${NET_LOG[$1]:-?}) died by SIG$(kill -l $(($2 - 128)))"
	NET_CRASHED=1
}

net_cleanup() {
	local rc=$? p n f
	trap - EXIT INT TERM HUP
	trap "" PIPE
	for p in "${NET_PIDS[@]}"; do
		net_is_ours "$p" && kill -TERM "$p" 2>/dev/null
	done
	for p in "${NET_PIDS[@]}"; do
		proc_stop "$p" TERM "${NET_STOP_SECS:-$([ -n "${NET_WRAP:-}" ] && echo 20 || echo 2)}" ||
			net_crashed "$p" $?
	done
	[ -z "${NET_CRASHED:-}" ] || [ "$rc" -ne 0 ] || rc=1
	for n in "${NET_NS[@]}"; do
		ip netns del "$n" 2>/dev/null
	done
	for n in "${NET_ETC[@]}"; do
		rm -rf "$n"
		rmdir /etc/netns 2>/dev/null	# only if nobody else uses it
	done
	# Every process has exited: a sanitizer or valgrind report in any
	# log fails the test, even if everything else passed.
	if [ "$rc" -ne 77 ] && [ -n "$NET_TMP" ] && grep -l -E "$NET_REPORT" \
		"$NET_TMP"/*.log >"$NET_TMP/sanitizer.txt" 2>/dev/null; then
		say "FAIL: sanitizer or valgrind report in $(tr '\n' ' ' <"$NET_TMP/sanitizer.txt")"
		[ "$rc" -ne 0 ] || rc=1
	fi
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ -n "$NET_TMP" ]; then
		for f in "$NET_TMP"/*.cfg "$NET_TMP"/*.log "$NET_TMP"/*.status; do
			[ -f "$f" ] || continue
			echo "---- ${f##*/} (last 30 lines)"
			tail -n 30 "$f"
		done
		# each sanitizer report from its start (the tail may miss it)
		for f in $(cat "$NET_TMP/sanitizer.txt" 2>/dev/null); do
			echo "---- ${f##*/}: sanitizer report"
			grep -m 1 -A 60 -E "$NET_REPORT" "$f"
		done
		[ -z "${NET_WHY:-}" ] || say "$NET_WHY (said again, below the logs)"
	fi
	if [ -n "$NET_TMP" ] && [ -z "${KEEP:-}" ]; then
		rm -rf "$NET_TMP"
	fi
	exit "$rc"
}

# Root, a usable `ip netns` and the daemon; prepare the temp dir and trap.
net_init() {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	net_lock
	command -v ip >/dev/null || skip "no ip(8)"
	ip netns add "${PFX}probe" 2>/dev/null || skip "ip netns unusable"
	ip netns del "${PFX}probe"
	NET_TMP=$(mktemp -d "/tmp/$PFX.XXXXXX") || hard_error "mktemp"
	trap net_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
	trap 'exit 141' PIPE
}

# Every net test holds a lock file of the build tree, shared (net_init);
# one that measures rates or times takes it alone (net_alone): make
# check -j2 then runs nothing beside it. One CI run lost t-scale-short's
# idle traffic aim (138 B/s) and t-multipath's 180 Mbit/s (172-178) to
# the test run beside them. Each lasts until the test and what it started
# exit (run_in and in_ns close it for what they start).
net_lock() {
	exec 8>>"$top_builddir/.net-alone.lock" || return 0
	flock -s -w 900 8 || say "waited 900 s for a test that runs alone"
}

net_alone() {
	flock -x -w 900 8 || say "waited 900 s for the others to let it run alone"
}

net_need_cloud() {
	[ -x "$CLOUD" ] || hard_error "$CLOUD: not built"
}

# CA "ca" in $NET_TMP/pki plus one node cert per name. A node's grants
# are the cloud-cert options in GRANTS_<NAME> (GRANTS_B="--instance 8"),
# set even if empty ("": no grants); else those in CERT_GRANTS, which
# runs a whole suite with grants; else it has none.
certs() {
	local n v g
	CERTS=$NET_TMP/pki
	[ -f "$CERTS/ca.crt" ] ||
		"$CLOUD_CERT" ca "$CERTS" >/dev/null || hard_error "cloud-cert ca"
	for n in "$@"; do
		v=GRANTS_$n
		if [[ $n =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] && [ -n "${!v+set}" ]; then
			read -r -a g <<<"${!v}"
		else
			read -r -a g <<<"${CERT_GRANTS:-}"
		fi
		"$CLOUD_CERT" node "$CERTS" "$n" "${g[@]}" >/dev/null ||
			hard_error "cloud-cert node $n ${g[*]}"
	done
}

# ns_hosts NAME "ADDR HOSTNAME"...: inside NAME (for processes started
# with `ip netns exec`), /etc/hosts holds just these lines and the resolver
# asks only 127.0.0.1 of that namespace, so no query leaves the machine.
ns_hosts() {
	local d=/etc/netns/$PFX$1 l
	shift
	mkdir -p "$d" || hard_error "mkdir $d"
	NET_ETC+=("$d")
	for l in "127.0.0.1 localhost" "$@"; do
		echo "$l"
	done >"$d/hosts"
	echo "nameserver 127.0.0.1" >"$d/resolv.conf"
}

host() {
	local n
	for n in "$@"; do
		ip netns add "$PFX$n" || hard_error "ip netns add $PFX$n"
		NET_NS+=("$PFX$n")
		ip -n "$PFX$n" link set lo up
	done
}

link() {
	local a=$1 b=$2 i
	i=$((++NET_LINKS))
	ip -n "$PFX$a" link add "v$i" type veth peer name "v$i" \
		netns "$PFX$b" || hard_error "veth $a-$b"
	LA=10.77.$i.1
	LB=10.77.$i.2
	ip -n "$PFX$a" addr add "$LA/24" dev "v$i"
	ip -n "$PFX$b" addr add "$LB/24" dev "v$i"
	ip -n "$PFX$a" link set "v$i" up
	ip -n "$PFX$b" link set "v$i" up
	[ -n "$(eval echo "\${IP_$a:-}")" ] || eval "IP_$a=$LA"
	[ -n "$(eval echo "\${IP_$b:-}")" ] || eval "IP_$b=$LB"
}

# run_in NAME LOGNAME CMD...: background CMD inside NAME, output appended
# to $NET_TMP/LOGNAME.log. The subshell and `ip netns exec` both exec, so
# LAST_PID is CMD's. Bash would have CMD ignore SIGINT; undo that.
run_in() {
	local n=$1 log=$NET_TMP/$2.log
	shift 2
	(trap - INT QUIT; exec ip netns exec "$PFX$n" "$@") \
		>>"$log" 2>&1 </dev/null 8>&- &
	LAST_PID=$!
	NET_PIDS+=("$LAST_PID")
	NET_LOG[LAST_PID]=${log##*/}
}

# cloud_start NAME [CONFIG LINE...]: config = defaults (NAME's key and
# cert, the test CA, a fast status file, debug logs) then the given lines
# (last-wins options override the defaults). Sets PID_<NAME>.
cloud_start() {
	local n=$1 cfg=$NET_TMP/$1.cfg l
	shift
	net_need_cloud
	{
		echo "key $CERTS/$n.key"
		echo "cert $CERTS/$n.crt"
		echo "ca $CERTS/ca.crt"
		echo "status-file $NET_TMP/$n.status"
		echo "status-interval 100ms"
		echo "loglevel 3"
		for l in "$@"; do
			echo "$l"
		done
	} >"$cfg"
	echo "==== $(date +%T.%N) start $n" >>"$NET_TMP/$n.log"
	run_in "$n" "$n" "${WRAP[@]}" "$CLOUD" -@include "$cfg"
	eval "PID_$n=$LAST_PID"
}

cloud_stop() {
	local n=$1 pid rc=0
	pid=$(eval echo "\${PID_$n:-}")
	[ -n "$pid" ] || return 0
	proc_stop "$pid" "${2:-TERM}" "${3:-2}" || rc=$?
	eval "PID_$n="
	return $rc
}

# wait_for SECS CMD...: 0 as soon as CMD succeeds, 1 after SECS.
wait_for() {
	local end=$(($(now_ms) + $1 * 1000))
	shift
	while :; do
		"$@" && return 0
		[ "$(now_ms)" -lt "$end" ] || return 1
		sleep 0.1
	done
}

alive() { net_is_ours "$1" &&
	[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
# proc_exit PID SECS: PID exits by itself within SECS; returns its exit
# status, or 124 if it is still running (it is then left to the cleanup).
# For a program done with its work: a SIGTERM while Python shuts down
# would kill it (proc_stop's signal), and fail a test that passed.
proc_exit() {
	local rc=0
	wait_for "$2" eval "! alive $1" || return 124
	wait "$1" || rc=$?
	net_forget "$1"
	return $rc
}

# link_up NAME PEER: NAME's status file shows an up link to PEER with a
# numeric RTT.
link_up() {
	grep "^link peer=$2 " "$NET_TMP/$1.status" 2>/dev/null |
		grep ' state=up' | grep -Eq ' rtt_us=[0-9]+'
}
# any_link_up NAME: some link of NAME is up.
any_link_up() {
	grep -q '^link .*state=up' "$NET_TMP/$1.status" 2>/dev/null
}
# log_has NAME ERE
log_has() { grep -Eq -- "$2" "$NET_TMP/$1.log" 2>/dev/null; }

# Fail at once if NAME's daemon has died (its log tail is shown on exit).
cloud_check() {
	local n pid rc
	for n in "$@"; do
		pid=$(eval echo "\${PID_$n:-}")
		[ -n "$pid" ] || fail "daemon $n not running"
		alive "$pid" && continue
		rc=0
		wait "$pid" 2>/dev/null || rc=$?
		net_forget "$pid"
		eval "PID_$n="
		fail "daemon $n died (exit status $rc)"
	done
}
# link_over NAME PEER [TRANSPORT]: NAME's link to PEER is up over
# TRANSPORT (default $TRANSPORT).
link_over() {
	grep "^link peer=$2 " "$NET_TMP/$1.status" 2>/dev/null |
		grep ' state=up' | grep -q " transport=${3:-$TRANSPORT} "
}
# links_up A B: A and B both show an up link to each other.
links_up() { cloud_check "$1" "$2"; link_up "$1" "$2" && link_up "$2" "$1"; }

# listening NAME PORT: something in NAME listens on TCP PORT (or, with
# LINK_UDP=1, on TCP or UDP PORT).
listening() {
	local o=-Hltn
	[ "$TRANSPORT" = tcp ] || o=-Hltun
	in_ns "$1" ss $o "sport = :$2" 2>/dev/null | grep -q .
}
fd_count() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }

# log_mark NAME, then log_since NAME: the lines NAME logged after the mark.
log_mark() {
	eval "MARK_$1=$(cat "$NET_TMP/$1.log" 2>/dev/null | wc -l)"
}
log_since() {
	local m
	m=$(eval echo "\${MARK_$1:-0}")
	tail -n +$((m + 1)) "$NET_TMP/$1.log" 2>/dev/null
}
