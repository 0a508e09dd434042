# bench/vpn-cloudvpn.sh: cloudvpn, one `cloud` daemon and one `ether` TAP
# gate per node (cloudvpn-tun: a `tun` IP gate instead, same daemons). Links are TCP + TLS 1.3 with AES-256-GCM only (the same
# AEAD as OpenVPN's data channel). Pair: A connects to B. Line: A and C
# connect to B, which routes A<->C. Certificates from tools/cloud-cert.
#
# Binaries: $CLOUD_BIN, $ETHER_BIN and $TUN_BIN, default cloud/cloud,
# ether/ether and tun/tun in the build tree ($BUILD_DIR, default the
# source tree).

CLOUD_PRIO='NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-256-GCM'
CLOUD_PORT=7000
CLOUD_XPORT=	# "-udp": links over UDP (DTLS 1.2, same AES-256-GCM)
CLOUD_GATE=ether	# the gate on each node: ether (TAP) or tun (TUN)

cloudvpn_bins() {
	CLOUD_BIN=${CLOUD_BIN:-${BUILD_DIR:-$TOP}/cloud/cloud}
	ETHER_BIN=${ETHER_BIN:-${BUILD_DIR:-$TOP}/ether/ether}
	TUN_BIN=${TUN_BIN:-${BUILD_DIR:-$TOP}/tun/tun}
}

cloudvpn_check() {
	cloudvpn_bins
	[ -x "$CLOUD_BIN" ] || { echo "no cloud binary at $CLOUD_BIN"; return 1; }
	[ -x "$ETHER_BIN" ] || { echo "no ether binary at $ETHER_BIN"; return 1; }
}
cloudvpn_version() {
	echo "cloudvpn $(git -C "$TOP" describe --always --dirty 2>/dev/null ||
		echo unknown)"
}
cloudvpn_desc() {
	echo "cloud + ether (TAP), TCP+TLS 1.3 AES-256-GCM, ECDSA P-256 certs;" \
		"line: B routes A<->C"
}

cloudvpn_certs() {
	local d=$WORK/cloudpki n
	[ -e "$d/c.crt" ] && return 0
	if [ -x "$TOP/tools/cloud-cert" ] &&
	   "$TOP/tools/cloud-cert" ca "$d" >/dev/null 2>&1 &&
	   "$TOP/tools/cloud-cert" node "$d" a >/dev/null 2>&1 &&
	   "$TOP/tools/cloud-cert" node "$d" b >/dev/null 2>&1 &&
	   "$TOP/tools/cloud-cert" node "$d" c >/dev/null 2>&1; then
		return 0
	fi
	log "cloudvpn: tools/cloud-cert failed, using the bench's certtool PKI"
	pki_make a b c || return 1
	mkdir -p "$d"
	for n in ca a b c; do
		cp "$WORK/pki/$n.crt" "$d/"
		[ "$n" = ca ] || cp "$WORK/pki/$n.key" "$d/"
	done
}

# cloudvpn_conf NODE TOPO -> cloud config on stdout
cloudvpn_conf() {
	local n=$1 topo=$2 d=$WORK/cloudpki s=$WORK/cloud/$1
	echo "#!/usr/sbin/cloud -@include"
	case $n in
	a) echo "connect$CLOUD_XPORT $U_BA $CLOUD_PORT" ;;
	b) echo "listen$CLOUD_XPORT $U_BA $CLOUD_PORT"
	   [ "$topo" = line ] && echo "listen$CLOUD_XPORT $U_BC $CLOUD_PORT" ;;
	c) echo "connect$CLOUD_XPORT $U_BC $CLOUD_PORT" ;;
	esac
	cat <<-CONF
	key $d/$n.key
	cert $d/$n.crt
	ca $d/ca.crt
	gate $s/gate.sock
	tls_prio_str $CLOUD_PRIO
	status-file $s/status
	CONF
}

cloudvpn_setup() {
	local topo=$1 nodes n ip i s
	cloudvpn_bins
	cloudvpn_certs || return 1
	if [ "$topo" = pair ]; then nodes="b a"; TARGET_IP=$O_B
	else nodes="b a c"; TARGET_IP=$O_C; fi
	for n in $nodes; do
		s=$WORK/cloud/$n
		rm -rf "$s"
		mkdir -p "$s"
		cloudvpn_conf "$n" "$topo" >"$s/cloud.cfg"
		spawn "$n" "cloud-$n" "$CLOUD_BIN" -@include "$s/cloud.cfg"
	done
	for n in $nodes; do
		s=$WORK/cloud/$n
		for i in $(seq 100); do
			[ -S "$s/gate.sock" ] && break
			sleep 0.1
		done
		[ -S "$s/gate.sock" ] ||
			{ log "cloudvpn: $n: no gate socket $s/gate.sock"; return 1; }
		case $n in a) ip=$O_A ;; b) ip=$O_B ;; c) ip=$O_C ;; esac
		if [ "$CLOUD_GATE" = tun ]; then
			spawn "$n" "tun-$n" "$TUN_BIN" -gate "$s/gate.sock" \
				-iface_dev cvbtun -iface_addr "$ip/24" \
				-mtu "$OVL_MTU" -offload yes
		else
			spawn "$n" "ether-$n" "$ETHER_BIN" -gate "$s/gate.sock" \
				-iface_dev cvbeth -iface_addr "$ip/24" -mtu "$OVL_MTU"
		fi
	done
}

cloudvpn_teardown() { :; }

# cloudvpn-udp: the same nodes, linked over UDP (DTLS 1.2, AES-256-GCM).
cloudvpn_udp_check() { cloudvpn_check; }
cloudvpn_udp_version() { cloudvpn_version; }
cloudvpn_udp_desc() {
	echo "cloud + ether (TAP), UDP+DTLS 1.2 AES-256-GCM, ECDSA P-256 certs;" \
		"line: B routes A<->C"
}
cloudvpn_udp_setup() { CLOUD_XPORT=-udp cloudvpn_setup "$@"; }
cloudvpn_udp_teardown() { :; }

# cloudvpn-tun: the same nodes and TCP links, a `tun` IP gate (TUN, L3,
# offload on) on each node instead of `ether`.
cloudvpn_tun_check() {
	cloudvpn_check || return 1
	[ -x "$TUN_BIN" ] || { echo "no tun binary at $TUN_BIN"; return 1; }
	[ -c /dev/net/tun ] || { echo "no /dev/net/tun"; return 1; }
}
cloudvpn_tun_version() { cloudvpn_version; }
cloudvpn_tun_desc() {
	echo "cloud + tun (TUN, offload), TCP+TLS 1.3 AES-256-GCM, ECDSA P-256" \
		"certs; line: B routes A<->C"
}
cloudvpn_tun_setup() { CLOUD_GATE=tun cloudvpn_setup "$@"; }
cloudvpn_tun_teardown() { :; }
