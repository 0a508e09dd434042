#!/bin/bash
# Bad certificates are refused over UDP links (DTLS 1.2), in both directions,
# with the reason logged: t-cert-refused.sh with LINK_UDP=1.
#
#   A (10.77.1.1) ---------> B (10.77.1.2) listen-udp :5000
#   A's cert: other CA, expired, not yet valid, revoked, no clientAuth
#   gnutls-cli --udp, no cert
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
LINK_UDP=1 NET_NAME=${0##*/} exec bash "$(dirname "$0")/t-cert-refused.sh" "$@"
