#!/bin/bash
# SIGHUP replaces the CAs and CRLs, it does not add to them: B refuses A,
# revoked by B's CRL; the CRL file is put back to an older one that revokes
# X only, B gets SIGHUP, and A links. Were the new CRL added to the old,
# A would stay revoked.
#
#   A ---------> B (crl: X and A revoked, then X only)
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
net_init
net_need_cloud

host A B
link A B
certs A B X
"$CLOUD_CERT" revoke "$CERTS" X >/dev/null || hard_error "revoke X"
cp "$CERTS/crl.pem" "$NET_TMP/crl-x.pem"
sleep 1		# a later thisUpdate than crl-x.pem's
"$CLOUD_CERT" revoke "$CERTS" A >/dev/null || hard_error "revoke A"
cp "$CERTS/crl.pem" "$NET_TMP/crl.pem"

cloud_start B "listen $IP_B 5000" "crl $NET_TMP/crl.pem"
wait_for 5 listening B 5000 || { cloud_check B; fail "B not listening"; }
cloud_start A "connect $IP_B 5000" "conn_retry 500ms"
refused() { log_has B 'link .*: refused: revoked'; }
wait_for 10 refused || fail "B did not refuse A as revoked"

cp "$NET_TMP/crl-x.pem" "$NET_TMP/crl.pem"
log_mark B
kill -HUP "$PID_B"
wait_for 5 eval 'log_since B | grep -q "SIGHUP: CAs and CRLs reloaded"' ||
	fail "B did not reload: $(log_since B | tail -n 3)"
wait_for 15 links_up A B || fail "A still refused after its revocation was taken back"
cloud_check A B
say "ok"
