# Helpers for the ether tests (sourced after lib.sh and mesh.sh).
ETHER=${ETHER:-$top_builddir/ether/ether}

ether_need() {
	[ -x "$ETHER" ] || hard_error "$ETHER: not built"
	[ -c /dev/net/tun ] || skip "no /dev/net/tun"
}

# ether_start NS GATE_OWNER TAG [OPTION VALUE]...: ether in namespace NS
# attached to GATE_OWNER's gate socket; its TAP is named "tap0".
ether_start() {
	local n=$1 owner=$2 tag=$3
	shift 3
	run_in "$n" "ether-$tag" "${WRAP[@]}" "$ETHER" -gate "$NET_TMP/$owner.gate" \
		-iface_dev tap0 -loglevel 3 "$@"
	eval "PID_ether_$tag=$LAST_PID"
}

tap_up() { ip -n "$(ns "$1")" link show tap0 2>/dev/null | grep -q 'UP'; }

# pings NS ADDR [ping options]: a few pings get through.
pings() {
	local n=$1 a=$2
	shift 2
	in_ns "$n" ping -q -c 3 -i 0.2 -W 1 "$@" "$a" >/dev/null 2>&1
}

# ping_gap LOG: the longest silence in ms between replies of a
# `ping -D` log (99999 if it has 50 replies or fewer).
ping_gap() {
	python3 -c 'import re, sys
ts = [float(m.group(1)) for m in re.finditer(r"^\[([0-9.]+)\].*bytes from", open(sys.argv[1]).read(), re.M)]
print(int(max(b - a for a, b in zip(ts, ts[1:])) * 1000) if len(ts) > 50 else 99999)' "$1"
}

# xfer FROM TO ADDR BYTES: send BYTES random bytes over TCP from namespace
# FROM to a sink at ADDR:7000 in namespace TO; fails unless all arrive
# with the same SHA-256. Sets XFER_MS. The sender has 30 s in all (a
# socket timeout bounds the whole sendall, not each send).
xfer() {
	local from=$1 to=$2 addr=$3 bytes=$4 want n got t0 sink
	head -c "$bytes" /dev/urandom >"$NET_TMP/blob"
	want=$(sha256sum <"$NET_TMP/blob" | cut -d' ' -f1)
	cat >"$NET_TMP/sink.py" <<'PY'
import hashlib, socket, sys
s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 7000)); s.listen(1); s.settimeout(60)
c, _ = s.accept(); c.settimeout(60); h = hashlib.sha256(); n = 0
while True:
    b = c.recv(1 << 16)
    if not b: break
    h.update(b); n += len(b)
print(n, h.hexdigest(), flush=True)
PY
	rm -f "$NET_TMP/sink.log"
	run_in "$to" sink python3 "$NET_TMP/sink.py" "$addr"
	sink=$LAST_PID
	wait_for 5 listening "$to" 7000 || fail "sink not listening"
	t0=$(now_ms)
	in_ns "$from" timeout 60 python3 -c '
import socket, sys
s = socket.create_connection((sys.argv[2], 7000), timeout=30)
with open(sys.argv[1], "rb") as f:
    s.sendall(f.read())
s.shutdown(socket.SHUT_WR); s.recv(1)
' "$NET_TMP/blob" "$addr" || fail "sending $bytes bytes $from -> $to failed"
	wait_for 30 grep -q " " "$NET_TMP/sink.log" || fail "sink reported nothing"
	XFER_MS=$(($(now_ms) - t0))
	read -r n got <"$NET_TMP/sink.log"
	proc_stop "$sink" TERM 2 || true
	[ "$n" = "$bytes" ] || fail "$from -> $to: received $n bytes, not $bytes"
	[ "$got" = "$want" ] || fail "$from -> $to: hash mismatch"
}
