#!/bin/sh
# The systemd units make built (systemd/*.service) pass
# `systemd-analyze verify` with no complaint, their programs and man pages
# found; their ExecStart names the configured sbindir, rewritten here to
# links to the built programs. Each keeps its hardening:
# `systemd-analyze security --offline` exposure 3.5 at most, and
# NoNewPrivileges, a CapabilityBoundingSet, ProtectSystem=strict;
# cloud@ is Type=notify with a RuntimeDirectory.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
fail() { echo "t-systemd-units: FAIL: $*"; exit 1; }
say() { echo "t-systemd-units: $*"; }
command -v systemd-analyze >/dev/null ||
	{ say "no systemd-analyze"; exit 77; }
tmp=$(mktemp -d /tmp/sdunits.XXXXXX) || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM
mkdir "$tmp/sbin" "$tmp/man" "$tmp/man/man8" || exit 99
for f in "$top_srcdir"/doc/*.8; do ln -s "$f" "$tmp/man/man8/"; done
man=no
command -v man >/dev/null && man=yes

for p in cloud ether tun stunproxy; do
	unit=$top_builddir/systemd/$p@.service
	[ -f "$unit" ] || { say "$unit not built"; exit 99; }
	[ -x "$top_builddir/$p/$p" ] || { say "$p not built"; exit 99; }
	ln -s "$top_builddir/$p/$p" "$tmp/sbin/$p"
	exec=$(sed -n 's/^ExecStart=\([^ ]*\) .*/\1/p' "$unit")
	[ "${exec##*/}" = "$p" ] || fail "$p@.service: ExecStart=$exec"
	sed "s|^ExecStart=$exec |ExecStart=$tmp/sbin/$p |" "$unit" \
		>"$tmp/$p@node1.service"
	for k in NoNewPrivileges=yes CapabilityBoundingSet= \
		ProtectSystem=strict; do
		grep -q "^$k" "$unit" || fail "$p@.service has no $k"
	done
done
for k in Type=notify RuntimeDirectory=cloudvpn; do
	grep -qx "$k" "$top_builddir/systemd/cloud@.service" ||
		fail "cloud@.service has no $k"
done

(cd "$tmp" && MANPATH=$tmp/man systemd-analyze verify --man=$man \
	./*.service) >"$tmp/verify" 2>&1 || fail "systemd-analyze verify failed"
if [ -s "$tmp/verify" ]; then
	cat "$tmp/verify"
	fail "systemd-analyze verify complained"
fi
for p in cloud ether tun stunproxy; do
	systemd-analyze security --offline=true --threshold=35 \
		"$tmp/$p@node1.service" >"$tmp/sec" 2>&1 ||
		{ tail -3 "$tmp/sec"; fail "$p@.service: exposure over 3.5"; }
	say "$(grep -o 'exposure level for.*' "$tmp/sec")"
done
say "4 units verified (man pages checked: $man)"
