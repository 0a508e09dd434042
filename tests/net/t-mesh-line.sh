#!/bin/bash
# A line of four daemons: a cloudcat at one end reaches a cloudcat at the
# other end across two relays, and the answer comes back.
#
#   [cat 0a] A ---- B ---- C ---- D [cat 0d]
#
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
. "$top_srcdir/tests/net/mesh.sh"
net_init
net_need_cloud

host A B C D
link A B; AB=$LB
link B C; BC=$LB
link C D; CD=$LB
certs A B C D
mesh_start D
mesh_start C "connect $CD 5000"
mesh_start B "connect $BC 5000"
mesh_start A "connect $AB 5000" "control $NET_TMP/A.ctl"
wait_for 15 links_up A B || fail "A-B not up"
wait_for 15 links_up B C || fail "B-C not up"
wait_for 15 links_up C D || fail "C-D not up"

cat_listen D d 1 0d
cat_listen A a 1 0a
wait_for 10 has_route A 1/0d/8 B || fail "A has no route to 0d via B"
wait_for 10 has_route D 1/0a/8 C || fail "D has no route to 0a via C"
grep '^route' "$NET_TMP/A.status"
grep -q '^route addr=1/0d/8 via=B .* hops=3 ' "$NET_TMP/A.status" ||
	fail "route to 0d is not 3 hops"
# the origin by name, though A has no link to D
grep -q '^route addr=1/0d/8 .* origin_name=D$' "$NET_TMP/A.status" ||
	fail "A's route to 0d does not name its origin D"

# cloudctl asks A's daemon itself through its control socket.
CTL=$top_builddir/tools/cloudctl
[ "$(stat -c %a "$NET_TMP/A.ctl")" = 600 ] || fail "control socket is not mode 0600"
"$CTL" -s "$NET_TMP/A.ctl" routes | grep -q 'route  addr=1/0d/8 via=B ' ||
	fail "cloudctl -s: no route to 0d via B"
# the request cloudctl routes makes: route lines, and nothing else
out=$(in_ns A timeout 5 python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b"routes\n"); print(s.makefile().read(), end="")' "$NET_TMP/A.ctl") ||
	fail "no answer to a routes request"
grep -q '^route addr=1/0d/8 via=B ' <<<"$out" &&
	! grep -qv '^route ' <<<"$out" || fail "routes request: $out"
"$CTL" -s "$NET_TMP/A.ctl" -json links | grep -q '"kind":"link","peer":"B"' ||
	fail "cloudctl -s -json: no link to B"
say "cloudctl -s: $("$CTL" -s "$NET_TMP/A.ctl" links | head -1)"
# JSON: counts are numbers, names and IDs strings, none is null
"$CTL" -s "$NET_TMP/A.ctl" -json >"$NET_TMP/A.json" || fail "cloudctl -json"
python3 - "$NET_TMP/A.json" <<'PY' || fail "cloudctl -json: $(cat "$NET_TMP/A.json")"
import json, sys
recs = json.load(open(sys.argv[1]))
r = [r for r in recs if r["kind"] == "route" and r["addr"] == "1/0d/8"][0]
assert r["origin_name"] == "D" and r["via"] == "B", r
assert type(r["metric"]) is int and r["hops"] == 3, r
assert isinstance(r["origin"], str) and len(r["origin"]) == 16, r
l = [r for r in recs if r["kind"] == "link"][0]
assert type(l["bytes_in"]) is int and l["mtu"] is None, l
PY

cat_send A 1 0a 0d "ping from A" || fail "cloudcat A failed"
wait_for 5 out_has d "ping from A" || fail "D did not receive A's line"
grep -q "^0a	ping from A$" "$NET_TMP/d.out" || fail "D's line: $(cat "$NET_TMP/d.out")"
cat_send D 1 0d 0a "pong from D" || fail "cloudcat D failed"
wait_for 5 out_has a "pong from D" || fail "A did not receive D's answer"
grep -q "^0d	pong from D$" "$NET_TMP/a.out" || fail "A's line: $(cat "$NET_TMP/a.out")"

# A destination nobody owns goes nowhere, and a wrong instance too; each
# is logged by the daemon once, and cloudcat -v says so.
nowhere() {
	printf '%s\n' "$3" | timeout 10 ip netns exec "$(ns A)" "$CLOUDCAT" \
		-gate "$NET_TMP/A.gate" -instance "$1" -address 0a -to "$2" -v
}
err=$(nowhere 2 0d "other instance" 2>&1) || fail "cloudcat A (instance 2)"
say "cloudcat -v: $err"
[ "$err" = "cloudcat: no route to 0d in instance 2: the daemon dropped it" ] ||
	fail "cloudcat -v did not report the drop: $err"
err=$(nowhere 1 0e "nobody's" 2>&1) || fail "cloudcat A (to 0e)"
case $err in *"no route to 0e in instance 1"*) ;;
	*) fail "cloudcat -v did not report the drop to 0e: $err" ;; esac
wait_for 5 log_has A "no route to 2/0d \(from gate [0-9]+\): dropped" ||
	fail "A did not log the drop to 2/0d"
log_has A "no route to 1/0e " || fail "A did not log the drop to 1/0e"
nowhere 1 0e "again" 2>/dev/null || fail "cloudcat A (to 0e again)"
[ "$(grep -c 'no route to 1/0e ' "$NET_TMP/A.log")" -eq 1 ] ||
	fail "A logged the drop to 1/0e more than once"
out_has d "other instance" && fail "instance 2 leaked into instance 1"
cloud_check A B C D
say "ok"
