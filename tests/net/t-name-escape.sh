#!/bin/bash
# A node whose certificate's CN holds a space, a newline, '=', a quote, a
# backslash and a terminal escape links to a normal node. Neither node's
# status file nor log carries the name raw: it is one word, \xHH escaped,
# so the newline cannot forge a status line, and cloudctl reads it sanely.
#
#   E (10.77.1.1) ---------> B (10.77.1.2) listen :5000
#   CN = 'e v' NL 'link peer=X "q' ESC '[31m'
#   (GnuTLS hands the CN over with the '"' as '\"', RFC 4514's way)
#
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
net_init
net_need_cloud
# certtool's templates cannot hold a newline in a CN; openssl's -subj can
command -v openssl >/dev/null || skip "openssl not found"
CLOUDCTL=$top_builddir/tools/cloudctl
[ -x "$CLOUDCTL" ] || hard_error "$CLOUDCTL: not built"

CN=$'e v\nlink peer=X "q\e[31m'
ESC_CN='e\x20v\x0alink\x20peer\x3dX\x20\x5c\x22q\x1b[31m'

host E B
link E B
certs B
# E's certificate: the request from openssl, signed by the test CA with
# the key purposes cloud-cert gives
certtool --generate-privkey --key-type=ecdsa --curve=secp256r1 --no-text \
	--outfile "$CERTS/E.key" >/dev/null 2>&1 || hard_error "E's key"
openssl req -new -key "$CERTS/E.key" -utf8 -subj "/CN=$CN" \
	-out "$NET_TMP/E.csr" 2>/dev/null || hard_error "E's request"
printf 'signing_key\ntls_www_server\ntls_www_client\nexpiration_days = 30\n' \
	>"$NET_TMP/E.tmpl"
certtool --generate-certificate --no-text --load-request "$NET_TMP/E.csr" \
	--load-ca-privkey "$CERTS/ca.key" --load-ca-certificate "$CERTS/ca.crt" \
	--template "$NET_TMP/E.tmpl" --outfile "$CERTS/E.crt" >/dev/null 2>&1 ||
	hard_error "E's certificate"
certtool -i --infile "$CERTS/E.crt" | grep -aq $'CN=e v\n' ||
	hard_error "E's certificate does not hold the raw CN"

cloud_start B "listen $IP_B 5000"
wait_for 5 listening B 5000 || { cloud_check B; fail "B not listening"; }
cloud_start E "connect $IP_B 5000" "conn_retry 500ms"
wait_for 15 link_up E B || fail "no up link from E to B"
wait_for 5 any_link_up B || fail "no up link from B to E"
cloud_check E B

# Every status line is one record of a known kind; one link line each.
for n in B E; do
	bad=$(grep -cvE '^(cloud|link|route|gate|node|edge|origin|fwd|admit|udp) [a-z_]+=' \
		"$NET_TMP/$n.status")
	[ "$bad" -eq 0 ] ||
		{ cat "$NET_TMP/$n.status"; fail "$n.status: $bad forged lines"; }
	[ "$(grep -c '^link ' "$NET_TMP/$n.status")" -eq 1 ] ||
		{ cat "$NET_TMP/$n.status"; fail "$n.status: not one link line"; }
	! grep -q 'peer=X' "$NET_TMP/$n.status" ||
		fail "$n.status: the CN's tail reads as a record"
done
grep -qF "link peer=$ESC_CN id=" "$NET_TMP/B.status" ||
	fail "B's link line does not name E '$ESC_CN'"
grep -qF "cloud name=$ESC_CN " "$NET_TMP/E.status" ||
	fail "E's cloud line does not name it '$ESC_CN'"
grep -qF "origin name=$ESC_CN " "$NET_TMP/E.status" ||
	fail "E's origin line does not name it '$ESC_CN'"

# No raw escape, quote or newline of the name in either log: the name's
# tail never starts a line, and B logged the link with the escaped name.
for n in B E; do
	! grep -q $'\e' "$NET_TMP/$n.log" || fail "$n.log: a raw ESC"
	! grep -q '^link peer=X' "$NET_TMP/$n.log" ||
		fail "$n.log: the CN's tail on a line of its own"
done
grep -qF "link $ESC_CN ($IP_E" "$NET_TMP/B.log" ||
	fail "B.log: no 'link $ESC_CN ($IP_E...' line"

# cloudctl: sane text and JSON from both status files, exit status 0.
for n in B E; do
	out=$("$CLOUDCTL" -f "$NET_TMP/$n.status" links) ||
		fail "cloudctl links on $n.status: exit status $?"
	[ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] ||
		fail "cloudctl links on $n.status: not one line: $out"
	! printf '%s' "$out" | grep -q $'[\001-\010\016-\037\177]' ||
		fail "cloudctl links on $n.status: control characters"
	"$CLOUDCTL" -f "$NET_TMP/$n.status" -json >"$NET_TMP/$n.json" ||
		fail "cloudctl -json on $n.status: exit status $?"
done
python3 - "$NET_TMP/B.json" "$ESC_CN" <<'PY' || fail "B's JSON"
import json, sys
recs = json.load(open(sys.argv[1]))
links = [r for r in recs if r["kind"] == "link"]
assert len(links) == 1 and links[0]["peer"] == sys.argv[2], links
PY
say "B: $("$CLOUDCTL" -f "$NET_TMP/B.status" links)"
say "ok"
