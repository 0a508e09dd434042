#!/bin/bash
# tun refuses iface_down_cmd with user: t-ether-down-root.sh with GATE=tun.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
GATE=tun NET_NAME=${0##*/} exec bash "$(dirname "$0")/t-ether-down-root.sh" "$@"
