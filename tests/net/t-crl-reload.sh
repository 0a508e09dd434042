#!/bin/bash
# SIGHUP reloads CRLs: A and B are linked; A's certificate is revoked and B
# gets SIGHUP: B closes the live link at once, logs why, and refuses A's
# reconnection attempts from then on.
#
#   A ---------> B (crl: X revoked, then X and A)
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
net_init
net_need_cloud

host A B
link A B
certs A B X
"$CLOUD_CERT" revoke "$CERTS" X >/dev/null || hard_error "revoke X"
cloud_start B "listen $IP_B 5000" "crl $CERTS/crl.pem"
wait_for 5 listening B 5000 || { cloud_check B; fail "B not listening"; }
cloud_start A "connect $IP_B 5000" "conn_retry 500ms"
wait_for 15 links_up A B || fail "A-B not up"

"$CLOUD_CERT" revoke "$CERTS" A >/dev/null || hard_error "revoke A"
log_mark B
kill -HUP "$PID_B"
wait_for 5 sh -c "! grep -q '^link peer=A .*state=up' '$NET_TMP/B.status'" ||
	fail "B kept the link to A after SIGHUP"
log_since B | grep -q 'refused after reload: revoked' ||
	fail "B did not log why it closed the link"
refused_again() { log_since B | grep -q 'link .*: refused: revoked'; }
wait_for 5 refused_again || fail "B did not refuse A's reconnection as revoked"
sleep 1.5
grep -q '^link peer=A .*state=up' "$NET_TMP/B.status" &&
	fail "A linked again despite the revocation"
cloud_check A B
say "ok: $(log_since B | grep -m1 'refused after reload')"
