# Helpers for the trust tests (sourced after lib.sh and mesh.sh): a hostile
# member of the mesh (tests/net/hostile.c) and reads of the status file.
HOSTILE=${HOSTILE:-$top_builddir/tests/net/hostile}

# hostile_start NAME PEER_ADDR MODE [ARG] [-duration SECS]: the hostile
# tool in NAME, with NAME's valid certificate, linked to PEER_ADDR:5000;
# its lines go to $NET_TMP/hostile.log.
hostile_start() {
	local n=$1 peer=$2
	shift 2
	[ -x "$HOSTILE" ] || hard_error "$HOSTILE: not built (make check TESTS=)"
	run_in "$n" hostile "$HOSTILE" -connect "$peer" 5000 \
		-cert "$CERTS/$n.crt" -key "$CERTS/$n.key" -ca "$CERTS/ca.crt" \
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
