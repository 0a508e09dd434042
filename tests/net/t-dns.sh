#!/bin/bash
# `connect` takes host names, resolved at each attempt without blocking the
# loop: A has a name that resolves to B and one that never resolves; the
# bad one is logged and retried while the link to B comes up anyway.
#
#   A: connect nodeb.cvtest 5000      (/etc/hosts of A's namespace)
#      connect nowhere.invalid 5000   (no such name)
#   A -----------------------------> B listen :5000
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
net_init
net_need_cloud

host A B
link A B
certs A B
ns_hosts A "$IP_B nodeb.cvtest"
cloud_start B "listen $IP_B 5000"
wait_for 5 listening B 5000 || { cloud_check B; fail "B not listening"; }
cloud_start A "connect nowhere.invalid 5000" "connect nodeb.cvtest 5000" \
	"conn_retry 1s"
wait_for 15 links_up A B || fail "no link A -> B by name after 15 s"
say "link to nodeb.cvtest up: $(grep '^link' "$NET_TMP/A.status")"
wait_for 10 log_has A 'nowhere.invalid.*cannot resolve' ||
	fail "A did not log that nowhere.invalid does not resolve"
n=$(grep -c 'nowhere.invalid.*cannot resolve' "$NET_TMP/A.log")
sleep 2.5
m=$(grep -c 'nowhere.invalid.*cannot resolve' "$NET_TMP/A.log")
[ "$m" -gt "$n" ] || fail "A stopped retrying nowhere.invalid"
say "nowhere.invalid: logged and retried ($m attempts so far)"
cloud_check A B
say "ok"
