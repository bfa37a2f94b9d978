#!/bin/bash
# Hostile LAN, forged sources (DESIGN §2.10): LAN1 writes raw frames whose
# source is another LAN (a DMZ), an outside address, a broadcast, network,
# anycast, loopback, multicast, unspecified or mapped address, one of the
# router's own, or a neighbour's address with LAN1's (or a made-up) MAC,
# for IPv4 and IPv6 and with rp_filter 0, 1 and 2 on the router. None may
# open, refresh or take over anything; a genuine trigger sent the same way
# right after each round must open its forwarding (so the round was read).
# With the daemon stopped, the kernel opens a first forwarding only for a
# source the daemon vetted (src4ok/src6ok): never for the forged ones.
. "$(dirname "$0")/lib.sh"
: "${RAWSEND:?}"
topo_up
# a DMZ on the router: another LAN whose hosts a forged source would expose
ip -n "$RTR" link add dmz0 type dummy
ip -n "$RTR" addr add 192.168.8.1/24 dev dmz0
ip -n "$RTR" addr add 2001:db8:8::1/64 dev dmz0 nodad
ip -n "$RTR" link set dmz0 up
conf ra <<'C'
rule ra trigger 7070/tcp forward 6970-7170/udp timeout 5m
rule v6 trigger 7071/tcp forward 7300-7310/udp family ipv6 timeout 5m
rule barrier trigger 9999/udp forward 9999/udp timeout 5m
rule net trigger 7072/tcp forward 7400-7410/udp timeout 5m
C
start_daemon
RMAC=$(ip -n "$RTR" -j link show br-lan | jq -r '.[0].address')
MAC1=$(ip -n "$LAN1" -j link show eth0 | jq -r '.[0].address')
MAC2=$(ip -n "$LAN2" -j link show eth0 | jq -r '.[0].address')
# raw NS SRCMAC SRC DST PROTO PORT
raw() { ip netns exec "$1" "$RAWSEND" eth0 "$RMAC" "$2" "$3" "$4" "$5" "$6" >/dev/null; }
# the router learns LAN2 (IPv4 and IPv6) in its neighbour table by talking to it
"$NSPROBE" udp "$RTR" "$LAN2" 192.168.7.3 5555 1000 >/dev/null
"$NSPROBE" udp "$RTR" "$LAN2" 2001:db8:7::3 5555 1000 >/dev/null
check "the router has LAN2's MAC as a neighbour" sh -c "ip -n '$RTR' neigh show 192.168.7.3 | grep -q '$MAC2'"
check "for IPv6 too" sh -c "ip -n '$RTR' neigh show 2001:db8:7::3 | grep -q '$MAC2'"

forged4="192.168.8.10 203.0.113.50 192.168.7.255 192.168.7.0 192.168.7.1 203.0.113.1 127.0.0.1 0.0.0.0 224.0.0.5 255.255.255.255 192.168.7.3"
forged6="2001:db8:8::10 2001:db8:1::50 2001:db8:7:: 2001:db8:7::1 2001:db8:1::1 ::1 :: ff02::1 fe80::1 ::ffff:192.168.7.2 2001:db8:7::3"
# every address in the kernel's forwarding maps and sets (each rule's own), one a line
kernel_hosts() {
	rtr nft -j list table inet ipautofw 2>/dev/null |
		jq -r '.nftables[] | (.set // .map // empty) | select(.name | test("^(act4p?|pin6p?)_")) |
			.elem? // [] | .. | strings | select(test("^[0-9a-f:.]+$") and test("[:.]"))'
}
# HOST holds something, in the daemon's list or in the kernel
opened() {
	ctl -j list | jq -e --arg h "$1" 'any(.[]; .host == $h)' >/dev/null ||
		kernel_hosts | grep -qxF -- "$1"
}
forged_count() { ctl -j status | jq .triggers_forged; }

for rp in 0 1 2; do
	rtr sh -c "for f in /proc/sys/net/ipv4/conf/*/rp_filter; do echo $rp >\$f; done"
	ctl flush >/dev/null
	before=$(forged_count)
	for s in $forged4; do
		raw "$LAN1" - "$s" 203.0.113.9 tcp 7070
	done
	for s in $forged6; do
		raw "$LAN1" - "$s" 2001:db8:1::9 tcp 7070
		raw "$LAN1" - "$s" 2001:db8:1::9 tcp 7071
	done
	# the neighbour's address with a MAC that is neither LAN1's nor LAN2's
	raw "$LAN1" 02:00:00:00:be:ef 192.168.7.3 203.0.113.9 tcp 7070
	raw "$LAN1" 02:00:00:00:be:ef 2001:db8:7::3 2001:db8:1::9 tcp 7071
	# NFLOG keeps order: once this genuine trigger is served, the forged ones were read
	raw "$LAN1" - 192.168.7.2 203.0.113.9 udp 9999
	check "rp_filter=$rp: the round was read (a genuine raw trigger opened)" \
		wait_for barrier has_forwarding barrier 192.168.7.2
	bad=
	for s in $forged4 $forged6; do
		opened "$s" && bad="$bad $s"
	done
	check "rp_filter=$rp: no forged source opened anything (${bad:-none})" test -z "$bad"
	check "rp_filter=$rp: nothing else was opened" sh -c "test \$('$IPAUTOFWCTL' -s '$SOCK' -j list | jq length) = 1"
	after=$(forged_count)
	echo "rp_filter=$rp: forged triggers counted: $((after - before))"
	# at least the other LAN, the outside address, the broadcast, network and
	# neighbour (x2) sources reach the forward hook whatever rp_filter says
	check "rp_filter=$rp: forged triggers are counted" test $((after - before)) -ge 6
	# the positive case, written by the same tool: each host may trigger with its own address
	raw "$LAN2" - 192.168.7.3 203.0.113.9 tcp 7070
	check "rp_filter=$rp: LAN2 triggers with its own address and MAC" wait_for own has_forwarding ra 192.168.7.3
	raw "$LAN2" - 2001:db8:7::3 2001:db8:1::9 tcp 7071
	check "rp_filter=$rp: and over IPv6" wait_for own6 has_forwarding v6 2001:db8:7::3
	# ... and a forged trigger takes nothing over from it, nor refreshes it
	refreshed=$(ctl -j status | jq .refreshed)
	raw "$LAN1" - 192.168.7.3 203.0.113.9 tcp 7070
	raw "$LAN1" - 203.0.113.50 203.0.113.9 tcp 7070
	raw "$LAN1" - 2001:db8:7::3 2001:db8:1::9 tcp 7071
	ctl flush barrier >/dev/null
	raw "$LAN1" - 192.168.7.2 203.0.113.9 udp 9999
	wait_for barrier2 has_forwarding barrier 192.168.7.2
	check "rp_filter=$rp: the impersonated host keeps its forwarding" \
		sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j list | jq -e '[.[] | select(.rule == \"ra\")] | length == 1 and .[0].host == \"192.168.7.3\"' >/dev/null"
	check "rp_filter=$rp: and its IPv6 pinhole" has_forwarding v6 2001:db8:7::3
	check "rp_filter=$rp: the impersonator refreshed nothing" \
		test "$(ctl -j status | jq .refreshed)" = "$refreshed"
done

# The kernel alone: with the daemon stopped, the kernel's add serves only sources the daemon
# vetted (a neighbour with the MAC the router's table holds; not a prefix's network address).
# The other triggers wait, logged, for the daemon's checks: nothing is opened before them.
kernel_has() { kernel_hosts | grep -qxF -- "$1"; }
rtr sh -c "for f in /proc/sys/net/ipv4/conf/*/rp_filter; do echo 0 >\$f; done"
ctl flush >/dev/null
check "the daemon vetted the LAN hosts" vet_lan
check_not "not the network address" vetted 192.168.7.0
kill -STOP "$DAEMON_PID"
raw "$LAN1" 02:00:00:00:be:ef 192.168.7.3 203.0.113.9 tcp 7070
raw "$LAN1" - 192.168.7.3 203.0.113.9 tcp 7070
# (a rule of its own: the rule above already has its one forwarding if the kernel took one)
raw "$LAN1" - 192.168.7.0 203.0.113.9 tcp 7072
raw "$LAN1" 02:00:00:00:be:ef 2001:db8:7::3 2001:db8:1::9 tcp 7071
raw "$LAN1" - 2001:db8:7::3 2001:db8:1::9 tcp 7071
raw "$LAN1" - 2001:db8:7:: 2001:db8:1::9 tcp 7072
raw "$LAN1" - 192.168.7.2 203.0.113.9 udp 9999
check "daemon stopped: LAN1's own trigger opens in the kernel (the round was read)" \
	wait_for kbarrier kernel_has 192.168.7.2
bad=
for s in 192.168.7.3 192.168.7.0 2001:db8:7::3 2001:db8:7::; do
	kernel_has "$s" && bad="$bad $s"
done
check "daemon stopped: no forged trigger opened anything in the kernel (${bad:-none})" test -z "$bad"
check "daemon stopped: nothing but the barrier is in the kernel's sets" \
	test "$(kernel_hosts | sort -u | tr '\n' ' ')" = "192.168.7.2 "
# the positive case: a genuine host's first trigger, the daemon still stopped
raw "$LAN2" - 192.168.7.3 203.0.113.9 tcp 7070
check "daemon stopped: LAN2's genuine first trigger opens in the kernel" wait_for kgen kernel_has 192.168.7.3
raw "$LAN2" - 2001:db8:7::3 2001:db8:1::9 tcp 7071
check "and its IPv6 pinhole" wait_for kgen6 kernel_has 2001:db8:7::3
kill -CONT "$DAEMON_PID"
check "the daemon, back, keeps the genuine host's forwarding" wait_for kown has_forwarding ra 192.168.7.3
check "and its pinhole" wait_for kown6 has_forwarding v6 2001:db8:7::3
check_not "and refuses the network address" opened 192.168.7.0

# the forward range really stays closed to the forged host (end to end)
rtr sh -c "for f in /proc/sys/net/ipv4/conf/*/rp_filter; do echo 0 >\$f; done"
ctl flush >/dev/null
raw "$LAN1" - 203.0.113.50 203.0.113.9 tcp 7070
raw "$LAN1" - 192.168.7.2 203.0.113.9 udp 9999
wait_for barrier2 has_forwarding barrier 192.168.7.2
check_not "inbound to the forward range is not relayed to the forged outside address" \
	opened 203.0.113.50
check "the kernel counted what it caught" sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j status | jq -e '.triggers_forged_kernel > 0'"
check "the daemon log names the reasons" sh -c "grep -q 'forged trigger ignored: 7070/tcp from 192.168.7.3 ($MAC1) on br-lan: link-layer address differs' '$TMP/daemon.log' && grep -q 'from 192.168.7.0 .*network address' '$TMP/daemon.log'"
check "status shows the forged triggers" sh -c "'$IPAUTOFWCTL' -s '$SOCK' status | grep -q '^refused: .* forged'"
finish
