#!/bin/sh
# syslog yes: the daemon's messages go to syslog(3), as "cloud[PID]" with
# the daemon facility. In a mount namespace of its own, a tmpfs on /dev
# holds /dev/null, /dev/urandom and tests/unit/cloudrun.py's socket as
# /dev/log; the daemon's start and shutdown lines must arrive there.
NAME=t-syslog
. "${top_srcdir:-$(dirname "$0")/../..}/tests/unit/daemon.sh"
[ "$(id -u)" = 0 ] || { say "not root: no mount namespace"; exit 77; }
command -v unshare >/dev/null || { say "no unshare"; exit 77; }
echo "syslog yes" >>"$tmp/a.cfg"
unshare --mount --propagation private sh -ec '
	mount -t tmpfs cvsyslog /dev
	mknod -m 666 /dev/null c 1 3
	mknod -m 666 /dev/urandom c 1 9
	exec python3 "$1" syslog /dev/log "$2" -@include "$3"' sh \
	"$top_srcdir/tests/unit/cloudrun.py" "$CLOUD" "$tmp/a.cfg" ||
	fail "syslog yes"
say "the daemon logs to syslog as cloud[PID], facility daemon"
