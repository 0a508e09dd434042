#!/bin/sh
# cloud-cert puts grants into a node certificate and cloud-grants reads
# them back. In a temporary directory: a CA, then
#   alpha  --instance 8 --prefix 7:10.20.0.3/32   certtool -i shows the
#          extension under our OID with the bytes cloud-grants wrote, and
#          -decode-cert gives back 8,7:10.20.0.3/32
#   beta   --no-client-auth --prefix 7:fd00::/64  grants combine with the
#          test options
#   gamma  no grants: no extension ("-"), and cloud-grants not needed
#   delta  --prefix 7:10.20.0.3/24: refused, naming the value, no key left
#   bad    a certificate whose extension is malformed: -decode-cert fails
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
fail() { echo "t-grants-cert: FAIL: $*"; exit 1; }
say() { echo "t-grants-cert: $*"; }
command -v certtool >/dev/null || { say "no certtool (gnutls-bin)"; exit 77; }
CLOUD_GRANTS=$top_builddir/tools/cloud-grants
[ -x "$CLOUD_GRANTS" ] || { say "$CLOUD_GRANTS not built"; exit 99; }
export CLOUD_GRANTS
cert=$top_srcdir/tools/cloud-cert
tmp=$(mktemp -d /tmp/grants.XXXXXX) || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM
ca=$tmp/ca
oid=$("$CLOUD_GRANTS" -oid) || fail "cloud-grants -oid"

run() {
	"$@" >"$tmp/out" 2>&1 || { cat "$tmp/out"; fail "$*"; }
}
info() {
	certtool -i --infile "$ca/$1.crt" >"$tmp/$1.txt" 2>&1 ||
		{ cat "$tmp/$1.txt"; fail "certtool -i $1.crt"; }
}
decoded() {
	got=$("$CLOUD_GRANTS" -decode-cert "$ca/$1.crt") ||
		fail "cloud-grants -decode-cert $1.crt"
	[ "$got" = "$2" ] || fail "$1.crt: grants \"$got\", want \"$2\""
	say "$1.crt: $got"
}

run "$cert" ca "$ca"

run "$cert" node "$ca" alpha --instance 8 --prefix 7:10.20.0.3/32
info alpha
grep -qF "Unknown extension $oid (not critical)" "$tmp/alpha.txt" ||
	fail "certtool -i shows no $oid in alpha.crt"
hex=$("$CLOUD_GRANTS" --instance 8 --prefix 7:10.20.0.3/32)
# OCTET STRING of 17: version 1, instance 8, prefix 7 4 bytes /32 10.20.0.3
[ "$hex" = 0411010100000008020000000704200a140003 ] ||
	fail "cloud-grants wrote $hex"
grep -A3 -F "$oid" "$tmp/alpha.txt" | grep -qF "Hexdump: $hex" ||
	fail "alpha.crt: the extension is not $hex"
decoded alpha 8,7:10.20.0.3/32

run "$cert" node "$ca" beta --no-client-auth --prefix 7:fd00::/64
info beta
grep -q "TLS WWW Client" "$tmp/beta.txt" && fail "beta.crt allows clients"
decoded beta 7:fd00::/64

# a copy of cloud-cert with no cloud-grants beside it or in CLOUD_GRANTS
mkdir "$tmp/bin" && cp "$cert" "$tmp/bin/" || fail "copy cloud-cert"
run env -u CLOUD_GRANTS "$tmp/bin/cloud-cert" node "$ca" gamma
info gamma
grep -qF "$oid" "$tmp/gamma.txt" && fail "gamma.crt has a grants extension"
decoded gamma -

if "$cert" node "$ca" delta --prefix 7:10.20.0.3/24 >"$tmp/out" 2>&1; then
	fail "a prefix with host bits was taken"
fi
grep -qF '"7:10.20.0.3/24"' "$tmp/out" ||
	{ cat "$tmp/out"; fail "the error does not name 7:10.20.0.3/24"; }
[ -e "$ca/delta.key" ] && fail "a refused node left delta.key"
say "refused: $(cat "$tmp/out")"

# version 2: well-formed DER, but not ours to read
printf 'cn = "bad"\nadd_extension = "%s 0x040102"\n' "$oid" >"$tmp/bad.tmpl"
run certtool --generate-certificate --no-text --template "$tmp/bad.tmpl" \
	--load-privkey "$ca/alpha.key" --load-ca-privkey "$ca/ca.key" \
	--load-ca-certificate "$ca/ca.crt" --outfile "$ca/bad.crt"
if "$CLOUD_GRANTS" -decode-cert "$ca/bad.crt" >"$tmp/out" 2>&1; then
	fail "bad.crt decoded: $(cat "$tmp/out")"
fi
grep -q "malformed" "$tmp/out" || { cat "$tmp/out"; fail "bad.crt: no error"; }
say "bad.crt: $(cat "$tmp/out")"
exit 0
