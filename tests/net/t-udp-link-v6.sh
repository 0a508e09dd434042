#!/bin/bash
# UDP links over IPv6 and IPv4 to one "listen-udp * PORT" line, and the
# IPv6 path MTU: t-link-v6.sh with LINK_UDP=1.
#
#   A fd77:1::1 ---v6---> B "listen-udp * 5000" <---v4--- C 10.77.2.2
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
LINK_UDP=1 NET_NAME=${0##*/} exec bash "$(dirname "$0")/t-link-v6.sh" "$@"
