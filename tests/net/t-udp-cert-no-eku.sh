#!/bin/bash
# A certificate without extended key usage is refused over UDP links too:
# t-cert-no-eku.sh with LINK_UDP=1.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
LINK_UDP=1 NET_NAME=${0##*/} exec bash "$(dirname "$0")/t-cert-no-eku.sh" "$@"
