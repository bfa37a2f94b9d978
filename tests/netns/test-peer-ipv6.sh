#!/bin/bash
# Beyond 1996: peer-bound forwardings (several hosts on one rule, each
# reached only by the peer it talked to) and IPv6 pinholes through an admin
# firewall with default drop, marked for its one accept line.
. "$(dirname "$0")/lib.sh"
topo_up
conf beyond <<'C'
rule voip trigger 5060/udp forward 10000-10100/udp peer timeout 2m
rule game trigger 7777/tcp forward 7777-7780/udp,7777/tcp timeout 2m
rule excl trigger 5061/udp forward 11000/udp peer exclusive timeout 2m
rule v6only trigger 8888/tcp forward 8888/tcp family ipv6
rule static6 forward 9999/tcp to 2001:db8:7::3
C
start_daemon

# ---- peer: two hosts, two peers, one rule
trigger "$LAN1" udp 5060 203.0.113.9
trigger "$LAN2" udp 5060 203.0.113.10
check "LAN1's voip forwarding, peer .9" wait_for p1 sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j list | jq -e 'any(.[]; .rule == \"voip\" and .host == \"192.168.7.2\" and .peer == \"203.0.113.9\")'"
check "LAN2's voip forwarding, peer .10, at the same time" wait_for p2 sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j list | jq -e 'any(.[]; .rule == \"voip\" and .host == \"192.168.7.3\" and .peer == \"203.0.113.10\")'"
check "peer .9 reaches LAN1" reaches_from "$LAN1" udp 10050 203.0.113.1 203.0.113.9
check "peer .10 reaches LAN2" reaches_from "$LAN2" udp 10050 203.0.113.1 203.0.113.10
check "a stranger (.11) is refused" blocked_from "$LAN1" udp 10051 203.0.113.1 203.0.113.11
check "and does not reach LAN2 either" blocked_from "$LAN2" udp 10052 203.0.113.1 203.0.113.11
check "the human list shows peers" sh -c "'$IPAUTOFWCTL' -s '$SOCK' list | grep -q '^voip .* 192.168.7.3 *203.0.113.10 '"
# same peer, other host: the forwarding for that peer moves
trigger "$LAN2" udp 5060 203.0.113.9
check "LAN2 takes peer .9 over" wait_for p3 sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j list | jq -e '[.[] | select(.rule == \"voip\" and .peer == \"203.0.113.9\")] | length == 1 and .[0].host == \"192.168.7.3\"'"
check "peer .9 now reaches LAN2" reaches_from "$LAN2" udp 10060 203.0.113.1 203.0.113.9

# ---- exclusive and peer together
trigger "$LAN1" udp 5061 203.0.113.9
check "exclusive peer rule opens for LAN1/.9" wait_for e1 sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j list | jq -e 'any(.[]; .rule == \"excl\" and .host == \"192.168.7.2\")'"
trigger "$LAN2" udp 5061 203.0.113.9
trigger "$LAN2" udp 5061 203.0.113.10
check "another host may use another peer" wait_for e2 sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j list | jq -e 'any(.[]; .rule == \"excl\" and .host == \"192.168.7.3\" and .peer == \"203.0.113.10\")'"
check "but not take the held peer" sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j list | jq -e '[.[] | select(.rule == \"excl\" and .peer == \"203.0.113.9\")] | length == 1 and .[0].host == \"192.168.7.2\"'"
check "the held peer still reaches LAN1" reaches_from "$LAN1" udp 11000 203.0.113.1 203.0.113.9

# ---- IPv6: a pinhole to the host's own address
check "before a trigger, IPv6 to LAN1 is dropped by the admin firewall" blocked_from "$LAN1" udp 7778 2001:db8:7::2 2001:db8:1::9
trigger "$LAN1" tcp 7777 2001:db8:1::9
check "an IPv6 trigger opens a pinhole" wait_for v6 sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j list | jq -e 'any(.[]; .rule == \"game\" and .family == \"ipv6\" and .host == \"2001:db8:7::2\")'"
check "udp 7778 to LAN1's address passes" reaches_from "$LAN1" udp 7778 2001:db8:7::2 2001:db8:1::9
check "tcp 7777 to LAN1's address passes" reaches_from "$LAN1" tcp 7777 2001:db8:7::2 2001:db8:1::9
check "a port outside the range stays closed" blocked_from "$LAN1" udp 7781 2001:db8:7::2 2001:db8:1::9
check "LAN2's address stays closed" blocked_from "$LAN2" udp 7778 2001:db8:7::3 2001:db8:1::9
check "the IPv4 side of the rule is untouched" blocked "$LAN1" udp 7778
check "the kernel pinhole is in the rule's pin6 set" rtr sh -c 'nft list set inet ipautofw pin6_game | grep -q "elements = { 2001:db8:7::2 "'
trigger "$LAN2" tcp 7777 2001:db8:1::9
check "IPv6 takeover moves the pinhole" wait_for v6b sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j list | jq -e 'any(.[]; .rule == \"game\" and .family == \"ipv6\" and .host == \"2001:db8:7::3\")'"
check "the new host's address passes" reaches_from "$LAN2" udp 7779 2001:db8:7::3 2001:db8:1::9
check "the old host's pinhole is closed" blocked_from "$LAN1" udp 7779 2001:db8:7::2 2001:db8:1::9
trigger "$LAN1" tcp 8888
sleep 0.3	# a negative: give a (wrong) forwarding time to appear
check_not "an IPv4 trigger does not fire a family ipv6 rule" has_forwarding v6only 192.168.7.2
check "a static IPv6 rule is a permanent pinhole" reaches_from "$LAN2" tcp 9999 2001:db8:7::3 2001:db8:1::10

# ---- status warns when the admin's ruleset would drop forwardings
check "the lab's admin firewall draws no warning" sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j status | jq -e '.warnings == []'"
check "the admin adds two strict tables" rtr nft -f - <<'NFT'
table ip strict {
	chain forward {
		type filter hook forward priority filter + 5; policy drop;
		ct state established,related accept
	}
}
table ip6 strict6 {
	chain forward {
		type filter hook forward priority filter + 5; policy drop;
		ct status dnat accept
	}
}
NFT
out=$(ctl status)
check "a drop-policy chain without 'ct status dnat accept' is named" grep -q "warning: table ip strict, chain forward drops IPv4 forwardings (rule voip, 10000-10100/udp, and 3 more): accept them with 'ct status dnat accept' before the drop" <<<"$out"
check "an IPv6 chain without the pinhole mark line is named" grep -q "warning: table ip6 strict6, chain forward drops IPv6 pinholes (rule voip, .*): accept them with 'meta mark and 0x10000000 == 0x10000000 accept'" <<<"$out"
check "two warnings in JSON" sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j status | jq -e '.warnings | length == 2'"
finish
