#!/bin/sh
# make install DESTDIR=... installs every program, each with its man
# page (NAME.1 or NAME.8), the bash completions of cloudctl and
# cloud-cert, the systemd units (their ExecStart naming the installed
# programs), libcloudgate with cloudgate.h and cloudgate.pc; and
# make uninstall leaves no file behind.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
fail() { echo "t-install: FAIL: $*"; exit 1; }
say() { echo "t-install: $*"; }
tmp=$(mktemp -d /tmp/install.XXXXXX) || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM
root=$tmp/root
# Not the jobserver of a make check that runs this.
mk() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$top_builddir" \
		DESTDIR="$root" "$@" >"$tmp/make.log" 2>&1 ||
		{ tail -20 "$tmp/make.log"; fail "make $*"; }
}
var() { sed -n "s|^$1 = ||p" "$top_builddir/Makefile"; }
# a directory make install uses, as configured
dir() {
	d=$(var "$1")
	while case $d in *'${'*) true ;; *) false ;; esac; do
		d=$(printf '%s' "$d" | sed -e "s|\${prefix}|$(var prefix)|" \
			-e "s|\${exec_prefix}|$(var exec_prefix)|" \
			-e "s|\${datarootdir}|$(var datarootdir)|" \
			-e "s|\${datadir}|$(var datadir)|")
	done
	echo "$d"
}
mk install
sbin=$(dir sbindir) bin=$(dir bindir) mandir=$(dir mandir)

n=0
for p in cloud ether tun stunproxy cloud-cert cloud-grants cloudcat \
	cloudctl; do
	[ -x "$root$sbin/$p" ] || [ -x "$root$bin/$p" ] ||
		fail "$p not installed in $sbin or $bin"
done
for f in "$root$sbin"/* "$root$bin"/*; do
	p=${f##*/}
	[ -f "$root$mandir/man8/$p.8" ] || [ -f "$root$mandir/man1/$p.1" ] ||
		fail "$p has no man page in $mandir"
	n=$((n + 1))
done
[ "$n" -ge 8 ] || fail "only $n programs installed"
comp=$(dir bashcompletiondir)
for c in cloudctl cloud-cert; do
	[ -f "$root$comp/$c" ] || fail "no bash completion $comp/$c"
done
units=$(dir systemdsystemunitdir)
for u in cloud ether tun stunproxy; do
	f=$root$units/$u@.service
	[ -f "$f" ] || fail "no $units/$u@.service"
	grep -q "^ExecStart=$sbin/$u " "$f" || fail "$u@.service: $(grep \
		'^ExecStart' "$f"), not $sbin/$u"
done
[ -f "$root$(dir includedir)/cloudgate.h" ] || fail "no cloudgate.h"
ls "$root$(dir libdir)"/libcloudgate.so.1 >/dev/null 2>&1 ||
	fail "no libcloudgate.so.1"
[ -f "$root$(dir libdir)/pkgconfig/cloudgate.pc" ] || fail "no cloudgate.pc"
say "$n programs, each with its man page; 2 completions, 4 units, library"

mk uninstall
left=$(find "$root" -type f -o -type l)
[ -z "$left" ] || { echo "$left"; fail "make uninstall left files"; }
say "make uninstall removed everything"
