#!/bin/bash
# A link does not outlive its peer's certificate by more than one
# conn_keepalive: A's certificate expires a few seconds after A and B
# link; B (conn_keepalive 1s) closes the link with "certificate expired"
# soon after, and refuses A's reconnection as expired.
#
#   A (certificate valid for EXP more seconds) ---------> B
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
net_init
net_need_cloud

EXP=$((8 * SLOW))
host A B
link A B
certs B
"$CLOUD_CERT" node "$CERTS" A --expires-in "$EXP" >/dev/null ||
	hard_error "cloud-cert node A --expires-in $EXP"
# notAfter, in ms, as the certificate says it
end=$(certtool -i --infile "$CERTS/A.crt" | sed -n 's/^[[:space:]]*Not After: //p')
end_ms=$(($(date -d "$end" +%s) * 1000))

cloud_start B "$LISTEN $IP_B 5000" "conn_keepalive 1s"
wait_for 5 listening B 5000 || { cloud_check B; fail "B not listening"; }
cloud_start A "$CONNECT $IP_B 5000" "conn_retry 500ms"
wait_for 15 links_up A B || fail "A-B not up"
[ "$(now_ms)" -lt "$end_ms" ] || hard_error "A's certificate expired before the link was up"

closed() { log_has B 'link A .*: certificate expired'; }
wait_for $((EXP + 10)) closed || fail "B kept the link to A past its certificate's expiry"
late=$(($(now_ms) - end_ms))
# one conn_keepalive, plus the slack of a loaded machine (and of polling)
[ "$late" -le $((2000 * SLOW)) ] ||
	fail "B closed the link ${late} ms after the expiry (conn_keepalive 1s)"
wait_for 5 sh -c "! grep -q '^link peer=A .*state=up' '$NET_TMP/B.status'" ||
	fail "B still shows the link to A up"
refused() { log_has B 'link .*: refused: expired'; }
wait_for 10 refused || fail "B did not refuse A's reconnection as expired"
cloud_check A B
say "ok: closed ${late} ms after the expiry: $(grep -m1 'certificate expired' "$NET_TMP/B.log")"
