#!/bin/bash
# connect-udp HOST PORT NODEID pins the peer: t-connect-pin.sh with LINK_UDP=1.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
LINK_UDP=1 NET_NAME=${0##*/} exec bash "$(dirname "$0")/t-connect-pin.sh" "$@"
