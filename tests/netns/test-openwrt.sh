#!/bin/bash
# OpenWrt: the package's fw4 include (openwrt/files/ipautofw.nft) in the
# default fw4 ruleset (fw4-default.nft, where fw4 includes
# /usr/share/nftables.d/chain-pre/forward/), the daemon configured by a
# UCI file and a rule file side by side, wan given as a zone name that the
# names file resolves. The include lets in exactly what ipautofw forwards:
# an IPv4 forwarding and a static rule's DNAT, an IPv6 pinhole; nothing
# else from WAN. A flush of fw4's table and its reload leave the
# forwardings working; a changed names file is followed on SIGHUP.
. "$(dirname "$0")/lib.sh"
topo_up
rtr nft delete table inet admin
INCLUDE=$(cd "$(dirname "$0")/../../openwrt/files" && pwd)/ipautofw.nft

FW4="$TMP/fw4.nft"
sed "s|^@CHAIN_PRE_FORWARD@\$|\t\tinclude \"$INCLUDE\"|" "$(dirname "$0")/fw4-default.nft" >"$FW4"
check "nft -c: the include in fw4's forward chain" rtr nft -c -f "$FW4"
check "fw4 loads with it" rtr nft -f "$FW4"
check "the include's two rules are in fw4's forward chain" \
	sh -c "ip netns exec '$RTR' nft list chain inet fw4 forward | grep -c '!ipautofw:' | grep -qx 2"
# the router's IPv6 neighbours, so that nothing is blocked only for want of one
"$NSPROBE" udp "$RTR" "$LAN1" 2001:db8:7::2 5 1000 >/dev/null
"$NSPROBE" udp "$RTR" "$LAN2" 2001:db8:7::3 5 1000 >/dev/null
"$NSPROBE" udp "$RTR" "$WAN" 2001:db8:1::9 5 1000 >/dev/null

cat >"$TMP/ipautofw" <<'U'
config globals 'globals'
	option enabled '1'
	option wan 'wan'

config rule 'realaudio'
	list trigger '7070/tcp'
	list forward '6970-7170/udp'
	option timeout '5m'
U
echo "wan veth-wan" >"$TMP/ifnames"
conf game <<'C'
rule game forward 27015/udp to 192.168.7.3
C
start_daemon -u "$TMP/ipautofw" --ifnames "$TMP/ifnames"
check "both rules, from UCI and the rule file" sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j rules | jq -e 'map(.name) | sort == [\"game\", \"realaudio\"]'"
check "wan 'wan' is the zone's device" sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j status | jq -e '.wan == [\"veth-wan\"]'"
check "status: fw4 no longer drops forwardings" sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j status | jq -e '.warnings == []'"
trigger "$LAN1" tcp 7070
trigger "$LAN1" tcp 7070 2001:db8:1::9
check "the IPv4 trigger opens" wait_for t4 has_forwarding realaudio 192.168.7.2
check "and the IPv6 one" wait_for t6 has_forwarding realaudio 2001:db8:7::2

check "the IPv4 forwarding reaches LAN1" reaches "$LAN1" udp 7000
check "the IPv6 pinhole reaches LAN1" reaches_from "$LAN1" udp 7001 2001:db8:7::2 2001:db8:1::9
check "the static rule reaches LAN2" reaches "$LAN2" udp 27015
check "not a port outside the forwards, IPv4" blocked "$LAN1" udp 7300
check "nor routed to LAN1's own address, not DNATed" blocked_from "$LAN1" udp 7002 192.168.7.2 203.0.113.9
check "nor IPv6 to LAN1 outside the pinhole's ports" blocked_from "$LAN1" udp 8000 2001:db8:7::2 2001:db8:1::9
check "nor IPv6 to LAN2, which holds no pinhole" blocked_from "$LAN2" udp 7003 2001:db8:7::3 2001:db8:1::9
check "nor IPv6 to LAN2 on a static IPv4 rule's port" blocked_from "$LAN2" udp 27015 2001:db8:7::3 2001:db8:1::9

check "flush table inet fw4" rtr nft flush table inet fw4
check "and fw4 reloads with the include" rtr nft -f "$FW4"
check "the forwarding still reaches LAN1" reaches "$LAN1" udp 7004
check "the pinhole too" reaches_from "$LAN1" udp 7005 2001:db8:7::2 2001:db8:1::9
check "and still nothing else" blocked_from "$LAN2" udp 7006 2001:db8:7::3 2001:db8:1::9

# the WAN's device changes (a PPP session ends): the init script writes
# the names file again, procd sends SIGHUP
echo "wan ppp-gone" >"$TMP/ifnames"
kill -HUP "$DAEMON_PID"
check "SIGHUP: wan follows the names file" wait_for wan sh -c "ip netns exec '$RTR' nft list set inet ipautofw wanif | grep -q '\"ppp-gone\"'"
check "nothing comes in on veth-wan any more" blocked "$LAN1" udp 7007
echo "wan veth-wan" >"$TMP/ifnames"
kill -HUP "$DAEMON_PID"
check "back on veth-wan" wait_for wan sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j status | jq -e '.wan == [\"veth-wan\"]'"
check "the forwarding kept through both reloads" reaches "$LAN1" udp 7008
check "a clean stop" stop_daemon
finish
