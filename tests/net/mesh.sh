# Helpers for the mesh tests (sourced after lib.sh): gates and cloudcat.
CLOUDCAT=${CLOUDCAT:-$top_builddir/gates/cloudcat}

# mesh_start NAME [CONFIG LINE...]: cloud with a gate socket at
# $NET_TMP/NAME.gate, listening on TCP port 5000 on every address (and,
# with LINK_UDP=1, on UDP port 5000 too).
mesh_start() {
	local n=$1 udp=()
	shift
	[ "$TRANSPORT" = tcp ] || udp=("listen-udp * 5000")
	cloud_start "$n" "listen * 5000" "${udp[@]}" "gate $NET_TMP/$n.gate" \
		"conn_retry 500ms" "conn_keepalive 200ms" "conn_timeout 3s" "$@"
}

# cat_listen NAME TAG INSTANCE ADDRESS: a cloudcat that prints what it
# receives into $NET_TMP/TAG.out and runs until the test ends.
cat_listen() {
	run_in "$1" "cat-$2" sh -c "exec '$CLOUDCAT' -gate '$NET_TMP/$1.gate' \
		-instance $3 -address '$4' -count 1000000 >'$NET_TMP/$2.out'"
	eval "PID_cat_$2=$LAST_PID"
}

# cat_send NAME INSTANCE ADDRESS TO LINE...: send each LINE, then exit.
cat_send() {
	local n=$1 inst=$2 addr=$3 to=$4
	shift 4
	printf '%s\n' "$@" | timeout 10 ip netns exec "$(ns "$n")" \
		"$CLOUDCAT" -gate "$NET_TMP/$n.gate" -instance "$inst" \
		-address "$addr" -to "$to"
}

# has_route NAME ADDR VIA: NAME's status shows route ADDR (inst/hex/plen)
# through VIA (a peer name, or local); VIA may be omitted.
has_route() {
	grep -q "^route addr=$2 via=${3:-}" "$NET_TMP/$1.status" 2>/dev/null
}
no_route() { ! grep -q "^route addr=$2 " "$NET_TMP/$1.status" 2>/dev/null; }
out_has() { grep -q -- "$2" "$NET_TMP/$1.out" 2>/dev/null; }

# line_abc [CONFIG LINE...]: hosts A - B - C, where A and C reach only B;
# B listens, A and C connect to it (over $CONNECT); returns once both
# links are up.
# Sets AB (B's address towards A) and BC (B's address towards C).
line_abc() {
	host A B C
	link A B; AB=$LB
	link B C; BC=$LA
	certs A B C
	mesh_start B "$@"
	mesh_start A "$CONNECT $AB 5000" "$@"
	mesh_start C "$CONNECT $BC 5000" "$@"
	wait_for 15 links_up A B || fail "A-B not up"
	wait_for 15 links_up B C || fail "B-C not up"
}

# ring_abcde [CONFIG LINE...]: hosts A - B - C - D - E - A in a ring, each
# connecting to the next (over $CONNECT); returns once all five links are
# up. Sets AB BC CD DE EA (the next one's address on each link).
ring_abcde() {
	local p
	host A B C D E
	link A B; AB=$LB
	link B C; BC=$LB
	link C D; CD=$LB
	link D E; DE=$LB
	link E A; EA=$LB
	certs A B C D E
	mesh_start A "$CONNECT $AB 5000" "$@"
	mesh_start B "$CONNECT $BC 5000" "$@"
	mesh_start C "$CONNECT $CD 5000" "$@"
	mesh_start D "$CONNECT $DE 5000" "$@"
	mesh_start E "$CONNECT $EA 5000" "$@"
	for p in "A B" "B C" "C D" "D E" "E A"; do
		wait_for 15 links_up $p || fail "link $p not up"
	done
}

# probe_until NAME FROM_ADDR TO_ADDR TAG T0: send a numbered line from a
# gate at FROM_ADDR on NAME to TO_ADDR (instance 1) until the listener TAG
# shows one, at most 15 s after T0 (ms). Sets PROBE_MS and PROBES.
probe_until() {
	local n=$1 from=$2 to=$3 tag=$4 t0=$5
	PROBES=0
	while :; do
		PROBES=$((PROBES + 1))
		cat_send "$n" 1 "$from" "$to" "after $PROBES" >/dev/null 2>&1
		out_has "$tag" "after" && break
		[ $(($(now_ms) - t0)) -lt 15000 ] || return 1
		sleep 0.05
	done
	PROBE_MS=$(($(now_ms) - t0))
}
