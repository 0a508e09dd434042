#!/bin/bash
# A CA taken out of a ca file is gone after SIGHUP: B trusts the CAs of
# cas.pem, first ca and ca2, and links with A (of ca) and C (of ca2).
# cas.pem is rewritten with ca alone and B gets SIGHUP: B closes C's link
# and refuses C from then on; A's link stays up.
#
#   A (ca) ------> B <------ C (ca2)     B: ca cas.pem = ca + ca2, then ca
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
net_init
net_need_cloud

host A B C
link A B
link C B
IP_BC=$LB
certs A B
CA2=$NET_TMP/ca2
"$CLOUD_CERT" ca "$CA2" "second CA" >/dev/null || hard_error "ca2"
"$CLOUD_CERT" node "$CA2" C >/dev/null || hard_error "ca2: C"
cat "$CERTS/ca.crt" "$CA2/ca.crt" >"$NET_TMP/cas.pem"

cloud_start B "$LISTEN * 5000" "ca $NET_TMP/cas.pem"
wait_for 5 listening B 5000 || { cloud_check B; fail "B not listening"; }
cloud_start A "$CONNECT $IP_B 5000" "conn_retry 500ms"
cloud_start C "$CONNECT $IP_BC 5000" "conn_retry 500ms" \
	"key $CA2/C.key" "cert $CA2/C.crt" "ca $CA2/ca.crt"
wait_for 15 links_up A B || fail "A-B not up"
wait_for 15 links_up C B || fail "C-B not up (C of ca2)"

cp "$CERTS/ca.crt" "$NET_TMP/cas.pem"
log_mark B
kill -HUP "$PID_B"
wait_for 5 sh -c "! grep -q '^link peer=C .*state=up' '$NET_TMP/B.status'" ||
	fail "B kept the link to C after ca2 was taken out"
log_since B | grep -q 'link C .*refused after reload: unknown issuer' ||
	fail "B did not log why it closed C's link: $(log_since B | grep -m2 C)"
refused_again() { log_since B | grep -q 'link .*: refused: unknown issuer'; }
wait_for 10 refused_again || fail "B did not refuse C's reconnection"
grep -q '^link peer=C .*state=up' "$NET_TMP/B.status" &&
	fail "C linked again although ca2 is gone"
link_up B A || fail "A's link (of the CA still trusted) went down"
cloud_check A B C
say "ok: $(log_since B | grep -m1 'refused after reload')"
