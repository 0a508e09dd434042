#!/bin/bash
# The README's "Two real machines" section, run as written. Its indented
# blocks are this test's script: a block starts with "# on HOST" (commands
# for HOST, run one line at a time, every line's exit status checked) or
# with "# on HOST: FILE" (the whole block is FILE's content on HOST). Three
# namespaces are the machines, with the README's own addresses:
#
#   beta 198.51.100.2 --- 198.51.100.1 alpha 198.51.100.1 --- 198.51.100.3 gamma
#
# (beta and gamma have no path to each other but the mesh, through alpha).
# Each machine is one bash that lives as long as the test, in its
# namespace, with a /etc of its own (an overlay, so /etc/cloudvpn is made
# there), a /run of its own (a tmpfs) and cloudvpn installed where make
# install puts it (make install DESTDIR=..., overlaid on the build's
# prefix), so the README's paths and installed names are used unchanged.
# Two things stand in for what a namespace lacks:
#  - scp: no sshd runs here; a shell function copies the files named to
#    USER@HOST:DIR of one of the three machines (by address or name), into
#    that machine's own /etc, and fails as scp would (no such file, no
#    such folder there);
#  - a person's pause: before a `ping`, the test waits until the machine
#    has a route to the address (its TAP has its address).
# Fails on a block without its "# on HOST" line, an unknown host, a line
# that exits non-zero or hangs, a README that no longer joins the three
# machines, and on #! lines (example.cfg, ether.8, tun.8) that name no
# program make install installed.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
README=$top_srcdir/README
LINE_SECS=60
net_init
net_need_cloud
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
command -v certtool >/dev/null || skip "no certtool (gnutls-bin)"
command -v nsenter >/dev/null || skip "no nsenter"

declare -A ADDR=([alpha]=198.51.100.1 [beta]=198.51.100.2 [gamma]=198.51.100.3)

# ---- the README's blocks --------------------------------------------------
# Blocks of the section, one file each: BLK_HOST[i], BLK_FILE[i] ("" for
# commands), $NET_TMP/block.i holding the lines (indent removed).
mapfile -t L <"$README"
from='' to=${#L[@]}
for ((i = 0; i + 1 < ${#L[@]}; i++)); do
	[[ ${L[i + 1]} =~ ^-+$ && -n ${L[i]} && ${L[i]} != " "* ]] || continue
	if [ -z "$from" ]; then
		[ "${L[i]}" = "Two real machines" ] && from=$((i + 2))
	else
		to=$i
		break
	fi
done
[ -n "$from" ] || fail "README has no \"Two real machines\" section"
BLK_HOST=() BLK_FILE=()
nb=-1 inblock=0
for ((i = from; i < to; i++)); do
	if [[ ${L[i]} != "    "* ]]; then
		inblock=0
		continue
	fi
	line=${L[i]#    }
	if [ "$inblock" = 0 ]; then
		inblock=1
		nb=$((nb + 1))
		[[ $line =~ ^#\ on\ ([a-z]+)(:\ (/[^ ]+))?$ ]] ||
			fail "README line $((i + 1)): a block starts with \"$line\", not \"# on HOST\" or \"# on HOST: FILE\""
		BLK_HOST[nb]=${BASH_REMATCH[1]}
		BLK_FILE[nb]=${BASH_REMATCH[3]}
		[ -n "${ADDR[${BLK_HOST[nb]}]:-}" ] ||
			fail "README line $((i + 1)): no machine \"${BLK_HOST[nb]}\" (alpha, beta, gamma)"
		: >"$NET_TMP/block.$nb"
	fi
	printf '%s\n' "$line" >>"$NET_TMP/block.$nb"
done
[ "$nb" -ge 0 ] || fail "no indented blocks in the README's \"Two real machines\""
say "README: $((nb + 1)) blocks in \"Two real machines\""

# ---- install where make install puts things ------------------------------
prefix=$(sed -n 's/^prefix = //p' "$top_builddir/Makefile")
[ -d "$prefix" ] || hard_error "the build's prefix \"$prefix\" is no folder here"
INST=$NET_TMP/inst
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$top_builddir" \
	DESTDIR="$INST" install >"$NET_TMP/install.out" 2>&1 ||
	{ tail -n 30 "$NET_TMP/install.out"; hard_error "make install DESTDIR=$INST"; }
# The #! lines say where make install puts the programs by default.
if [ "$prefix" = /usr/local ]; then
	for f in example.cfg doc/ether.8 doc/tun.8; do
		bang=$(grep -o -m1 '#!/[^ "]*' "$top_srcdir/$f") ||
			fail "$f has no #! line"
		[ -x "$INST${bang#\#!}" ] ||
			fail "$f: $bang, but make install put no program there"
	done
else
	say "prefix $prefix, not the default: #! lines not checked"
fi

# ---- three machines ---------------------------------------------------------
host alpha beta gamma
for m in beta gamma; do
	ip -n "$(ns alpha)" link add "to-$m" type veth peer name to-alpha \
		netns "$(ns "$m")" || hard_error "veth alpha-$m"
	ip -n "$(ns alpha)" addr add "${ADDR[alpha]}" peer "${ADDR[$m]}/32" \
		dev "to-$m"
	ip -n "$(ns "$m")" addr add "${ADDR[$m]}" peer "${ADDR[alpha]}/32" \
		dev to-alpha
	ip -n "$(ns alpha)" link set "to-$m" up
	ip -n "$(ns "$m")" link set to-alpha up
done

# A machine's shell: its own /etc and /run, cloudvpn over its prefix.
cat >"$NET_TMP/machine.sh" <<'EOF'
set -e
mnt=$1 inst=$2 prefix=$3
mount -t tmpfs tmpfs "$mnt"
mkdir "$mnt/etc" "$mnt/work"
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$mnt/etc,workdir=$mnt/work" /etc
mount -t tmpfs tmpfs /run
mount -t overlay overlay -o "lowerdir=$inst$prefix:$prefix" "$prefix"
exec bash --noprofile --norc
EOF
cat >"$NET_TMP/machine.env" <<EOF
export PATH=$prefix/sbin:$prefix/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
cd /
# scp FILE... USER@HOST:DIR, for the machines of this test (see its header)
scp() {
	local dest=\${!#} host dir pid f
	case \$# in 0 | 1) echo "scp: usage: FILE... USER@HOST:DIR" >&2; return 1 ;; esac
	case \$dest in *@*:*) ;; *) echo "scp: \$dest: not USER@HOST:DIR" >&2; return 1 ;; esac
	host=\${dest#*@} host=\${host%%:*} dir=\${dest#*:}
	pid=\$(awk -v h="\$host" '\$1 == h || \$2 == h { print \$3 }' "$NET_TMP/machines")
	[ -n "\$pid" ] || { echo "scp: \$host: no such machine" >&2; return 1; }
	for f in "\${@:1:\$#-1}"; do
		case \$f in -*) echo "scp: option \$f: not in this stand-in" >&2; return 1 ;; esac
		[ -f "\$f" ] || { echo "scp: \$f: No such file or directory" >&2; return 1; }
		nsenter -t "\$pid" -m -- sh -c 'cat >"\$1/\${2##*/}" && chmod "\$3" "\$1/\${2##*/}"' \\
			sh "\$dir" "\$f" "\$(stat -c %a "\$f")" <"\$f" || return 1
	done
}
EOF

declare -A SH_PID SH_FD
machine_start() {
	local m=$1 fifo=$NET_TMP/$1.in fd
	mkfifo "$fifo" && mkdir "$NET_TMP/m-$m" || hard_error "mkfifo $fifo"
	(trap - INT QUIT; exec ip netns exec "$(ns "$m")" bash \
		"$NET_TMP/machine.sh" "$NET_TMP/m-$m" "$INST" "$prefix") \
		<"$fifo" >>"$NET_TMP/$m.log" 2>&1 &
	SH_PID[$m]=$!
	NET_PIDS+=("$!")
	exec {fd}>"$fifo"
	SH_FD[$m]=$fd
	echo "$m ${ADDR[$m]} $!" >>"$NET_TMP/machines"
}

# The processes a machine's shell started (daemons, gates), and theirs.
descendants() {
	local c
	for c in $(ps -o pid= --ppid "$1"); do
		echo "$c"
		descendants "$c"
	done
}
running() { [ -e "/proc/$1" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
machines_stop() {
	local m p left=() i any
	for m in "${!SH_PID[@]}"; do
		net_is_ours "${SH_PID[$m]}" || continue
		for p in $(descendants "${SH_PID[$m]}"); do
			kill -TERM "$p" 2>/dev/null && left+=("$p")
		done
	done
	for ((i = 0; i < 50; i++)); do
		any=0
		for p in "${left[@]}"; do
			running "$p" && any=1
		done
		[ "$any" = 1 ] || break
		sleep 0.1
	done
	for p in "${left[@]}"; do
		running "$p" && kill -KILL "$p" 2>/dev/null
	done
	return 0
}
readme_exit() {
	local rc=$?
	machines_stop
	(exit "$rc")
	net_cleanup
}
trap readme_exit EXIT

N=0
# run_on HOST TEXT...: send TEXT (lines) to HOST's shell, then wait for the
# status of its last command.
run_on() {
	local m=$1 rc
	shift
	N=$((N + 1))
	printf '%s\n' "$@" "echo \$? >\"$NET_TMP/rc.$N\"" >&"${SH_FD[$m]}"
	wait_for "$LINE_SECS" test -s "$NET_TMP/rc.$N" ||
		fail "on $m, not done after $LINE_SECS s: $*"
	read -r rc <"$NET_TMP/rc.$N"
	RC=$rc
}

for m in alpha beta gamma; do
	machine_start "$m"
	run_on "$m" ". '$NET_TMP/machine.env'"
	[ "$RC" = 0 ] || fail "machine $m did not start"
done

# ---- the README, block by block ---------------------------------------------
pings=0 ctl=0
for ((b = 0; b <= nb; b++)); do
	m=${BLK_HOST[b]} f=${BLK_FILE[b]}
	if [ -n "$f" ]; then
		mapfile -t body <"$NET_TMP/block.$b"
		run_on "$m" "cat >'$f' <<'README_BLOCK_END'" "${body[@]}" \
			README_BLOCK_END
		[ "$RC" = 0 ] || fail "on $m, cannot write $f (status $RC)"
		say "$m: wrote $f (${#body[@]} lines)"
		continue
	fi
	while IFS= read -r line; do
		[[ $line =~ ^[[:space:]]*(#.*)?$ ]] && continue
		[[ $line == *\\ ]] && fail "a continued line is not run here: $line"
		if [[ $line =~ ^ping\  ]]; then
			to=${line##* }
			wait_for 10 ip -n "$(ns "$m")" route get "$to" >/dev/null 2>&1 ||
				fail "on $m, no route to $to for: $line"
			pings=$((pings + 1))
		fi
		out=$NET_TMP/$m.line$((N + 1)).log
		run_on "$m" "{ $line" "} >'$out' 2>&1"
		[ "$RC" = 0 ] || { cat "$out"; fail "on $m, status $RC: $line"; }
		say "$m\$ $line"
		if [[ $line =~ ^cloudctl\  ]]; then
			ctl=$((ctl + 1))
			sed 's/^/    /' "$out"
			grep -Eq '^(link|route|node) ' "$out" ||
				fail "on $m, $line showed no link, route or node"
		fi
	done <"$NET_TMP/block.$b"
done

# ---- what the README promises --------------------------------------------
[ "$pings" -ge 2 ] && [ "$ctl" -ge 1 ] ||
	fail "the README pings $pings times and runs cloudctl $ctl times (2 and 1 at least)"
# The machine's daemon, live (its status file is up to 5 s old).
ctl_has() {
	nsenter -t "${SH_PID[$1]}" -m -- "$prefix/bin/cloudctl" \
		-s /run/cloudvpn/control all 2>/dev/null | grep -Eq "$2"
}
for m in beta gamma; do
	wait_for 10 ctl_has alpha "^link +peer=$m .* state=up " ||
		fail "alpha has no up link to $m"
done
wait_for 10 ctl_has gamma '^route .* via=alpha ' ||
	fail "gamma has no route through alpha"
ctl_has gamma '^link +peer=beta ' &&
	fail "gamma linked with beta directly: the relay was not tested"
say "ok"
