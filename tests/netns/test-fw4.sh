#!/bin/bash
# OpenWrt's fw4 as the administrator's firewall: its default ruleset (the
# one its own tests render, see fw4-default.nft) loaded in the router.
# Without the README's two lines ipautofwctl status names both problems and
# forwardings are rejected, triggers still work (fw4 accepts LAN -> WAN);
# with the lines (fw4's chain-pre/forward include) IPv4 and IPv6 pass and
# status is quiet; fw4 reloads, a flush of its table and a restart leave
# ipautofw's table and forwardings alone.
. "$(dirname "$0")/lib.sh"
topo_up
rtr nft delete table inet admin

FW4="$TMP/fw4.nft"
# the OpenWrt package's include: the README's two lines
cp "$(dirname "$0")/../../openwrt/files/ipautofw.nft" "$TMP/20-ipautofw.nft"
fw4_load() {	# fw4_load with|without: what `fw4 reload` does, nft -f of the whole ruleset
	if [ "$1" = with ]; then
		sed "s|^@CHAIN_PRE_FORWARD@\$|\t\tinclude \"$TMP/20-ipautofw.nft\"|" \
			"$(dirname "$0")/fw4-default.nft" >"$FW4"
	else
		sed '/^@CHAIN_PRE_FORWARD@$/d' "$(dirname "$0")/fw4-default.nft" >"$FW4"
	fi
	rtr nft -f "$FW4"
}
check "fw4's default ruleset loads" fw4_load without
# fill the router's IPv6 neighbour cache (see test-pinhole-guard.sh)
"$NSPROBE" udp "$RTR" "$LAN1" 2001:db8:7::2 5 1000 >/dev/null
"$NSPROBE" udp "$RTR" "$WAN" 2001:db8:1::9 5 1000 >/dev/null

conf fw4 <<'C'
rule realaudio trigger 7070/tcp forward 6970-7170/udp
C
start_daemon
out=$(ctl status)
check "status: fw4 drops IPv4 forwardings" grep -q "warning: table inet fw4, chain forward drops IPv4 forwardings (rule realaudio, 6970-7170/udp): accept them with 'ct status dnat accept' before the drop" <<<"$out"
check "status: and IPv6 pinholes" grep -q "warning: table inet fw4, chain forward drops IPv6 pinholes (rule realaudio, 6970-7170/udp)" <<<"$out"
check "two warnings, none for mangle_forward" sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j status | jq -e '.warnings | length == 2'"
trigger "$LAN1" tcp 7070
trigger "$LAN1" tcp 7070 2001:db8:1::9
check "fw4 accepts LAN -> WAN: the IPv4 trigger opens" wait_for t4 has_forwarding realaudio 192.168.7.2
check "and the IPv6 one" wait_for t6 has_forwarding realaudio 2001:db8:7::2
check "without the lines fw4 rejects the IPv4 forwarding" blocked "$LAN1" udp 7000
check "and the IPv6 pinhole" blocked_from "$LAN1" udp 7001 2001:db8:7::2 2001:db8:1::9

check "fw4 reload with the two lines" fw4_load with
check "status is quiet" sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j status | jq -e '.warnings == []'"
check "the IPv4 forwarding reaches LAN1" reaches "$LAN1" udp 7002
check "the IPv6 pinhole reaches LAN1" reaches_from "$LAN1" udp 7003 2001:db8:7::2 2001:db8:1::9
check "and not LAN2" blocked_from "$LAN2" udp 7003 2001:db8:7::3 2001:db8:1::9

check "fw4 reload again" fw4_load with
check "the forwarding survives the reload" reaches "$LAN1" udp 7004
check "flush table inet fw4" rtr nft flush table inet fw4
check "leaves ipautofw's table" rtr nft list table inet ipautofw
check "and reload" fw4_load with
check "the forwarding still reaches LAN1" reaches "$LAN1" udp 7005
check "the pinhole too" reaches_from "$LAN1" udp 7006 2001:db8:7::2 2001:db8:1::9
check "fw4 stop (delete its table) and start" sh -c "ip netns exec '$RTR' nft delete table inet fw4 && ip netns exec '$RTR' nft -f '$FW4'"
check "still forwarded" reaches "$LAN1" udp 7007
check "both forwardings still listed" sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j list | jq -e 'length == 2'"
check "nothing re-created our table" sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j status | jq -e '.table_rebuilds == 0'"
finish
