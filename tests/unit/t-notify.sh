#!/bin/sh
# The daemon tells systemd (Type=notify, cloud@.service) READY=1 once it
# listens and its gate socket accepts, and STOPPING=1 when it shuts down:
# tests/unit/cloudrun.py is the $NOTIFY_SOCKET. As root, again with chroot
# and user: READY=1 goes before the chroot hides the socket's path
# (STOPPING=1 is lost then; systemd needs it not).
# Skipped in a build without libsystemd (configure --without-systemd).
NAME=t-notify
. "${top_srcdir:-$(dirname "$0")/../..}/tests/unit/daemon.sh"
grep -q -e '-DHAVE_SYSTEMD=1' "$top_builddir/Makefile" ||
	{ say "built without libsystemd"; exit 77; }
run=$top_srcdir/tests/unit/cloudrun.py
python3 "$run" notify "$tmp/notify" "$CLOUD" -@include "$tmp/a.cfg" ||
	fail "plain daemon"
[ "$(id -u)" = 0 ] || { say "not root: chroot case skipped"; exit 0; }
mkdir "$tmp/empty" && rm -f "$tmp/notify" "$GATE" || exit 99
# LeakSanitizer needs /proc, which the chroot has not (as t-chroot-user)
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
python3 "$run" notify-chroot "$tmp/notify" "$CLOUD" -@include "$tmp/a.cfg" \
	-chroot "$tmp/empty" -user nobody || fail "with chroot and user"
say "READY=1 and STOPPING=1; READY=1 also with chroot and user"
