#!/bin/bash
# tls_prio_str that enables TLS 1.2 brings only ECDHE key exchange with
# AEAD ciphers: a client offering TLS 1.2 with nothing but a CBC suite, or
# nothing but static RSA key exchange, gets no handshake; one offering
# TLS 1.2 ECDHE with AES-GCM gets as far as the certificate check (and is
# refused there for having none). (A node key is ECDSA or Ed25519, so static
# RSA could not be chosen before either: that case guards the string.)
#
#   A: gnutls-cli --priority TLS1.2 + SUITE ---------> B :5000
#      CBC (ECDHE-ECDSA-AES-128-CBC)   -> handshake failed
#      static RSA (RSA-AES-128-GCM)    -> handshake failed
#      ECDHE-ECDSA-AES-128-GCM         -> refused: no certificate
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
net_init
net_need_cloud

host A B
link A B
certs B
TLS12="NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
V12="NORMAL:-VERS-ALL:+VERS-TLS1.2"
CBC="$V12:-KX-ALL:+ECDHE-ECDSA:-CIPHER-ALL:+AES-128-CBC:-MAC-ALL:+SHA256:+SHA1"
RSA="$V12:-KX-ALL:+RSA:-CIPHER-ALL:+AES-128-GCM:-MAC-ALL:+AEAD"
GCM="$V12:-KX-ALL:+ECDHE-ECDSA:-CIPHER-ALL:+AES-128-GCM:-MAC-ALL:+AEAD"

# client NAME PRIORITY: one gnutls-cli handshake from A to B.
client() {
	log_mark B
	sleep 1 | in_ns A timeout 5 gnutls-cli --insecure --priority "$2" \
		--port 5000 "$IP_B" >"$NET_TMP/cli-$1.log" 2>&1
	return 0
}
b_logged() { cloud_check B; log_since B | grep -F "$IP_A" | grep -q -- "$1"; }
# refused NAME PRIORITY: the handshake fails before any certificate.
refused() {
	client "$1" "$2"
	wait_for 5 b_logged 'handshake failed' ||
		fail "$1: B did not log a failed handshake: $(log_since B | tail -n 2)"
	log_since B | grep -q 'refused: no certificate' &&
		fail "$1: the handshake went as far as the certificates"
	grep -q 'Handshake was completed' "$NET_TMP/cli-$1.log" &&
		fail "$1: gnutls-cli completed a handshake"
	say "$1: $(log_since B | grep -m1 'handshake failed')"
}

cloud_start B "listen $IP_B 5000" "tls_prio_str $TLS12"
wait_for 5 listening B 5000 || { cloud_check B; fail "B not listening"; }
client gcm "$GCM"
wait_for 5 b_logged 'refused: no certificate' ||
	fail "TLS 1.2 ECDHE AES-GCM did not reach the certificate check"
say "gcm: $(log_since B | grep -m1 refused)"
refused cbc "$CBC"
refused static-rsa "$RSA"
cloud_check B
say "ok"
