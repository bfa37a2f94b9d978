# Shared set-up for the netns suite: a router with two LAN hosts on a
# bridge, an outside host, the admin's own firewall (forward policy drop,
# `ct status dnat accept`), and the real ipautofwd. Every name carries the
# test's PID; everything is torn down on exit, failed or not.

set -u

: "${IPAUTOFWD:?}" "${IPAUTOFWCTL:?}" "${NSPROBE:?}"

P="iaf$$"
LAN1="${P}l1"
LAN2="${P}l2"
RTR="${P}r"
WAN="${P}w"
TMP=$(mktemp -d "/tmp/${P}.XXXXXX")
SOCK="$TMP/control.sock"
CONF="$TMP/conf.d"
DAEMON_PID=
FAILS=0
CHECKS=0
mkdir -p "$CONF"
chmod 755 "$TMP"

cleanup() {
	if [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
		kill -9 "$DAEMON_PID" 2>/dev/null
		wait "$DAEMON_PID" 2>/dev/null
	fi
	for ns in "$LAN1" "$LAN2" "$RTR" "$WAN"; do
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$TMP"
}
trap cleanup EXIT

skip() {
	echo "SKIP: $*"
	exit 77
}

[ "$(id -u)" = 0 ] || skip "needs root"
command -v ip >/dev/null || skip "needs iproute2"
ip netns add "$RTR" 2>/dev/null || skip "cannot create network namespaces"

rtr() { ip netns exec "$RTR" "$@"; }

# topo_up [1]: with 1, only one LAN host (the three-namespace lab)
topo_up() {
	local i ns lans="$LAN1 $LAN2"
	[ "${1:-2}" = 1 ] && lans=$LAN1
	for ns in $lans "$WAN"; do
		ip netns add "$ns"
	done
	for ns in $lans "$RTR" "$WAN"; do
		ip -n "$ns" link set lo up
	done
	ip -n "$RTR" link add br-lan type bridge
	ip -n "$RTR" addr add 192.168.7.1/24 dev br-lan
	ip -n "$RTR" addr add 2001:db8:7::1/64 dev br-lan nodad
	ip -n "$RTR" link set br-lan up
	i=2
	for ns in $lans; do
		ip link add "veth-l$i" netns "$RTR" type veth peer name eth0 netns "$ns"
		ip -n "$RTR" link set "veth-l$i" master br-lan up
		ip -n "$ns" addr add "192.168.7.$i/24" dev eth0
		ip -n "$ns" addr add "2001:db8:7::$i/64" dev eth0 nodad
		ip -n "$ns" link set eth0 up
		ip -n "$ns" route add default via 192.168.7.1
		ip -n "$ns" -6 route add default via 2001:db8:7::1
		i=$((i + 1))
	done
	ip link add veth-wan netns "$RTR" type veth peer name eth0 netns "$WAN"
	ip -n "$RTR" addr add 203.0.113.1/24 dev veth-wan
	ip -n "$RTR" addr add 2001:db8:1::1/64 dev veth-wan nodad
	ip -n "$RTR" link set veth-wan up
	# three outside addresses, for peer tests
	for i in 9 10 11; do
		ip -n "$WAN" addr add "203.0.113.$i/24" dev eth0
		ip -n "$WAN" addr add "2001:db8:1::$i/64" dev eth0 nodad
	done
	# probe sources: every probe datagram gets a source address and port no
	# earlier one had, so none can ride on an old conntrack entry
	for i in $(seq 1 250); do echo "addr add 198.18.1.$i/24 dev eth0"; done >"$TMP/wan-addrs"
	ip -n "$WAN" -batch "$TMP/wan-addrs"
	ip -n "$WAN" link set eth0 up
	ip -n "$WAN" route add 192.168.7.0/24 via 203.0.113.1
	ip -n "$WAN" -6 route add 2001:db8:7::/64 via 2001:db8:1::1
	ip -n "$RTR" route add default via 203.0.113.9
	ip -n "$RTR" -6 route add default via 2001:db8:1::9
	ip -n "$RTR" route add 198.18.0.0/15 via 203.0.113.9
	rtr sh -c "echo 1 >/proc/sys/net/ipv4/ip_forward; echo 1 >/proc/sys/net/ipv6/conf/all/forwarding"
	rtr nft -f - <<'NFT'
table inet admin {
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		ct status dnat accept
		meta mark and 0x10000000 == 0x10000000 accept
		iifname "br-lan" oifname "veth-wan" accept
	}
	chain postrouting {
		type nat hook postrouting priority srcnat;
		oifname "veth-wan" masquerade
	}
}
NFT
}

conf() {
	cat >"$CONF/${1}.conf"
}

# start_daemon [extra args]: run ipautofwd in the router, wait until it answers.
# DAEMON_WRAP (an array) goes before the daemon, e.g. setpriv.
DAEMON_WRAP=()
start_daemon() {
	ip netns exec "$RTR" "${DAEMON_WRAP[@]}" "$IPAUTOFWD" -f -v -C "$CONF" -s "$SOCK" "$@" \
		>>"$TMP/daemon.log" 2>&1 &
	DAEMON_PID=$!
	local i
	for i in $(seq "${START_POLLS:-100}"); do
		if "$IPAUTOFWCTL" -s "$SOCK" status >/dev/null 2>&1; then
			# the fallbacks of older kernels asked for are really in use
			if [ -n "${IPAUTOFWD_KCAPS_LACK:-}" ] &&
				! grep -q "acting as if the kernel lacked" "$TMP/daemon.log"; then
				echo "IPAUTOFWD_KCAPS_LACK=$IPAUTOFWD_KCAPS_LACK was ignored"
				exit 1
			fi
			return 0
		fi
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "daemon did not come up:"
	cat "$TMP/daemon.log"
	exit 1
}

stop_daemon() {
	kill -TERM "$DAEMON_PID"
	wait "$DAEMON_PID"
	local rc=$?
	DAEMON_PID=
	return $rc
}

ctl() { "$IPAUTOFWCTL" -s "$SOCK" "$@"; }

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

# trigger NS PROTO PORT [DST]: a new connection from a LAN host to an outside host
trigger() { "$NSPROBE" trigger "$2" "$1" "${4:-203.0.113.9}" "$3"; }

# reaches_from NS PROTO PORT DST SRC: from outside address SRC to DST (v4 or v6)
reaches_from() { "$NSPROBE" "$2" "$WAN" "$1" "$4" "$3" 1000 "$5" >/dev/null; }
blocked_from() { ! "$NSPROBE" "$2" "$WAN" "$1" "$4" "$3" 300 "$5" >/dev/null; }

# reaches NS PROTO PORT [TIMEOUT_MS]: new inbound flow to the router's WAN address arrives at NS
reaches() { "$NSPROBE" "$2" "$WAN" "$1" 203.0.113.1 "$3" "${4:-1000}" >/dev/null; }

# blocked NS PROTO PORT: nothing arrives within a short wait
blocked() { ! "$NSPROBE" "$2" "$WAN" "$1" 203.0.113.1 "$3" 300 >/dev/null; }

# wait_for DESC CMD...: poll a condition for up to 5 s
wait_for() {
	local i
	for i in $(seq 100); do
		if "${@:2}" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.05
	done
	return 1
}

# vetted ADDR...: the daemon vetted each LAN address (src4ok/src6ok hold it with a MAC), so
# the kernel serves its first trigger itself
vetted() {
	local a
	for a in "$@"; do
		rtr nft list set inet ipautofw "$(case $a in *:*) echo src6ok ;; *) echo src4ok ;; esac)" |
			grep -qF " . $a . " || return 1
	done
}

# vet_lan: the router learns LAN1's and LAN2's MACs (it talks to them, IPv4 and IPv6) and the
# daemon vets them; until then their first triggers are the daemon's (DESIGN §2.10)
vet_lan() {
	"$NSPROBE" udp "$RTR" "$LAN1" 192.168.7.2 5555 1000 >/dev/null
	"$NSPROBE" udp "$RTR" "$LAN2" 192.168.7.3 5555 1000 >/dev/null
	"$NSPROBE" udp "$RTR" "$LAN1" 2001:db8:7::2 5555 1000 >/dev/null
	"$NSPROBE" udp "$RTR" "$LAN2" 2001:db8:7::3 5555 1000 >/dev/null
	wait_for vetted vetted 192.168.7.2 192.168.7.3 2001:db8:7::2 2001:db8:7::3
}

# lan1_thousand: 192.168.16.1 and the 999 addresses after it on LAN1, all
# hosts of one /22 behind br-lan (router 192.168.19.254)
lan1_thousand() {
	local i
	for i in $(seq 1 1000); do
		echo "addr add 192.168.$((16 + i / 256)).$((i % 256))/22 dev eth0"
	done >"$TMP/addrs"
	ip -n "$LAN1" -batch "$TMP/addrs"
	ip -n "$RTR" addr add 192.168.19.254/22 dev br-lan
}

# lan1_machines: lan1_thousand, each address a machine of its own to the router (DESIGN
# §2.11: a host is a machine): its neighbour table gives 192.168.16.1 + i the MAC of LAN1's
# eth0 + i (in the last 24 bits; the first is LAN1 itself)
lan1_machines() {
	local mac base i a
	lan1_thousand
	mac=$(ip -n "$LAN1" -j link show eth0 | jq -r '.[0].address')
	base=$((16#${mac:9:2}${mac:12:2}${mac:15:2}))
	for i in $(seq 0 999); do
		a=$((base + i))
		printf 'neigh replace 192.168.%d.%d lladdr %s:%02x:%02x:%02x dev br-lan nud permanent\n' \
			$((16 + (i + 1) / 256)) $(((i + 1) % 256)) "${mac:0:8}" $((a >> 16 & 255)) \
			$((a >> 8 & 255)) $((a & 255))
	done >"$TMP/neigh"
	ip -n "$RTR" -batch "$TMP/neigh"
}

# machines_burst PEERS PORT: each of lan1_machines' 1,000 machines sends a datagram to PORT of
# PEERS outside peers of its own (198.18.0.1 and on), as fast as LAN1 can: 1,000 x PEERS triggers
machines_burst() {
	: "${RAWSEND:?}"
	ip netns exec "$LAN1" "$RAWSEND" eth0 "$(ip -n "$RTR" -j link show br-lan | jq -r '.[0].address')" \
		- 192.168.16.1 198.18.0.1 udp "$2" $((1000 * $1)) 0 "grid/$1"
}

has_forwarding() {
	# has_forwarding RULE HOST: ipautofwctl -j list shows it
	ctl -j list | jq -e --arg r "$1" --arg h "$2" 'any(.[]; .rule == $r and .host == $h)' >/dev/null
}

finish() {
	echo "$((CHECKS - FAILS)) passed, $FAILS failed"
	if [ "$FAILS" -ne 0 ]; then
		echo "--- daemon log"
		cat "$TMP/daemon.log"
		exit 1
	fi
	exit 0
}
