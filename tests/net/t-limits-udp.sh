#!/bin/bash
# The bandwidth limits over UDP links: t-limits.sh with LINK_UDP=1. Uploads
# are held in the queue as over TCP; downloads wait in a queue of their own
# before decryption (what finds it full is dropped). Each within +-10 % of
# its rate.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
LINK_UDP=1 NET_NAME=${0##*/} exec bash "$(dirname "$0")/t-limits.sh" "$@"
