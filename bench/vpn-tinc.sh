# bench/vpn-tinc.sh: tinc 1.0 in switch mode (TAP), UDP data, RSA-2048
# meta keys. Packet cipher AES-256-CBC + HMAC-SHA256 (truncated to 16
# bytes): tinc 1.0 has no AEAD mode. Line: A and C ConnectTo B and are
# marked IndirectData, so their traffic is relayed by B over UDP.

tinc_check() {
	command -v tincd >/dev/null || { echo "tincd not installed"; return 1; }
}
tinc_version() { tincd --version | head -1; }
tinc_desc() {
	echo "tinc 1.0 switch mode (TAP), UDP, AES-256-CBC+HMAC-SHA256/128," \
		"RSA-2048; line: A,C IndirectData, B relays"
}

# tinc_conf NODE TOPO: write WORK/tinc/NODE/{tinc.conf,hosts/}
tinc_conf() {
	local n=$1 topo=$2 d=$WORK/tinc/$1
	mkdir -p "$d/hosts"
	cat >"$d/tinc.conf" <<-CONF
	Name = $n
	Mode = switch
	DeviceType = tap
	Device = /dev/net/tun
	Interface = cvbtap
	AddressFamily = ipv4
	Cipher = aes-256-cbc
	Digest = sha256
	MACLength = 16
	CONF
	[ "$n" = b ] || echo "ConnectTo = b" >>"$d/tinc.conf"
}

# RSA keys made once per run, as a user would: tincd -K.
tinc_keys() {
	local n k
	[ -e "$WORK/tinc/keys/c/hosts/c" ] && return 0
	for n in a b c; do
		k=$WORK/tinc/keys/$n
		mkdir -p "$k/hosts"
		echo "Name = $n" >"$k/tinc.conf"
		tincd -c "$k" -K2048 </dev/null >/dev/null 2>&1 &&
			[ -s "$k/hosts/$n" ] ||
			{ log "tinc: cannot make RSA keys"; return 1; }
	done
}

# Host file of node N as seen by node VIEWER.
tinc_host() {
	local n=$1 viewer=$2 topo=$3
	case $n in
	a) echo "Address = $U_A" ;;
	b) [ "$viewer" = c ] && echo "Address = $U_BC" ||
		echo "Address = $U_BA" ;;
	c) echo "Address = $U_C" ;;
	esac
	echo "Port = 655"
	[ "$topo" = line ] && [ "$n" != b ] && echo "IndirectData = yes"
	cat "$WORK/tinc/keys/$n/hosts/$n"
}

tinc_setup() {
	local topo=$1 nodes n m ip
	tinc_keys || return 1
	rm -rf "$WORK/tinc/a" "$WORK/tinc/b" "$WORK/tinc/c"
	if [ "$topo" = pair ]; then nodes="a b"; TARGET_IP=$O_B
	else nodes="a b c"; TARGET_IP=$O_C; fi
	for n in $nodes; do
		tinc_conf "$n" "$topo"
		cp "$WORK/tinc/keys/$n/rsa_key.priv" "$WORK/tinc/$n/rsa_key.priv"
		for m in $nodes; do
			tinc_host "$m" "$n" "$topo" >"$WORK/tinc/$n/hosts/$m"
		done
	done
	for n in $nodes; do
		spawn "$n" "tincd-$n" tincd -c "$WORK/tinc/$n" -D -d1 \
			--pidfile="$WORK/tinc/$n/pid"
	done
	for n in $nodes; do
		case $n in a) ip=$O_A ;; b) ip=$O_B ;; c) ip=$O_C ;; esac
		ns_ifup "$(node_ns "$n")" cvbtap "$ip/24" || return 1
	done
}

tinc_teardown() { :; }
