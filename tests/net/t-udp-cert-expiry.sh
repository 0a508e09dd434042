#!/bin/bash
# A link does not outlive its peer's certificate over UDP links either:
# t-cert-expiry.sh with LINK_UDP=1.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
LINK_UDP=1 NET_NAME=${0##*/} exec bash "$(dirname "$0")/t-cert-expiry.sh" "$@"
