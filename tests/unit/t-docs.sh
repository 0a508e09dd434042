#!/bin/sh
# Every option that `cloud -h`, `ether -h`, `stunproxy -h` and `tun -h` list
# (the option tables the parsers use) has an entry in its man page, so the
# two cannot drift apart.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
rc=0
check() {
	bin=$1 page=$2
	[ -x "$bin" ] || { echo "t-docs: $bin not built"; exit 99; }
	opts=$("$bin" -h | sed -n 's/^  -\([a-z_@-]*\) .*/\1/p' | grep -v -e '^option$' -e '^@include$')
	[ -n "$opts" ] || { echo "t-docs: $bin -h listed no options"; rc=1; return; }
	for o in $opts; do
		# man pages escape '-' as '\-'
		pat=$(printf '%s' "$o" | sed 's/-/\\\\-/g')
		if ! grep -q "^\.BI* $pat\( \|$\)" "$page" &&
			! grep -q "^\.BI* \"$pat\"" "$page"; then
			echo "t-docs: $o (from ${bin##*/} -h) is missing in ${page##*/}"
			rc=1
		fi
	done
	echo "t-docs: ${bin##*/}: $(echo "$opts" | wc -l) options checked against ${page##*/}"
}
check "$top_builddir/cloud/cloud" "$top_srcdir/doc/cloud.8"
check "$top_builddir/ether/ether" "$top_srcdir/doc/ether.8"
check "$top_builddir/stunproxy/stunproxy" "$top_srcdir/doc/stunproxy.8"
check "$top_builddir/tun/tun" "$top_srcdir/doc/tun.8"
exit $rc
