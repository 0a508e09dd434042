#!/bin/bash
# max_links_per_node over UDP: t-links-per-node.sh with LINK_UDP=1.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
LINK_UDP=1 NET_NAME=${0##*/} exec bash "$(dirname "$0")/t-links-per-node.sh" "$@"
