# shellcheck shell=bash
# Shared set-up for the system suite: boot a Debian 12 root file system
# with systemd as PID 1 in a container (systemd-nspawn, its own network
# namespace) and run commands in it as an administrator would.
#
#   . "$(dirname "$0")/lib.sh"    # re-executes the test in a private mount namespace
#   sys_setup                     # a throwaway overlay of the cached base at $ROOT
#   sys_install_project           # meson install --prefix=/usr into it, sysusers applied
#   sys_boot                      # boot, wait until the system is up
#   ct systemctl start ipautofw   # run a command inside (as root, clean environment)
#   ct_sh 'shell code'            # run shell code inside
#   sys_topo                      # a LAN host and an outside host (see below)
#   sys_reboot / sys_poweroff
#   finish
#
# $ROOT is the container's live root: a file written there from the host is
# there inside too (before and after boot), except under $ROOT/tmp, which
# the container's own /tmp (a tmpfs) covers: use $ROOT/root or $ROOT/var/tmp.
# `apt-get install ./x.deb` works inside without network when the package's
# dependencies are in the base (base.sh). Everything (overlay, container,
# temporary files) goes away on exit, failed or killed: the mounts live in
# the test's private mount namespace, the container is killed by PID.
# Exit 77 with the reason where this machine cannot boot such a container.

set -u

skip() {
	echo "SKIP: $*"
	exit 77
}

SYS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SYS_SRC=${IAF_SRC:-$(cd "$SYS_DIR/../.." && pwd)}

[ "$(id -u)" = 0 ] || skip "needs root"
for tool in systemd-nspawn unshare nsenter flock; do
	command -v "$tool" >/dev/null || skip "$tool is not installed (scripts/deps.sh installs it)"
done
unshare --pid --net --uts --ipc --mount --fork true 2>/dev/null ||
	skip "cannot create PID, network, UTS, IPC and mount namespaces here"
# the overlay, the container and everything else mounted lives and dies
# with this private mount namespace
if [ -z "${IAF_SYS_UNSHARED:-}" ]; then
	IAF_SYS_UNSHARED=1 exec unshare --mount --propagation private bash "$0" "$@"
fi

TMP=$(mktemp -d "/tmp/iafsys-$$.XXXXXX")
chmod 755 "$TMP"
ROOT="$TMP/root"
MACHINE="iaf$$"
NSPAWN_PID=
LEADER=
FAILS=0
CHECKS=0
SYS_STATE=

sys_cleanup() {
	local rc=$?
	if [ -n "$LEADER" ] && kill -0 "$LEADER" 2>/dev/null; then
		# SIGKILL to the container's PID 1 ends its whole PID namespace
		kill -9 "$LEADER" 2>/dev/null
	fi
	if [ -n "$NSPAWN_PID" ]; then
		kill -9 "$NSPAWN_PID" 2>/dev/null
		wait "$NSPAWN_PID" 2>/dev/null
	fi
	# what systemd-nspawn leaves on a /run that is not a tmpfs
	rmdir "/run/systemd/nspawn/propagate/$MACHINE" 2>/dev/null
	if mountpoint -q "$ROOT"; then
		rm -f "/run/systemd/nspawn/locks/inode-$(stat -c %d:%i "$ROOT")"
		umount -l "$ROOT"
	fi
	rm -rf --one-file-system "$TMP"
	exit "$rc"
}
trap sys_cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
trap 'exit 129' HUP

# runs left behind by a test that was killed (its namespace, hence its
# mounts, are gone with it): their temporary directories
for d in /tmp/iafsys-*.*; do
	[ -d "$d" ] || continue
	p=${d#/tmp/iafsys-}
	p=${p%%.*}
	kill -0 "$p" 2>/dev/null || rm -rf --one-file-system "$d"
done
for d in /run/systemd/nspawn/propagate/iaf*; do
	[ -d "$d" ] || continue
	kill -0 "${d##*/iaf}" 2>/dev/null || rmdir "$d" 2>/dev/null
done

ok() {
	CHECKS=$((CHECKS + 1))
	echo "ok - $*"
}

fail() {
	CHECKS=$((CHECKS + 1))
	FAILS=$((FAILS + 1))
	echo "FAIL - $*"
}

check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else fail "$what"; fi
}

check_not() {
	local what=$1
	shift
	if "$@"; then fail "$what"; else ok "$what"; fi
}

# quiet CMD...: CMD without its output (for check)
quiet() { "$@" >/dev/null 2>&1; }

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds
wait_for() {
	local deadline=$(($(date +%s%N) / 1000000 + $1 * 1000))
	shift
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		[ $(($(date +%s%N) / 1000000)) -ge "$deadline" ] && return 1
		sleep 0.1
	done
}

# sys_setup: the cached base (built if missing) under a fresh overlay at $ROOT
sys_setup() {
	local base rc=0
	base=$(bash "$SYS_DIR/base.sh") || rc=$?
	[ "$rc" = 77 ] && skip "no base root file system (see above)"
	[ "$rc" = 0 ] || { echo "building the base root file system failed"; exit 1; }
	mkdir "$TMP/upper" "$TMP/work" "$ROOT"
	mount -t overlay overlay -o "lowerdir=$base,upperdir=$TMP/upper,workdir=$TMP/work" "$ROOT" ||
		skip "cannot mount an overlay file system on $TMP"
}

# sys_build_project: the project configured as a distribution does
# (--prefix=/usr): $IAF_SYSTEM_BUILD, which meson sets to its own build
# directory when that has prefix /usr (tests/run's does) and else to one
# kept beside it, or a temporary directory; prints the build directory
sys_build_project() {
	local dir=${IAF_SYSTEM_BUILD:-$TMP/build}
	mkdir -p "$dir"
	(
		flock 8
		if [ ! -f "$dir/build.ninja" ]; then
			find "$dir" -mindepth 1 -delete
			meson setup "$dir" "$SYS_SRC" --prefix=/usr >"$TMP/setup.log" 2>&1 ||
				{ cat "$TMP/setup.log" >&2; exit 1; }
		fi
		meson compile -C "$dir" >"$TMP/compile.log" 2>&1 || { cat "$TMP/compile.log" >&2; exit 1; }
	) 8<"$dir" || return 1
	echo "$dir"
}

# sys_install_project: install the project into the container as
# `meson install` with --prefix=/usr does, then create its system user the
# way an administrator does after such an install (systemd-sysusers); the
# tmpfiles are applied by systemd at boot. Also tests/tools/nsprobe, as
# /usr/local/bin/nsprobe, to send and receive test traffic.
sys_install_project() {
	local build
	build=$(sys_build_project) || { echo "building the project failed"; exit 1; }
	DESTDIR="$ROOT" meson install -C "$build" --no-rebuild >"$TMP/install.log" 2>&1 ||
		{ cat "$TMP/install.log"; echo "meson install failed"; exit 1; }
	systemd-sysusers --root="$ROOT" >"$TMP/sysusers.log" 2>&1 ||
		{ cat "$TMP/sysusers.log"; echo "systemd-sysusers failed"; exit 1; }
	install -m 755 "$build/tests/tools/nsprobe" "$ROOT/usr/local/bin/nsprobe"
}

# the container's PID 1 as the host sees it, once systemd runs there
sys_find_leader() {
	local p
	for p in $(grep -l "^PPid:[[:space:]]*$NSPAWN_PID\$" /proc/[0-9]*/status 2>/dev/null | cut -d/ -f3); do
		if grep -q '^NSpid:[[:space:]]*[0-9]*[[:space:]]*1$' "/proc/$p/status" 2>/dev/null &&
			[ "$(cat "/proc/$p/comm" 2>/dev/null)" = systemd ]; then
			LEADER=$p
			return 0
		fi
	done
	return 1
}

# sys_boot: boot the container; returns when systemd says the system is up
# (running or degraded; $SYS_STATE says which). Console output goes to
# $TMP/console.log.
sys_boot() {
	local t0 state
	t0=$(date +%s%N)
	LEADER=
	systemd-nspawn --quiet --boot --directory="$ROOT" --machine="$MACHINE" \
		--register=no --keep-unit --private-network --link-journal=no \
		--console=pipe --resolv-conf=off --timezone=off \
		</dev/null >>"$TMP/console.log" 2>&1 &
	NSPAWN_PID=$!
	# until systemd runs there (or systemd-nspawn gave up)
	leader_or_gone() { sys_find_leader || ! alive "$NSPAWN_PID"; }
	if ! wait_for 60 leader_or_gone || [ -z "$LEADER" ]; then
		echo "the container's systemd did not start:"
		cat "$TMP/console.log"
		exit 1
	fi
	# the bus may not be up for the first instant
	state=
	for _ in $(seq 100); do
		state=$(CT_TIMEOUT=120 ct systemctl is-system-running --wait 2>/dev/null) && break
		case $state in running | degraded | maintenance | stopping) break ;; esac
		alive "$LEADER" || break
		sleep 0.1
	done
	SYS_STATE=$state
	case $state in
	running | degraded) ;;
	*)
		echo "the container did not come up (state '$state'):"
		cat "$TMP/console.log"
		exit 1
		;;
	esac
	echo "# container booted in $((($(date +%s%N) - t0) / 1000000)) ms ($state)"
}

# ct CMD...: run CMD inside the container as root, with a clean environment,
# in all its namespaces; killed after $CT_TIMEOUT seconds (default 60)
ct() {
	timeout --kill-after=5 "${CT_TIMEOUT:-60}" \
		nsenter --target "$LEADER" --all --root --wd \
		env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LANG=C.UTF-8 TERM=dumb "$@"
}

ct_sh() { ct sh -c "$1"; }

# alive PID: running, not a zombie waiting to be reaped
alive() { [ -r "/proc/$1/stat" ] && ! grep -q '^[0-9]* (.*) Z' "/proc/$1/stat"; }

# wait until nspawn has exited; returns its exit status
sys_wait_exit() {
	local rc=0
	if ! wait_for "${1:-60}" eval "! alive $NSPAWN_PID"; then
		echo "the container did not stop in ${1:-60} s"
		return 1
	fi
	wait "$NSPAWN_PID" || rc=$?
	NSPAWN_PID=
	LEADER=
	return $rc
}

# sys_poweroff: shut down cleanly (SIGRTMIN+4 to systemd: poweroff)
sys_poweroff() {
	kill -RTMIN+4 "$LEADER"
	sys_wait_exit 90
}

# sys_reboot: `systemctl reboot` inside, then boot the same root again
# (systemd-nspawn exits with 133 when the container reboots)
sys_reboot() {
	local rc=0
	ct systemctl reboot >/dev/null 2>&1
	sys_wait_exit 90 || rc=$?
	if [ "$rc" != 133 ]; then
		echo "systemd-nspawn exited with $rc after a reboot, not 133"
		return 1
	fi
	sys_boot
}

# sys_topo: inside the container (the router), two namespaces:
#   lan: a LAN host 192.168.7.2/24, 2001:db8:7::2/64 behind veth-lan
#        (router 192.168.7.1, 2001:db8:7::1)
#   wan: an outside host 203.0.113.9/24, 2001:db8:1::9/64 behind veth-wan
#        (router 203.0.113.1, 2001:db8:1::1), the router's default route
# Forwarding on. No firewall of the administrator's.
sys_topo() {
	ct_sh '
	set -e
	ip netns add lan
	ip netns add wan
	ip -n lan link set lo up
	ip -n wan link set lo up
	ip link add veth-lan type veth peer name eth0 netns lan
	ip link add veth-wan type veth peer name eth0 netns wan
	ip addr add 192.168.7.1/24 dev veth-lan
	ip addr add 2001:db8:7::1/64 dev veth-lan nodad
	ip addr add 203.0.113.1/24 dev veth-wan
	ip addr add 2001:db8:1::1/64 dev veth-wan nodad
	ip link set veth-lan up
	ip link set veth-wan up
	ip -n lan addr add 192.168.7.2/24 dev eth0
	ip -n lan addr add 2001:db8:7::2/64 dev eth0 nodad
	ip -n lan link set eth0 up
	ip -n lan route add default via 192.168.7.1
	ip -n lan -6 route add default via 2001:db8:7::1
	ip -n wan addr add 203.0.113.9/24 dev eth0
	ip -n wan addr add 2001:db8:1::9/64 dev eth0 nodad
	ip -n wan link set eth0 up
	ip -n wan route add 192.168.7.0/24 via 203.0.113.1
	ip -n wan -6 route add 2001:db8:7::/64 via 2001:db8:1::1
	ip route add default via 203.0.113.9
	ip -6 route add default via 2001:db8:1::9
	echo 1 >/proc/sys/net/ipv4/ip_forward
	echo 1 >/proc/sys/net/ipv6/conf/all/forwarding
	'
}

# sys_lan2: a second LAN host, lan2: 192.168.8.2/24, 2001:db8:8::2/64 behind
# its own router interface veth-lan2 (192.168.8.1, 2001:db8:8::1)
sys_lan2() {
	ct_sh '
	set -e
	ip netns add lan2
	ip -n lan2 link set lo up
	ip link add veth-lan2 type veth peer name eth0 netns lan2
	ip addr add 192.168.8.1/24 dev veth-lan2
	ip addr add 2001:db8:8::1/64 dev veth-lan2 nodad
	ip link set veth-lan2 up
	ip -n lan2 addr add 192.168.8.2/24 dev eth0
	ip -n lan2 addr add 2001:db8:8::2/64 dev eth0 nodad
	ip -n lan2 link set eth0 up
	ip -n lan2 route add default via 192.168.8.1
	ip -n lan2 -6 route add default via 2001:db8:8::1
	ip -n wan -6 route add 2001:db8:8::/64 via 2001:db8:1::1
	ip netns attach rtr 1
	'
}

# trigger PROTO PORT: a new connection from the LAN host to the outside host
trigger() { ct nsprobe trigger "$1" lan 203.0.113.9 "$2" >/dev/null 2>&1; }

# reaches PROTO PORT [TIMEOUT_MS]: a new inbound flow from outside to the
# router's WAN address arrives at the LAN host
reaches() { ct nsprobe "$1" wan lan 203.0.113.1 "$2" "${3:-1000}" >/dev/null 2>&1; }

# what the journal of the container says, for a failure report
sys_journal() { ct journalctl --no-pager -b 2>&1 | tail -60; }

finish() {
	echo "$((CHECKS - FAILS)) passed, $FAILS failed"
	if [ "$FAILS" -ne 0 ]; then
		if [ -n "$LEADER" ]; then
			echo "--- the container's journal (last lines)"
			sys_journal
		fi
		exit 1
	fi
	exit 0
}
