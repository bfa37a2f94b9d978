#!/bin/bash
# The seed's RealAudio rule end to end: trigger, forwarding, expiry.
. "$(dirname "$0")/lib.sh"
topo_up
conf realaudio <<'C'
rule realaudio trigger 7070/tcp forward 6970-7170/udp timeout 3s
C
start_daemon

check "table inet ipautofw exists" rtr nft list table inet ipautofw
check "WAN found from the default route" wait_for wan rtr sh -c 'nft list set inet ipautofw wanif | grep -q veth-wan'
check_not "no forwarding before a trigger" has_forwarding realaudio 192.168.7.2
check "udp 7000 blocked before the trigger" blocked "$LAN1" udp 7000

trigger "$LAN1" tcp 7070
check "trigger opens the forwarding" wait_for fwd has_forwarding realaudio 192.168.7.2
check "udp 6970 reaches the triggering host" reaches "$LAN1" udp 6970
check "udp 7170 reaches the triggering host" reaches "$LAN1" udp 7170
check "udp 7171 (outside the range) is blocked" blocked "$LAN1" udp 7171
check "tcp 7000 (other protocol) is blocked" blocked "$LAN1" tcp 7000
check "the other LAN host gets nothing" blocked "$LAN2" udp 7001

json=$(ctl -j list)
check "list -j is the contract shape" jq -e '.[0] | .rule == "realaudio" and .family == "ipv4"
	and .proto == "udp" and .port_min == 6970 and .port_max == 7170 and .host == "192.168.7.2"
	and .peer == null and (.expires | type == "number") and .expires <= 3 and .static == false' <<<"$json"
check "human list shows the row and a footer" sh -c "'$IPAUTOFWCTL' -s '$SOCK' list | grep -q '^realaudio  *ipv4  *udp  *6970-7170  *192.168.7.2 ' && '$IPAUTOFWCTL' -s '$SOCK' list | grep -q '^1 forwarding, 1 rule$'"

# expiry: the kernel removes the element, the daemon its entry
check "forwarding expires" wait_for gone sh -c "! '$IPAUTOFWCTL' -s '$SOCK' -j list | jq -e 'length > 0'"
check "kernel element expired too" sh -c "! ip netns exec '$RTR' nft list map inet ipautofw act4_realaudio | grep -q 192.168.7.2"
check "udp 7000 blocked after expiry" blocked "$LAN1" udp 7000

# the daemon's own figure, for the record
ctl status | grep latency

check "SIGTERM exits 0" stop_daemon
check_not "SIGTERM removed the table" rtr nft list table inet ipautofw
finish
