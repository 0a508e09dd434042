#!/bin/bash
# A CRL must be signed by a configured CA: B is given the CRL of another
# CA and refuses to start, naming the file and line of the `crl` option;
# given its own CA's CRL it starts. The same on SIGHUP: a foreign CRL put
# in place of the good one is refused and the daemon keeps running.
#
#   B: ca pki/ca.crt, crl other/crl.pem   -> "B.cfg:N: crl: ... not signed"
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
net_init
net_need_cloud

host B
certs B X
OTHER=$NET_TMP/other
"$CLOUD_CERT" ca "$OTHER" "another CA" >/dev/null || hard_error "other CA"
"$CLOUD_CERT" node "$OTHER" Y >/dev/null || hard_error "other CA: Y"
"$CLOUD_CERT" revoke "$OTHER" Y >/dev/null || hard_error "revoke Y"
"$CLOUD_CERT" revoke "$CERTS" X >/dev/null || hard_error "revoke X"

exited() { ! alive "$PID_B"; }
cloud_start B "crl $OTHER/crl.pem"
wait_for 5 exited || fail "B started with another CA's CRL"
rc=0
wait "$PID_B" 2>/dev/null || rc=$?
net_forget "$PID_B"
PID_B=
[ "$rc" -ne 0 ] || fail "B exited with status 0"
line=$(grep -n "^crl " "$NET_TMP/B.cfg" | cut -d: -f1)
grep -F "B.cfg:$line: crl: " "$NET_TMP/B.log" |
	grep -F "$OTHER/crl.pem" | grep -q 'not signed by a configured CA' ||
	fail "no message naming the file, line and CRL: $(tail -n 3 "$NET_TMP/B.log")"
say "refused: $(grep -m1 'not signed' "$NET_TMP/B.log")"

cp "$CERTS/crl.pem" "$NET_TMP/crl.pem"
cloud_start B "crl $NET_TMP/crl.pem"
wait_for 5 log_has B "node B started" || { cloud_check B; fail "B did not start with its CA's CRL"; }
log_mark B
cp "$OTHER/crl.pem" "$NET_TMP/crl.pem"
kill -HUP "$PID_B"
reload_refused() { log_since B | grep -q 'crl: .*not signed by a configured CA'; }
wait_for 5 reload_refused || fail "SIGHUP loaded another CA's CRL silently"
cloud_check B
say "ok"
