#!/bin/bash
# A router pair (docs/ha-pair.md): two routers with keepalived (VRRP, one
# sync group for a LAN and a WAN virtual address) and conntrackd (FTFW over
# a link of their own, DisableExternalCache On), both as Debian packages
# them, each router with its own ipautofwd and `pair ct-mark`. A LAN host's
# gateway is the LAN virtual address; the outside host talks to the WAN
# one. The master serves triggers and marks their connections; the backup
# opens the same forwardings from what conntrackd writes into its table.
# Then the master dies (keepalived's VRRP child, keepalived and conntrackd
# killed, its links down): new inbound connections reach the same hosts
# through the other router, a stream goes on, and the forwardings there
# have the time they had; then the first router comes back.
. "$(dirname "$0")/lib.sh"
command -v keepalived >/dev/null || skip "needs keepalived"
command -v conntrackd >/dev/null || skip "needs conntrackd"
command -v conntrack >/dev/null || skip "needs conntrack"

R1=$RTR
R2="${P}s"
SW="${P}x"
START=$(date +%s%N)
# processes started here, ended by PID on exit
PIDS=()
declare -A KA CT DMN

cleanup_pair() {
	local p
	for p in "${PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	for ns in "$LAN1" "$LAN2" "$R1" "$R2" "$SW" "$WAN"; do
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$TMP"
}
trap cleanup_pair EXIT

ms() { echo $((($(date +%s%N) - START) / 1000000)); }

# --- the lab: a switch namespace with the LAN and WAN bridges, two routers, hosts
for ns in "$R2" "$SW" "$LAN1" "$LAN2" "$WAN"; do
	ip netns add "$ns"
done
for ns in "$R1" "$R2" "$SW" "$LAN1" "$LAN2" "$WAN"; do
	ip -n "$ns" link set lo up
done
ip -n "$SW" link add br-lan type bridge
ip -n "$SW" link add br-wan type bridge
ip -n "$SW" link set br-lan up
ip -n "$SW" link set br-wan up
i=2
for ns in "$LAN1" "$LAN2"; do
	ip -n "$SW" link add "h$i" type veth peer name eth0 netns "$ns"
	ip -n "$SW" link set "h$i" master br-lan up
	ip -n "$ns" addr add "192.168.7.$i/24" dev eth0
	ip -n "$ns" link set eth0 up
	ip -n "$ns" route add default via 192.168.7.1
	i=$((i + 1))
done
ip -n "$SW" link add hw type veth peer name eth0 netns "$WAN"
ip -n "$SW" link set hw master br-wan up
for i in 9 10 11; do
	ip -n "$WAN" addr add "203.0.113.$i/24" dev eth0
done
for i in $(seq 1 250); do echo "addr add 198.18.1.$i/24 dev eth0"; done >"$TMP/wan-addrs"
ip -n "$WAN" -batch "$TMP/wan-addrs"
ip -n "$WAN" link set eth0 up
# a source no route on the routers leads back to the LAN: a forged trigger
ip -n "$LAN2" addr add 10.66.0.2/32 dev eth0
ip -n "$R1" link add sync0 type veth peer name sync0 netns "$R2"

# router N (1 or 2) in namespace NS: its own addresses .252/.253, the
# virtual ones .1 when it is master
router_up() {
	local n=$1 ns=$2 a=$((251 + $1)) d="$TMP/r$1"
	mkdir -p "$d"
	ip -n "$SW" link add "r${n}l" type veth peer name lan0 netns "$ns"
	ip -n "$SW" link add "r${n}w" type veth peer name wan0 netns "$ns"
	ip -n "$SW" link set "r${n}l" master br-lan up
	ip -n "$SW" link set "r${n}w" master br-wan up
	ip -n "$ns" addr add "192.168.7.$a/24" dev lan0
	ip -n "$ns" addr add "203.0.113.$a/24" dev wan0
	ip -n "$ns" addr add "10.99.0.$n/30" dev sync0
	for l in lan0 wan0 sync0; do
		ip -n "$ns" link set "$l" up
	done
	ip -n "$ns" route add default via 203.0.113.9
	ip netns exec "$ns" sh -c "echo 1 >/proc/sys/net/ipv4/ip_forward"
	# the admin's firewall; outbound leaves with the WAN virtual address
	ip netns exec "$ns" nft -f - <<'NFT'
table inet admin {
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		ct status dnat accept
		iifname "lan0" oifname "wan0" accept
	}
	chain postrouting {
		type nat hook postrouting priority srcnat;
		oifname "wan0" snat ip to 203.0.113.1
	}
}
NFT
	cat >"$d/conntrackd.conf" <<EOF
Sync {
	Mode FTFW {
		DisableExternalCache On
	}
	UDP {
		IPv4_address 10.99.0.$n
		IPv4_Destination_Address 10.99.0.$((3 - n))
		Port 3780
		Interface sync0
		SndSocketBuffer 1249280
		RcvSocketBuffer 1249280
		Checksum on
	}
}
General {
	HashSize 8192
	HashLimit 65535
	LogFile $d/conntrackd.log
	Syslog off
	LockFile $d/conntrackd.lock
	UNIX {
		Path $d/conntrackd.ctl
	}
	NetlinkBufferSize 2097152
	NetlinkBufferSizeMaxGrowth 8388608
	Filter {
		Protocol Accept {
			TCP
			UDP
		}
		Address Ignore {
			IPv4_address 127.0.0.1
			IPv4_address 10.99.0.0/30
			IPv4_address 192.168.7.1
			IPv4_address 192.168.7.252
			IPv4_address 192.168.7.253
			IPv4_address 203.0.113.1
			IPv4_address 203.0.113.252
			IPv4_address 203.0.113.253
		}
	}
}
EOF
	# what Debian's primary-backup.sh does, with this router's conntrackd
	cat >"$d/notify.sh" <<EOF
#!/bin/sh
C="conntrackd -C $d/conntrackd.conf"
case "\$1" in
primary) \$C -c; \$C -f; \$C -R; \$C -B ;;
backup) \$C -t; \$C -n ;;
fault) \$C -t ;;
esac
echo "\$1" >>$d/notify.log
EOF
	chmod 755 "$d/notify.sh"
	cat >"$d/keepalived.conf" <<EOF
global_defs {
	router_id r$n
	script_user root
}
vrrp_sync_group G {
	group {
		LAN
		WAN
	}
	notify_master "$d/notify.sh primary"
	notify_backup "$d/notify.sh backup"
	notify_fault "$d/notify.sh fault"
}
vrrp_instance LAN {
	state BACKUP
	interface lan0
	virtual_router_id 51
	priority $((200 - 50 * n))
	advert_int 1
	virtual_ipaddress {
		192.168.7.1/24 dev lan0
	}
}
vrrp_instance WAN {
	state BACKUP
	interface wan0
	virtual_router_id 52
	priority $((200 - 50 * n))
	advert_int 1
	virtual_ipaddress {
		203.0.113.1/24 dev wan0
	}
}
EOF
}

start_conntrackd() {
	local n=$1 ns=$2 d="$TMP/r$1"
	rm -f "$d/conntrackd.ctl" "$d/conntrackd.lock"
	ip netns exec "$ns" conntrackd -C "$d/conntrackd.conf" >>"$d/conntrackd.out" 2>&1 &
	CT[$n]=$!
	PIDS+=("${CT[$n]}")
	wait_for conntrackd test -S "$d/conntrackd.ctl" || { echo "conntrackd r$n did not start"; cat "$d"/conntrackd.*; exit 1; }
}

start_keepalived() {
	local n=$1 ns=$2 d="$TMP/r$1"
	rm -f "$d/vrrp.pid" "$d/keepalived.pid"
	ip netns exec "$ns" keepalived -n -l -D -P -f "$d/keepalived.conf" -p "$d/keepalived.pid" \
		-r "$d/vrrp.pid" >>"$d/keepalived.log" 2>&1 &
	KA[$n]=$!
	PIDS+=("${KA[$n]}")
	wait_for keepalived test -s "$d/vrrp.pid" || { echo "keepalived r$n did not start"; cat "$d/keepalived.log"; exit 1; }
	PIDS+=("$(cat "$d/vrrp.pid")")
}

start_ipautofwd() {
	local n=$1 ns=$2 d="$TMP/r$1"
	ip netns exec "$ns" "$IPAUTOFWD" -f -v -C "$CONF" -s "$d/control.sock" >>"$d/daemon.log" 2>&1 &
	DMN[$n]=$!
	PIDS+=("${DMN[$n]}")
	wait_for ipautofwd "$IPAUTOFWCTL" -s "$d/control.sock" status ||
		{ echo "ipautofwd r$n did not start"; cat "$d/daemon.log"; exit 1; }
}

quiet() { "$@" >/dev/null; }
c1() { "$IPAUTOFWCTL" -s "$TMP/r1/control.sock" "$@"; }
c2() { "$IPAUTOFWCTL" -s "$TMP/r2/control.sock" "$@"; }

# master N: router N holds both virtual addresses and its notify hook ran
master() {
	local ns=$R1
	[ "$1" = 2 ] && ns=$R2
	ip -n "$ns" addr show lan0 | grep -q "192.168.7.1/" &&
		ip -n "$ns" addr show wan0 | grep -q "203.0.113.1/" &&
		[ "$(tail -n1 "$TMP/r$1/notify.log" 2>/dev/null)" = primary ]
}

# wait_long SECONDS CMD...: poll (every 50 ms) for up to SECONDS
wait_long() {
	local end=$(($(date +%s%N) + $1 * 1000000000))
	while [ "$(date +%s%N)" -lt "$end" ]; do
		"${@:2}" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	return 1
}

# holds CTL RULE HOST [PEER]: the daemon behind CTL (c1, c2) lists the forwarding
holds() {
	"$1" -j list | jq -e --arg r "$2" --arg h "$3" --arg p "${4:-}" \
		'any(.[]; .rule == $r and .host == $h and ($p == "" or .peer == $p))' >/dev/null
}

# expires CTL RULE HOST: the forwarding's seconds left
expires() {
	"$1" -j list | jq -r --arg r "$2" --arg h "$3" '.[] | select(.rule == $r and .host == $h) | .expires'
}

# in_reaches NS PORT [SRC]: a new inbound connection to the WAN virtual address reaches NS
in_reaches() { "$NSPROBE" udp "$WAN" "$1" 203.0.113.1 "$2" 1000 ${3:+"$3"} >/dev/null; }
in_blocked() { ! "$NSPROBE" udp "$WAN" "$1" 203.0.113.1 "$2" 300 ${3:+"$3"} >/dev/null; }

# a TCP trigger whose connection the outside host accepts (a refused one's
# entry is gone with the RST, before anyone could mark it)
tcp_trigger() { "$NSPROBE" tcp "$1" "$WAN" 203.0.113.9 7070 1000 >/dev/null; }

conf pair <<'C'
lan lan0
wan wan0
pair ct-mark 0x20000000/0x20000000
rule realaudio trigger 7070/tcp forward 6970-7170/udp timeout 2m
rule excl trigger 7071/udp forward 8000-8010/udp exclusive timeout 2m
rule voip trigger 5060/udp forward 10000-10100/udp peer timeout 2m
rule stream trigger 7072/udp forward 9000/udp timeout 2m
rule forge trigger 7073/udp forward 9100/udp timeout 2m
C

router_up 1 "$R1"
router_up 2 "$R2"
start_conntrackd 1 "$R1"
start_conntrackd 2 "$R2"
start_ipautofwd 1 "$R1"
start_ipautofwd 2 "$R2"
start_keepalived 1 "$R1"
start_keepalived 2 "$R2"
check "router 1 becomes master (keepalived, conntrackd hook)" wait_long 15 master 1
echo "# lab up after $(ms) ms"
check "both daemons say pair mode is on" sh -c "'$IPAUTOFWCTL' -s '$TMP/r1/control.sock' -j status | jq -e '.pair.on' >/dev/null &&
	'$IPAUTOFWCTL' -s '$TMP/r2/control.sock' status | grep -q '^pair: *on, ct-mark 0x20000000/0x20000000'"

# --- on the master: a stream, a takeover, exclusive, peer, a forged trigger
trigger "$LAN1" udp 7072
check "the stream's forwarding is open on the master" wait_for s1 holds c1 stream 192.168.7.2
check "and on the backup, from the replicated trigger connection" wait_for s2 holds c2 stream 192.168.7.2
GAP_MS=20000
"$NSPROBE" gaps "$LAN1" 9000 "$GAP_MS" >"$TMP/gaps" &
PIDS+=($!)
wait_for gaps grep -q listening "$TMP/gaps"
"$NSPROBE" stream "$WAN" 203.0.113.1 9000 40000 "$GAP_MS" &
PIDS+=($!)

tcp_trigger "$LAN1"
trigger "$LAN1" udp 7071
trigger "$LAN1" udp 5060 203.0.113.9
trigger "$LAN2" udp 5060 203.0.113.10
wait_for excl holds c1 excl 192.168.7.2
trigger "$LAN2" udp 7071
# forged: a source whose route back does not leave through lan0
"$NSPROBE" udp "$LAN2" "$WAN" 203.0.113.9 7073 300 10.66.0.2 >/dev/null
wait_for realaudio holds c1 realaudio 192.168.7.2
# just before the failover: a second host takes realaudio over
tcp_trigger "$LAN2"
check "the takeover is the master's" wait_for take1 holds c1 realaudio 192.168.7.3
check "the backup follows the takeover" wait_for take2 holds c2 realaudio 192.168.7.3
check "the backup holds exclusive for the first host" wait_for x2 holds c2 excl 192.168.7.2
check "... and only for it" sh -c "! '$IPAUTOFWCTL' -s '$TMP/r2/control.sock' -j list | jq -e 'any(.[]; .rule == \"excl\" and .host == \"192.168.7.3\")' >/dev/null"
check "the backup holds both peers' forwardings" wait_for p2 sh -c "'$IPAUTOFWCTL' -s '$TMP/r2/control.sock' -j list | jq -e '[.[] | select(.rule == \"voip\")] | length == 2 and any(.[]; .host == \"192.168.7.2\" and .peer == \"203.0.113.9\") and any(.[]; .host == \"192.168.7.3\" and .peer == \"203.0.113.10\")'"
check "the master caught the forged trigger" sh -c "'$IPAUTOFWCTL' -s '$TMP/r1/control.sock' -j status | jq -e '.triggers_forged >= 1' >/dev/null"
check "conntrackd carried the forged trigger's connection to the backup" \
	sh -c "ip netns exec '$R2' conntrack -L -s 10.66.0.2 2>/dev/null | grep -q 7073"
check "the forged trigger opened nothing on the master" sh -c "! '$IPAUTOFWCTL' -s '$TMP/r1/control.sock' -j list | jq -e 'any(.[]; .rule == \"forge\")' >/dev/null"
check "nor on the backup" sh -c "! '$IPAUTOFWCTL' -s '$TMP/r2/control.sock' -j list | jq -e 'any(.[]; .rule == \"forge\")' >/dev/null"
l1=$(c1 -j list)
l2=$(c2 -j list)
check "the backup's remaining times are within 2 s of the master's" quiet jq -e -n --argjson a "$l1" --argjson b "$l2" \
	'[$a[] | select(.static | not)] | length == 5 and all(.[]; . as $f | any($b[]; .rule == $f.rule and .host == $f.host and .peer == $f.peer and ((.expires - $f.expires) | fabs) <= 2))'
check "the backup says 5 forwardings came from replicated connections" sh -c "'$IPAUTOFWCTL' -s '$TMP/r2/control.sock' -j status | jq -e '.pair.forwardings_replicated == 5' >/dev/null"
check "... and its metrics" sh -c "'$IPAUTOFWCTL' -s '$TMP/r2/control.sock' metrics | grep -qx 'ipautofw_pair_forwardings_replicated 5'"
check "the master's are its own" sh -c "'$IPAUTOFWCTL' -s '$TMP/r1/control.sock' -j status | jq -e '.pair.forwardings_replicated == 0 and .pair.marked >= 6' >/dev/null"
check "the stream reaches the first host through the master" in_reaches "$LAN1" 9000
before=$(expires c1 realaudio 192.168.7.3)

# --- the master dies: VRRP child first (a clean stop would hand over), then the rest, links down
T0=$(ms)
kill -9 "$(cat "$TMP/r1/vrrp.pid")" "${KA[1]}" "${CT[1]}"
for l in lan0 wan0 sync0; do
	ip -n "$R1" link set "$l" down
done
T_NEW=
while [ $(($(ms) - T0)) -lt 15000 ]; do
	if "$NSPROBE" udp "$WAN" "$LAN2" 203.0.113.1 7000 150 >/dev/null; then
		T_NEW=$(($(ms) - T0))
		break
	fi
done
check "a new inbound connection reaches the host that took over, through router 2" test -n "$T_NEW"
echo "# failover as a new inbound connection sees it: ${T_NEW:-none} ms"
check "router 2 is master" wait_long 10 master 2
check "exclusive holds for the first host" in_reaches "$LAN1" 8005
check "the peer forwarding lets its peer in to the first host" in_reaches "$LAN1" 10005 203.0.113.9
check "and the other peer to the second host" in_reaches "$LAN2" 10006 203.0.113.10
check "and no one else" in_blocked "$LAN1" 10007 203.0.113.11
check "the forged trigger's range stays shut" in_blocked "$LAN2" 9100
after=$(expires c2 realaudio 192.168.7.3)
elapsed=$((($(ms) - T0 + 500) / 1000))
check "list on router 2 shows the takeover with its remaining time ($before s then, $after s now, $elapsed s later)" \
	test -n "$after" -a $((before - elapsed - after)) -le 2 -a $((after - before + elapsed)) -le 2
wait_long 25 grep -q received "$TMP/gaps"
echo "# stream: $(cat "$TMP/gaps" | tail -n1)"
check "the established stream flowed on after the failover" sh -c "tail -n1 '$TMP/gaps' | awk '{ exit !(\$2 + 0 > 100 && \$8 + 0 < 500) }'"

# --- while router 1 is out, the first host takes realaudio back through router 2
tcp_trigger "$LAN1"
check "router 2 serves it" wait_for take3 holds c2 realaudio 192.168.7.2

# --- failback: router 1 comes back, resyncs (conntrackd -n in its backup hook), preempts
for l in lan0 wan0 sync0; do
	ip -n "$R1" link set "$l" up
done
T1=$(ms)
start_conntrackd 1 "$R1"
start_keepalived 1 "$R1"
check "router 1 learns the takeover made while it was out" wait_long 10 holds c1 realaudio 192.168.7.2
check "router 1 is master again" wait_long 15 master 1
echo "# failback to master in $(($(ms) - T1)) ms"
check "new inbound connections reach the host through router 1" wait_long 5 in_reaches "$LAN1" 7001
check "router 1 holds the virtual addresses" sh -c "ip -n '$R1' addr show wan0 | grep -q '203.0.113.1/'"
check "exclusive still for the first host" in_reaches "$LAN1" 8006
check "the peers' forwardings too" in_reaches "$LAN2" 10008 203.0.113.10
check "nothing for the forged trigger on either router" sh -c "! '$IPAUTOFWCTL' -s '$TMP/r1/control.sock' -j list | jq -e 'any(.[]; .rule == \"forge\")' >/dev/null && ! '$IPAUTOFWCTL' -s '$TMP/r2/control.sock' -j list | jq -e 'any(.[]; .rule == \"forge\")' >/dev/null"
# a clean stop of both daemons (and, in an ASan build, no leak)
stopped() {
	kill -TERM "${DMN[$1]}" && wait "${DMN[$1]}" && ! grep -q Sanitizer "$TMP/r$1/daemon.log"
}
# pair mode off and on again by a reload (router 2's alone)
sed -i '/^pair /d' "$CONF/pair.conf"
c2 reload >/dev/null
check "a reload without the statement turns pair mode off" sh -c "'$IPAUTOFWCTL' -s '$TMP/r2/control.sock' status | grep -q '^pair: *off'"
echo "pair ct-mark 0x20000000/0x20000000" >>"$CONF/pair.conf"
c2 reload >/dev/null
check "... and one with it on again" sh -c "'$IPAUTOFWCTL' -s '$TMP/r2/control.sock' -j status | jq -e '.pair.on' >/dev/null"
check "the daemons read their conntrack tables (pair mode's start) without a warning" \
	sh -c "! grep -h 'pair: reading' '$TMP/r1/daemon.log' '$TMP/r2/daemon.log'"
check "router 1's daemon stops cleanly" stopped 1
check "router 2's daemon stops cleanly" stopped 2
echo "# run time $(ms) ms"

echo "$((CHECKS - FAILS)) passed, $FAILS failed"
if [ "$FAILS" -ne 0 ]; then
	for n in 1 2; do
		echo "--- router $n: daemon"
		cat "$TMP/r$n/daemon.log"
		echo "--- router $n: keepalived, notify, conntrackd"
		tail -n 30 "$TMP/r$n/keepalived.log"
		cat "$TMP/r$n/notify.log"
		tail -n 30 "$TMP/r$n/conntrackd.log"
	done
	exit 1
fi
exit 0
