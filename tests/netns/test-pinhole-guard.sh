#!/bin/bash
# pinhole-guard on: the administrator's firewall opens a rule's forward
# ports to the whole LAN for IPv6, the way a firewalld policy from
# external to internal does (it cannot match the pinhole mark); ipautofw's
# own table then drops every new inbound connection no pinhole covers, so
# only the triggering host is reachable, and nothing after a flush.
. "$(dirname "$0")/lib.sh"
topo_up
rtr nft -f - <<'NFT'
flush table inet admin
table inet admin {
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		ct status dnat accept
		iifname "br-lan" oifname "veth-wan" accept
		iifname "veth-wan" oifname "br-lan" meta nfproto ipv6 udp dport 7777-7780 accept
		iifname "veth-wan" oifname "br-lan" meta nfproto ipv6 tcp dport { 8000, 9999 } accept
	}
}
NFT
conf guard <<'C'
pinhole-guard on
rule game trigger 7777/tcp forward 7777-7780/udp timeout 2m
rule static6 forward 9999/tcp to 2001:db8:7::3
C
# fill the router's IPv6 neighbour cache first: a SYN-ACK that waited for
# neighbour discovery of the outside address was answered with a reset,
# and a retry comes only after the probe's 1 s
"$NSPROBE" udp "$RTR" "$LAN1" 2001:db8:7::2 5 1000 >/dev/null
"$NSPROBE" udp "$RTR" "$LAN2" 2001:db8:7::3 5 1000 >/dev/null
for a in 9 10; do "$NSPROBE" udp "$RTR" "$WAN" 2001:db8:1::$a 5 1000 >/dev/null; done
start_daemon

check "guard6 holds the IPv6 forward ports" rtr sh -c "nft -j list set inet ipautofw guard6 | jq -e '[.nftables[1].set.elem[]] | length == 2'"
check "before a trigger, the admin's open range reaches neither LAN1" blocked_from "$LAN1" udp 7778 2001:db8:7::2 2001:db8:1::9
check "nor LAN2" blocked_from "$LAN2" udp 7778 2001:db8:7::3 2001:db8:1::9
check "a port no rule forwards is left to the admin's firewall" reaches_from "$LAN1" tcp 8000 2001:db8:7::2 2001:db8:1::9
check "the static IPv6 pinhole passes the guard" reaches_from "$LAN2" tcp 9999 2001:db8:7::3 2001:db8:1::10
trigger "$LAN1" tcp 7777 2001:db8:1::9
check "an IPv6 trigger opens a pinhole" wait_for v6 sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j list | jq -e 'any(.[]; .rule == \"game\" and .family == \"ipv6\" and .host == \"2001:db8:7::2\")'"
check "the triggering host is reachable" reaches_from "$LAN1" udp 7779 2001:db8:7::2 2001:db8:1::9
check "the other host is not" blocked_from "$LAN2" udp 7779 2001:db8:7::3 2001:db8:1::9
trigger "$LAN1" tcp 7777
check "IPv4 is not guarded: the DNAT forwarding works" wait_for v4 has_forwarding game 192.168.7.2
check "udp 7780 to the WAN address reaches LAN1" reaches "$LAN1" udp 7780
check "flush" ctl flush
check "after the flush the pinhole is closed" blocked_from "$LAN1" udp 7778 2001:db8:7::2 2001:db8:1::9

# switched off by a reload: the admin's policy alone decides again
conf guard <<'C'
pinhole-guard off
rule game trigger 7777/tcp forward 7777-7780/udp timeout 2m
rule static6 forward 9999/tcp to 2001:db8:7::3
C
check "reload with pinhole-guard off" ctl reload
check "guard6 is empty" rtr sh -c "nft -j list set inet ipautofw guard6 | jq -e '.nftables[1].set.elem == null'"
check "without the guard the admin's range reaches LAN2 (the hole the guard closes)" reaches_from "$LAN2" udp 7778 2001:db8:7::3 2001:db8:1::9
conf guard <<'C'
pinhole-guard on
pinhole-guard on
rule game trigger 7777/tcp forward 7777-7780/udp timeout 2m
C
check_not "pinhole-guard given twice is refused" ctl reload
finish
