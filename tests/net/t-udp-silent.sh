#!/bin/bash
# A UDP link that goes silent is routed around as fast as a TCP one:
# t-mesh-silent.sh with LINK_UDP=1 (every link of the triangle is UDP).
#
#        A ====X==== B        A - B silently cut (nftables drop both ends)
#         \         /
#          \       /          then A -> B goes A -> C -> B
#             C
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
LINK_UDP=1 NET_NAME=${0##*/} exec bash "$(dirname "$0")/t-mesh-silent.sh" "$@"
