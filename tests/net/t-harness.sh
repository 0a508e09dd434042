#!/bin/bash
# The test harness itself, without the daemon: namespaces, veth, background
# processes, bounded waits, and the certificates of tools/cloud-cert used
# for a mutually authenticated TLS session (gnutls-serv / gnutls-cli).
#
#   A (10.77.1.1) ---- v1 ---- (10.77.1.2) B
#   gnutls-cli A.crt  ==TLS==> gnutls-serv :5000, requires a client cert
#
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
net_init
command -v gnutls-serv >/dev/null || skip "no gnutls-serv (gnutls-bin)"

host A B
link A B
certs A B
in_ns A ping -c1 -W2 "$IP_B" >/dev/null || fail "no ping A -> B"

run_in B serv gnutls-serv --port 5000 --require-client-cert \
	--verify-client-cert --x509cafile "$CERTS/ca.crt" \
	--x509keyfile "$CERTS/B.key" --x509certfile "$CERTS/B.crt"
serv=$LAST_PID
listening() { in_ns B ss -Hltn 'sport = :5000' | grep -q .; }
wait_for 5 listening || fail "gnutls-serv not listening"

tls() {
	echo hello | in_ns A timeout 5 gnutls-cli --port 5000 \
		--verify-hostname B --x509cafile "$CERTS/ca.crt" \
		--x509keyfile "$CERTS/$1.key" --x509certfile "$CERTS/$1.crt" \
		"$IP_B" >"$NET_TMP/cli-$1.log" 2>&1
}
tls A || fail "TLS with a good certificate failed"
grep -q 'Handshake was completed' "$NET_TMP/cli-A.log" ||
	fail "no handshake"

"$CLOUD_CERT" node "$CERTS" X --expired >/dev/null
tls X && grep -q 'Handshake was completed' "$NET_TMP/cli-X.log" &&
	fail "expired client certificate accepted"

t0=$(now_ms)
wait_for 1 false && fail "wait_for false succeeded"
t=$(($(now_ms) - t0))
[ "$t" -ge 900 ] && [ "$t" -lt 3000 ] || fail "wait_for 1 took ${t} ms"

alive "$serv" || fail "gnutls-serv died"
proc_stop "$serv" TERM 2 || true
alive "$serv" && fail "gnutls-serv survived proc_stop"
run_in A idle sleep 1000

# A process that crashed fails the test, which says which one, and shows
# a sanitizer's report from its first line.
cat >"$NET_TMP/crash.sh" <<'EOF'
. "$top_srcdir/tests/net/lib.sh"
net_init
host A
run_in A boom sh -c 'echo "==1==ERROR: AddressSanitizer: x"; kill -SEGV $$'
wait_for 5 grep -q AddressSanitizer "$NET_TMP/boom.log"
say "ok"
EOF
rc=0
top_srcdir=$top_srcdir bash "$NET_TMP/crash.sh" >"$NET_TMP/crash.out" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "a test whose process crashed exited $rc"
grep -q '(boom.log) died by SIGSEGV' "$NET_TMP/crash.out" ||
	fail "the crash was not said: $(cat "$NET_TMP/crash.out")"
grep -A 1 'boom.log: sanitizer report' "$NET_TMP/crash.out" |
	grep -q '==1==ERROR' || fail "the sanitizer report was not shown"
say "ok"
exit 0
