#!/bin/sh
# An outside program builds against the installed libcloudgate. The
# library, its header and cloudgate.pc go into a temporary DESTDIR; a small
# program is compiled with `pkg-config --cflags --libs cloudgate` and run
# against the shared library, then linked with `pkg-config --static` and
# run with no library path. The shared library exports cg_ names only, and
# cloudgate.pc, cloudgate.h and cg_version() tell one version.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
# The build's compiler and flags (make check passes them): an ASan build's
# library needs an ASan program.
cc=${CG_CC:-cc}
flags="${CG_CFLAGS:--O2} ${CG_LDFLAGS:-}"
fail() { echo "t-cloudgate-pc: FAIL: $*"; exit 1; }
say() { echo "t-cloudgate-pc: $*"; }
command -v pkg-config >/dev/null || { say "no pkg-config"; exit 77; }
tmp=$(mktemp -d /tmp/cgpc.XXXXXX) || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM

# Not the jobserver of a make check that runs this.
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$top_builddir" \
	DESTDIR="$tmp/root" install-libLTLIBRARIES install-includeHEADERS \
	install-pkgconfigDATA >"$tmp/install.log" 2>&1 ||
	{ cat "$tmp/install.log"; fail "make install into $tmp/root"; }
pc=$(find "$tmp/root" -name cloudgate.pc)
[ -n "$pc" ] || fail "no cloudgate.pc installed"
PKG_CONFIG_LIBDIR=${pc%/*}
PKG_CONFIG_PATH=
PKG_CONFIG_SYSROOT_DIR=$tmp/root
export PKG_CONFIG_LIBDIR PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
libdir=$(pkg-config --variable=libdir cloudgate) || fail "pkg-config cloudgate"
# pkgconf puts the sysroot before variables too; pkg-config 0.29 does not
case $libdir in "$tmp/root"/*) ;; *) libdir=$tmp/root$libdir ;; esac
hdr=$(find "$tmp/root" -name cloudgate.h)
[ -n "$hdr" ] || fail "no cloudgate.h installed"
[ -e "$libdir/libcloudgate.so" ] && [ -e "$libdir/libcloudgate.a" ] ||
	fail "no libcloudgate.so and .a in $libdir"

major=$(sed -n 's/^#define CG_VERSION_MAJOR \([0-9]*\).*/\1/p' "$hdr")
minor=$(sed -n 's/^#define CG_VERSION_MINOR \([0-9]*\).*/\1/p' "$hdr")
ver=$(pkg-config --modversion cloudgate)
[ "$ver" = "$major.$minor" ] ||
	fail "cloudgate.pc says version $ver, cloudgate.h $major.$minor"

cat >"$tmp/prog.c" <<'CEOF'
#include <stdio.h>
#include <cloudgate.h>

int main(void)
{
	const struct cg_handlers h = { 0 };
	struct cloudgate *g;
	char err[256] = "";

	if (cg_version() != CG_VERSION)
		return 2;
	g = cg_start("/nonexistent/gate", "pc-test", &h, NULL, err,
		     sizeof(err));
	if (g != NULL)
		return 3;
	printf("%d %s\n", cg_version(), err);
	return 0;
}
CEOF
want="$((major * 1000 + minor)) cannot reach the daemon at /nonexistent/gate"

# shellcheck disable=SC2046,SC2086
$cc $flags -o "$tmp/shared" "$tmp/prog.c" \
	$(pkg-config --cflags --libs cloudgate) >"$tmp/cc.log" 2>&1 ||
	{ cat "$tmp/cc.log"; fail "cannot build against the shared library"; }
readelf -d "$tmp/shared" | grep -q 'NEEDED.*libcloudgate\.so\.'"$major" ||
	fail "the program does not use libcloudgate.so.$major"
out=$(LD_LIBRARY_PATH=$libdir "$tmp/shared") || fail "the shared-library program failed ($?)"
case $out in "$want"*) ;; *) fail "it printed \"$out\", not \"$want...\"" ;; esac
say "shared: $out"

# shellcheck disable=SC2046,SC2086
$cc $flags -o "$tmp/static" "$tmp/prog.c" $(pkg-config --cflags cloudgate) \
	-Wl,-Bstatic $(pkg-config --static --libs cloudgate) -Wl,-Bdynamic \
	>"$tmp/cc.log" 2>&1 ||
	{ cat "$tmp/cc.log"; fail "cannot link the static library"; }
readelf -d "$tmp/static" | grep -q 'NEEDED.*libcloudgate' &&
	fail "the static program still needs libcloudgate.so"
out=$(env -u LD_LIBRARY_PATH "$tmp/static") || fail "the static program failed ($?)"
case $out in "$want"*) ;; *) fail "it printed \"$out\", not \"$want...\"" ;; esac
say "static: $out"

so=$(readlink -f "$libdir/libcloudgate.so")
syms=$(nm -D --defined-only "$so" | awk '{ print $3 }')
[ -n "$syms" ] || fail "nm found no symbols in $so"
other=$(echo "$syms" | grep -v '^cg_')
[ -z "$other" ] || fail "${so##*/} exports more than cg_: $(echo $other)"
say "${so##*/} exports $(echo "$syms" | wc -l) names, all cg_"
say "ok"
