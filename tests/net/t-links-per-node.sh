#!/bin/bash
# One certified node holds max_links_per_node links at most. B connects to
# A three times over (three `connect` lines); A allows 2 links per node,
# so it refuses the third after its handshake, and keeps refusing it.
#
#   B (10.77.1.1) ==3x==> A (10.77.1.2) listen :5000, max_links_per_node 2
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
net_init
net_need_cloud

host A B
link B A
certs A B

cloud_start A "$LISTEN $IP_A 5000" "max_links_per_node 2"
wait_for 5 listening A 5000 || { cloud_check A; fail "A not listening"; }
cloud_start B "$CONNECT $IP_A 5000" "$CONNECT $IP_A 5000" \
	"$CONNECT $IP_A 5000" "conn_retry 500ms"
ups() { grep -c '^link peer=B .* state=up' "$NET_TMP/A.status"; }
two_up() { [ "$(ups)" -eq 2 ]; }
wait_for 10 two_up || fail "A: $(ups) links up with B, not 2"
wait_for 10 log_has A "refused: node B already holds max_links_per_node" ||
	fail "A did not refuse B's third link"
# B keeps retrying the third; A must stay at two
refused() { sed -n 's/^admit .*refused_node=\([0-9]*\).*/\1/p' "$NET_TMP/A.status"; }
retried() { [ "$(refused)" -ge 3 ]; }
wait_for 15 retried || fail "A counts $(refused) refused links, not 3"
cloud_check A B
[ "$(ups)" -eq 2 ] || fail "A: $(ups) links up with B after retries"
say "ok"
