#!/bin/bash
# A certificate without extended key usage is refused: GnuTLS would take
# it as good for any purpose, cloud wants TLS client (or server) written in
# it. A's certificate, from the right CA, has no EKU extension: B refuses
# it when A connects, and refuses it as a server when B connects to A.
# LINK_UDP=1 runs the same over UDP links.
#
#   A (10.77.1.1, cert without EKU) ---------> B (10.77.1.2) :5000
#   A <--------- B                               -> "no extended key usage"
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
net_init
net_need_cloud

host A B
link A B
certs B
"$CLOUD_CERT" node "$CERTS" A --no-eku >/dev/null || hard_error "cloud-cert --no-eku"
certtool -i --infile "$CERTS/A.crt" | grep -qi 'key purpose' &&
	hard_error "cloud-cert --no-eku wrote a key purpose"

refused() {
	cloud_check B
	log_since B | grep 'refused: no extended key usage' | grep -qF "$IP_A"
}
no_links() { ! any_link_up A && ! any_link_up B; }

log_mark B
cloud_start B "$LISTEN $IP_B 5000"
wait_for 5 listening B 5000 || fail "B not listening"
cloud_start A "$CONNECT $IP_B 5000" "conn_retry 500ms"
wait_for 10 refused || fail "B (server) did not refuse A's certificate without EKU"
no_links || fail "a link came up with a certificate without EKU"
say "A connects: $(log_since B | grep -m1 refused)"
cloud_stop A TERM 2 || true
cloud_stop B TERM 2 || true
rm -f "$NET_TMP/A.status" "$NET_TMP/B.status"

log_mark B
cloud_start A "$LISTEN $IP_A 5000"
wait_for 5 listening A 5000 || fail "A not listening"
cloud_start B "$CONNECT $IP_A 5000" "conn_retry 500ms"
wait_for 10 refused || fail "B (client) did not refuse A's certificate without EKU"
no_links || fail "a link came up with a certificate without EKU"
say "B connects: $(log_since B | grep -m1 refused)"
say "ok"
