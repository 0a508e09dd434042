#!/bin/sh
# The bash completions (completion/cloudctl, completion/cloud-cert),
# sourced in a bash, offer what the programs take:
#   cloudctl <TAB>                 options and record kinds
#   cloudctl -f <TAB>              files
#   cloudctl -s SOCK -<TAB>        the options but -h, -V
#   cloud-cert <TAB>               ca node revoke
#   cloud-cert node DIR NAME --<TAB>   node's options
#   cloud-cert revoke DIR <TAB>    the nodes with a certificate in DIR
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
fail() { echo "t-completion: FAIL: $*"; exit 1; }
say() { echo "t-completion: $*"; }
command -v bash >/dev/null || { say "no bash"; exit 77; }
tmp=$(mktemp -d /tmp/completion.XXXXXX) || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM
mkdir "$tmp/pki" && touch "$tmp/pki/ca.crt" "$tmp/pki/alpha.crt" \
	"$tmp/pki/beta.crt" "$tmp/pki/beta.key" "$tmp/status" || exit 99

# complete WORDS...: the candidates, sorted, on one line, for the command
# line WORDS whose last word is being completed.
cat >"$tmp/complete.bash" <<'SH'
. "$COMPDIR/cloudctl" || exit 1
. "$COMPDIR/cloud-cert" || exit 1
COMP_WORDS=("$@")
COMP_CWORD=$(($# - 1))
COMP_LINE="$*"
COMP_POINT=${#COMP_LINE}
fn=$(complete -p "$1" | sed -n 's/.*-F \([^ ]*\) .*/\1/p')
[ -n "$fn" ] || { echo "no completion for $1"; exit 1; }
"$fn" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
[ ${#COMPREPLY[@]} -eq 0 ] || printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' '
SH
check() {
	want=$1
	shift
	got=$(cd "$tmp" && COMPDIR=$top_srcdir/completion bash \
		"$tmp/complete.bash" "$@")
	[ "$got" = "$want" ] ||
		fail "'$*<TAB>': got '$got', expected '$want'"
	n=$((n + 1))
}
n=0
check "-V -f -h -json -s all edges gates graph links nodes origins reload routes " cloudctl ""
check "-f -json -s " cloudctl -s /run/x.sock -
check "routes " cloudctl -f status ro
check "reload " cloudctl -s /run/x.sock rel
check "status " cloudctl -f st
check "pki " cloudctl -s pk
check "ca node revoke " cloud-cert ""
check "node " cloud-cert n
check "pki " cloud-cert node pk
check "alpha beta " cloud-cert revoke pki ""
check "beta " cloud-cert revoke pki b
check "--expired --expires-in " cloud-cert node pki gamma --exp
check "--no-client-auth --no-eku --not-yet-valid " \
	cloud-cert node pki gamma --instance 3 --n
check "" cloud-cert node pki gamma --prefix ""
check "" cloud-cert ca pki ""
say "$n command lines complete as expected"
