# bench/vpn-wireguard.sh: WireGuard through wireguard-go (the kernel here
# has no wireguard module), ChaCha20-Poly1305, MTU 1400. Line: A and C
# each peer with B only; B forwards IP between its two peers (ip_forward
# in B's namespace), AllowedIPs route A<->C through B.

wireguard_check() {
	command -v wireguard-go >/dev/null ||
		{ echo "wireguard-go not installed"; return 1; }
	command -v wg >/dev/null || { echo "wg not installed"; return 1; }
}
wireguard_version() {
	echo "wireguard-go $(wireguard-go --version | sed -n 's/^wireguard-go //p')"
}
wireguard_desc() {
	echo "WireGuard (wireguard-go, userspace), ChaCha20-Poly1305;" \
		"line: B forwards IP between its wg peers"
}

wg_dev() { echo "cvbwg$$$1"; }	# wireguard-go's UAPI socket path is global

wireguard_keys() {
	local n
	[ -e "$WORK/wg/c.pub" ] && return 0
	mkdir -p "$WORK/wg"
	for n in a b c; do
		(umask 077 && wg genkey >"$WORK/wg/$n.key") &&
		wg pubkey <"$WORK/wg/$n.key" >"$WORK/wg/$n.pub" || return 1
	done
}

# wg_peer NODE PEER ENDPOINT ALLOWED
wg_peer() {
	nsx "$(node_ns "$1")" wg set "$(wg_dev "$1")" peer "$(cat "$WORK/wg/$2.pub")" \
		endpoint "$3:51820" allowed-ips "$4"
}

wireguard_setup() {
	local topo=$1 nodes n ip
	wireguard_keys || { log "wg: cannot make keys"; return 1; }
	if [ "$topo" = pair ]; then nodes="a b"; TARGET_IP=$O_B
	else nodes="a b c"; TARGET_IP=$O_C; fi
	for n in $nodes; do
		spawn "$n" "wireguard-go-$n" env \
			WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 \
			wireguard-go -f "$(wg_dev "$n")"
	done
	for n in $nodes; do
		case $n in a) ip=$O_A ;; b) ip=$O_B ;; c) ip=$O_C ;; esac
		ns_ifup "$(node_ns "$n")" "$(wg_dev "$n")" "$ip/24" || return 1
		nsx "$(node_ns "$n")" wg set "$(wg_dev "$n")" listen-port 51820 \
			private-key "$WORK/wg/$n.key" || return 1
	done
	if [ "$topo" = pair ]; then
		wg_peer a b "$U_BA" "$O_B/32" &&
		wg_peer b a "$U_A" "$O_A/32"
		return
	fi
	nsx "$NS_B" sysctl -qw net.ipv4.ip_forward=1 &&
	wg_peer a b "$U_BA" "$O_B/32,$O_C/32" &&
	wg_peer c b "$U_BC" "$O_A/32,$O_B/32" &&
	wg_peer b a "$U_A" "$O_A/32" &&
	wg_peer b c "$U_C" "$O_C/32"
}

wireguard_teardown() {
	[ "$1" = line ] && nsx "$NS_B" sysctl -qw net.ipv4.ip_forward=0
	return 0
}
