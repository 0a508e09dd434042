#!/bin/bash
# Bad certificates are refused: B has a good certificate and trusts only
# the test CA (and its CRL); A tries with each bad certificate in turn,
# first connecting to B, then listening while B connects to it.
# No link comes up on either side and B logs "refused", the reason and
# A's address. The refused side learns why from the refuser's alert and
# says so: "peer refused our certificate (alert: ...)" (over TCP, TLS 1.3,
# a client hears it only after its handshake completed; before, it logged
# "closed: Error in the pull function", and over UDP nothing at all).
# With LINK_UDP=1 (t-udp-cert-refused.sh) the same over UDP links
# (DTLS 1.2), and the certificate-less client is gnutls-cli --udp.
#
#   A (10.77.1.1) ---------> B (10.77.1.2) $LISTEN :5000
#   A's cert: other CA       -> unknown issuer
#             expired        -> expired
#             not yet valid  -> not yet valid
#             revoked        -> revoked
#             no clientAuth  -> wrong key usage
#   gnutls-cli, no cert      -> no certificate
#
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
net_init
net_need_cloud

host A B
link A B
certs B
OTHER=$NET_TMP/other
"$CLOUD_CERT" ca "$OTHER" "another CA" >/dev/null || hard_error "other CA"
"$CLOUD_CERT" node "$OTHER" A >/dev/null || hard_error "other CA: A"
mkdir -p "$NET_TMP/bad"
# bad CASE [OPTION]: a certificate for A named after the case.
bad() {
	"$CLOUD_CERT" node "$CERTS" A ${2:+"$2"} >/dev/null ||
		hard_error "cloud-cert node A ${2:-}"
	[ "$1" != revoked ] || "$CLOUD_CERT" revoke "$CERTS" A >/dev/null ||
		hard_error "cloud-cert revoke A"
	mv "$CERTS/A.key" "$NET_TMP/bad/$1.key"
	mv "$CERTS/A.crt" "$NET_TMP/bad/$1.crt"
}
bad expired --expired
bad not-yet-valid --not-yet-valid
bad no-client-auth --no-client-auth
bad revoked
cp "$OTHER/A.key" "$NET_TMP/bad/other-ca.key"
cp "$OTHER/A.crt" "$NET_TMP/bad/other-ca.crt"

cloud_start B "$LISTEN $IP_B 5000" "crl $CERTS/crl.pem"
wait_for 5 listening B 5000 || { cloud_check B; fail "B not listening"; }
udp_tag=
[ "$TRANSPORT" = tcp ] || udp_tag=' \(udp\)'
wait_for 5 log_has B "listening on $IP_B:5000$udp_tag\$" ||
	fail "B does not listen on $TRANSPORT"

# refused_line REASON: B logged, since the mark, one line naming the
# refusal, the reason and A's address.
refused_line() {
	cloud_check B
	log_since B | grep 'refused' | grep -F -- "$1" | grep -qF "$IP_A"
}
no_links() {
	! any_link_up A && ! any_link_up B
}
# refused_us NODE ALERT: NODE logged, since its mark, that its peer
# refused its certificate, with the alert's name (any if ALERT is empty).
refused_us() {
	log_since "$1" | grep -qF "peer refused our certificate (alert: $2"
}

try() {
	local c=$1 reason=$2 alert=${3:-}
	log_mark B
	log_mark A
	cloud_start A "$CONNECT $IP_B 5000" "conn_retry 500ms" \
		"key $NET_TMP/bad/$c.key" "cert $NET_TMP/bad/$c.crt"
	wait_for 10 refused_line "$reason" ||
		fail "$c: B did not log 'refused ... $reason ... $IP_A'"
	wait_for 5 refused_us A "$alert" ||
		fail "$c: A did not log 'peer refused our certificate" \
			"(alert: $alert': $(grep link "$NET_TMP/A.log" | tail -n 2)"
	sleep 0.5
	no_links || fail "$c: a link came up"
	say "$c: refused: $(log_since B | grep refused | head -n 1)"
	say "$c: A: $(log_since A | grep -m1 'peer refused')"
	cloud_stop A TERM 2 || true
	rm -f "$NET_TMP/A.status"
}
try other-ca 'unknown issuer' 'CA is unknown'
try expired 'expired'
try not-yet-valid 'not yet valid'
try revoked 'revoked'
try no-client-auth 'wrong key usage'

# The other way round: the bad node listens and the good one connects;
# the good node, as TLS client, refuses the server's certificate.
cloud_stop B TERM 2 || true
rm -f "$NET_TMP/B.status"
refused_by_b() {
	log_since B | grep 'refused' | grep -F -- "$1" | grep -qF "$IP_A"
}
back() {
	local c=$1 reason=$2 alert=${3:-}
	log_mark B
	log_mark A
	cloud_start A "$LISTEN $IP_A 5000" \
		"key $NET_TMP/bad/$c.key" "cert $NET_TMP/bad/$c.crt"
	wait_for 5 listening A 5000 || fail "$c: A not listening"
	cloud_start B "$CONNECT $IP_A 5000" "conn_retry 500ms" \
		"crl $CERTS/crl.pem"
	wait_for 10 refused_by_b "$reason" ||
		fail "$c (B connects): B did not log 'refused ... $reason'"
	wait_for 5 refused_us A "$alert" ||
		fail "$c (B connects): A did not log 'peer refused our" \
			"certificate (alert: $alert'"
	sleep 0.5
	no_links || fail "$c (B connects): a link came up"
	say "$c, B connecting: $(log_since B | grep refused | head -n 1)"
	cloud_stop A TERM 2 || true
	cloud_stop B TERM 2 || true
	rm -f "$NET_TMP/A.status" "$NET_TMP/B.status"
}
back other-ca 'unknown issuer' 'CA is unknown'
back expired 'expired'
back not-yet-valid 'not yet valid'
back revoked 'revoked'
cloud_start B "$LISTEN $IP_B 5000" "crl $CERTS/crl.pem"
wait_for 5 listening B 5000 || fail "B not listening again"

# A TLS (DTLS over UDP) client with no certificate at all.
log_mark B
udp=()
[ "$TRANSPORT" = tcp ] || udp=(--udp)
sleep 2 | in_ns A timeout 5 gnutls-cli "${udp[@]}" --insecure --port 5000 "$IP_B" \
	>"$NET_TMP/cli.log" 2>&1
wait_for 10 refused_line 'no certificate' ||
	fail "no certificate: B did not log 'refused ... no certificate'"
no_links || fail "no certificate: a link came up"
say "no-cert: refused: $(log_since B | grep refused | head -n 1)"
cloud_check B
say "ok"
