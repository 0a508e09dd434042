#!/bin/bash
# A CA taken out of a ca file is gone after SIGHUP over UDP links too:
# t-ca-remove.sh with LINK_UDP=1.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
LINK_UDP=1 NET_NAME=${0##*/} exec bash "$(dirname "$0")/t-ca-remove.sh" "$@"
