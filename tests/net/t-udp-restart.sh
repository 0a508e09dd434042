#!/bin/bash
# A peer restarts and the UDP link comes back within conn_retry:
# t-restart.sh with LINK_UDP=1.
#
#   A (10.77.1.1) ---------> B (10.77.1.2) listen-udp :5000
#        connect-udp, conn_retry 2s    stop, start
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
LINK_UDP=1 NET_NAME=${0##*/} exec bash "$(dirname "$0")/t-restart.sh" "$@"
