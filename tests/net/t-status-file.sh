#!/bin/bash
# The status file is written through a fresh temporary file in its own
# directory (mkstemp, renamed over it): a symlink planted at the old
# predictable PATH.tmp is not followed, and the file is mode 0600 like the
# control socket that serves the same snapshot.
#
#   A (cloud, status-file A.status; A.status.tmp -> victim)
#
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
net_init
net_need_cloud

host A
certs A
st=$NET_TMP/A.status
echo precious >"$NET_TMP/victim"
ln -s "$NET_TMP/victim" "$st.tmp"
umask 022	# what a root shell usually has: 0644 files
cloud_start A
wait_for 5 test -s "$st" || { cloud_check A; fail "no status file"; }
cloud_check A
[ "$(cat "$NET_TMP/victim")" = precious ] ||
	fail "the symlink at $st.tmp was followed: victim now \"$(head -c 80 "$NET_TMP/victim")\""
[ -L "$st.tmp" ] || fail "$st.tmp was replaced"
mode=$(stat -c %a "$st")
[ "$mode" = 600 ] || fail "status file mode $mode, not 600"
# a rewrite after the first (status-interval 100ms): a new inode
ino=$(stat -c %i "$st")
rewritten() { [ "$(stat -c %i "$st")" != "$ino" ]; }
wait_for 5 rewritten || fail "status file not rewritten"
grep -q '^cloud name=A ' "$st" || fail "status file lacks the cloud line"
cloud_stop A || fail "A did not exit cleanly"
left=$(ls "$NET_TMP" | grep -c '^A\.status\.' || true)
[ "$left" = 1 ] || fail "temporary files left behind: $(ls "$NET_TMP")"
say "ok"
