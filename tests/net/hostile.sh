# Helpers for the trust tests (sourced after lib.sh and mesh.sh): a hostile
# member of the mesh (tests/net/hostile.c) and reads of the status file.
HOSTILE=${HOSTILE:-$top_builddir/tests/net/hostile}

# trust_hub NAME...: hosts A, X (the hostile member) and each NAME, all
# linked to A only, with certificates; AT_<NAME> is A's address on NAME's
# link. Nothing is started.
trust_hub() {
	local n
	host A X "$@"
	certs A X "$@"
	for n in X "$@"; do
		link "$n" A
		eval "AT_$n=$LB"
	done
}
# trust_join NAME [CONFIG LINE...]: NAME's daemon, linked to A; returns
# once the link is up.
trust_join() {
	local n=$1
	shift
	mesh_start "$n" "connect $(eval echo "\$AT_$n") 5000" "$@"
	wait_for 15 links_up "$n" A || fail "$n-A not up"
}

# hostile_start MODE [ARG] [-duration SECS]: the hostile tool in X, with
# X's valid certificate, linked to A (once A listens); its lines go to
# $NET_TMP/hostile.log.
hostile_start() {
	[ -x "$HOSTILE" ] || hard_error "$HOSTILE: not built (make check TESTS=)"
	wait_for 10 listening A 5000 || fail "A does not listen"
	run_in X hostile "$HOSTILE" -connect "$AT_X" 5000 \
		-cert "$CERTS/X.crt" -key "$CERTS/X.key" -ca "$CERTS/ca.crt" \
		-mode "$@"
	PID_hostile=$LAST_PID
}
# hostile_said ERE: the tool printed a line matching ERE.
hostile_said() { grep -Eq -- "$1" "$NET_TMP/hostile.log" 2>/dev/null; }

# status_fresh NAME: wait (5 s at most) until NAME has rewritten its status
# file twice, so it shows what NAME did before the call. Each write renames
# a new file into place: a new inode.
status_fresh() {
	local f=$NET_TMP/$1.status i ino
	for i in 1 2; do
		ino=$(stat -c %i "$f" 2>/dev/null)
		wait_for 5 eval '[ "$(stat -c %i "$f" 2>/dev/null)" != "$ino" ]' ||
			return 1
	done
}

# route_field NAME ADDR FIELD: FIELD (via, seqno, origin...) of NAME's
# route to ADDR (inst/hex/plen), empty if none.
route_field() {
	sed -n "s|^route addr=$2 .*\<$3=\([^ ]*\).*|\1|p" \
		"$NET_TMP/$1.status" 2>/dev/null
}
# route_count NAME: the routes NAME's status file counts.
route_count() {
	sed -n 's/^cloud .* routes=\([0-9]*\).*/\1/p' "$NET_TMP/$1.status" \
		2>/dev/null
}
