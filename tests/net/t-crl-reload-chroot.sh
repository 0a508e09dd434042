#!/bin/bash
# SIGHUP reloads CRLs in a chrooted daemon that dropped to user nobody: the
# CA and CRL files are outside the jail, read again through their
# directories, opened at start. A's certificate is revoked, B gets SIGHUP
# and closes A's link, then refuses A's reconnection.
#
#   A ---------> B (chroot jail, user nobody; crl: X, then X and A)
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
net_init
net_need_cloud
id nobody >/dev/null 2>&1 || skip "no user nobody"

host A B
link A B
certs A B X
"$CLOUD_CERT" revoke "$CERTS" X >/dev/null || hard_error "revoke X"
# nobody may read the CA and the CRL (not B's key: it is not read again)
chmod 755 "$NET_TMP" "$CERTS"
chmod 644 "$CERTS/ca.crt" "$CERTS/crl.pem"
JAIL=$NET_TMP/jail
mkdir -p "$JAIL/run"
chmod 755 "$JAIL"
chown nobody "$JAIL/run"
ln -s "$JAIL/run/B.status" "$NET_TMP/B.status"

cloud_start B "listen $IP_B 5000" "crl $CERTS/crl.pem" \
	"chroot $JAIL" "user nobody" "status-file /run/B.status"
wait_for 5 listening B 5000 || { cloud_check B; fail "B not listening"; }
cloud_start A "connect $IP_B 5000" "conn_retry 500ms"
wait_for 15 links_up A B || fail "A-B not up"
[ "$(stat -c %U "/proc/$PID_B")" = nobody ] || fail "B does not run as nobody"

"$CLOUD_CERT" revoke "$CERTS" A >/dev/null || hard_error "revoke A"
chmod 644 "$CERTS/crl.pem"
log_mark B
kill -HUP "$PID_B"
wait_for 5 sh -c "! grep -q '^link peer=A .*state=up' '$NET_TMP/B.status'" ||
	fail "B kept the link to A after SIGHUP: $(log_since B | grep -v debug)"
log_since B | grep -q 'refused after reload: revoked' ||
	fail "B did not log why it closed the link"
refused_again() { log_since B | grep -q 'link .*: refused: revoked'; }
wait_for 5 refused_again || fail "B did not refuse A's reconnection as revoked"
cloud_check A B
say "ok: $(log_since B | grep -m1 'refused after reload')"
