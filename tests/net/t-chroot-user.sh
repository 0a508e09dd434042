#!/bin/bash
# chroot without user leaves the daemon root inside the chroot, which
# confines nothing: the daemon says so at start, with the option's file
# and line; with a user it does not.
#
#   A (cloud, chroot jail)          A (cloud, chroot jail, user nobody)
#
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
net_init
net_need_cloud
id nobody >/dev/null 2>&1 || skip "no user nobody"

# LeakSanitizer needs /proc, which the jail has not: no leak check here
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
host A
certs A
mkdir -p "$NET_TMP/jail"
chmod 755 "$NET_TMP" "$NET_TMP/jail"

cloud_start A "chroot $NET_TMP/jail"
wait_for 5 log_has A 'node A started' || { cloud_check A; fail "A did not start"; }
log_has A "A\.cfg:[0-9]+: chroot: \"$NET_TMP/jail\" without user: the daemon stays root" ||
	fail "no warning for chroot without user: $(grep -i chroot "$NET_TMP/A.log")"
cloud_stop A || fail "A did not exit cleanly"

log_mark A
cloud_start A "chroot $NET_TMP/jail" "user nobody"
wait_for 5 eval 'log_since A | grep -q "node A started"' ||
	{ cloud_check A; fail "A did not start with user nobody"; }
log_since A | grep -q 'without user' && fail "warned although user is set"
cloud_stop A || fail "A (user nobody) did not exit cleanly"
say "ok"
