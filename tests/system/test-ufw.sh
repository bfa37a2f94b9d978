#!/bin/bash
# ipautofw beside ufw (Debian 12's 0.36.2 on iptables-nft), as the README
# tells an administrator to set it up: DEFAULT_FORWARD_POLICY="DROP", the
# LAN routed to the WAN, masquerade in before.rules, and the two lines for
# ipautofw in before.rules and before6.rules. Real traffic from an outside
# host to two LAN hosts; status warnings before and after the lines;
# ufw reload; a trigger ufw rejects, in both start orders.
. "$(dirname "$0")/lib.sh"

sys_setup
sys_install_project
cat >"$ROOT/etc/ipautofw.d/apps.conf" <<'EOF'
rule realaudio trigger 7070/tcp forward 6970-7170/udp timeout 5m
rule rejected trigger 7071/tcp forward 7171-7180/udp timeout 5m family ipv4
EOF
sys_boot
sys_topo
# a second LAN host, on a second LAN interface
sys_lan2

ctl() { ct ipautofwctl "$@"; }
status() { ctl -j status | jq -r "$1"; }
warnings() { ctl -j status | jq -r '.warnings[]'; }
has() { ctl -j list | jq -e --arg r "$1" --arg h "$2" 'any(.[]; .rule == $r and .host == $h)' >/dev/null; }
trigger6() { ct nsprobe trigger "$1" lan 2001:db8:1::9 "$2" >/dev/null 2>&1; }
reaches6() { ct nsprobe udp wan "$1" "$2" "$3" 1000 >/dev/null 2>&1; }
blocked6() { ! ct nsprobe udp wan "$1" "$2" "$3" 300 >/dev/null 2>&1; }
ct_sh 'nsprobe udp rtr lan 2001:db8:7::2 5 500; nsprobe udp rtr lan2 2001:db8:8::2 5 500;
	nsprobe udp rtr wan 2001:db8:1::9 5 500' >/dev/null 2>&1

echo "# ufw: forward policy drop, the LAN routed to the WAN, masquerade"
ct_sh 'sed -i "s/^DEFAULT_FORWARD_POLICY=.*/DEFAULT_FORWARD_POLICY=\"DROP\"/" /etc/default/ufw'
# ufw applies its sysctl.conf on every start: forwarding goes there
printf 'net/ipv4/ip_forward=1\nnet/ipv6/conf/default/forwarding=1\nnet/ipv6/conf/all/forwarding=1\n' \
	>>"$ROOT/etc/ufw/sysctl.conf"
{
	printf '*nat\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -o veth-wan -j MASQUERADE\nCOMMIT\n'
	cat "$ROOT/etc/ufw/before.rules"
} >"$TMP/before.rules" && cp "$TMP/before.rules" "$ROOT/etc/ufw/before.rules"
check "systemctl unmask ufw" quiet ct systemctl unmask ufw
check "ufw --force enable" quiet ct ufw --force enable
check "ufw route allow in on veth-lan out on veth-wan" quiet ct ufw route allow in on veth-lan out on veth-wan
check "ufw route allow in on veth-lan2 out on veth-wan" quiet ct ufw route allow in on veth-lan2 out on veth-wan
check "systemctl start ipautofw" ct systemctl start ipautofw

echo "# before the administrator's lines"
w=$(warnings)
check "status: table ip filter, chain FORWARD drops IPv4 forwardings" grep -q "^table ip filter, chain FORWARD drops IPv4 forwardings (rule realaudio, 6970-7170/udp, and 1 more): accept them with 'ct status dnat accept'" <<<"$w"
check "status: table ip6 filter, chain FORWARD drops IPv6 pinholes" grep -q "^table ip6 filter, chain FORWARD drops IPv6 pinholes (rule realaudio, 6970-7170/udp): accept them with 'meta mark and 0x10000000 == 0x10000000 accept'" <<<"$w"
check "two warnings" test "$(status '.warnings | length')" = 2
check "the LAN host connects to tcp 7070 outside (ufw route allow)" trigger tcp 7070
check "a forwarding opens" wait_for 5 has realaudio 192.168.7.2
check_not "which ufw drops" reaches udp 7000 300
trigger6 tcp 7070
check "an IPv6 trigger opens a pinhole" wait_for 5 has realaudio 2001:db8:7::2
check "which ufw drops too" blocked6 lan 2001:db8:7::2 7000

echo "# the two lines, then ufw reload"
ct_sh "sed -i '/^-A ufw-before-forward -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT/a -A ufw-before-forward -m conntrack --ctstate DNAT -j ACCEPT' /etc/ufw/before.rules"
ct_sh "sed -i '/^-A ufw6-before-forward -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT/a -A ufw6-before-forward -m mark --mark 0x10000000/0x10000000 -j ACCEPT' /etc/ufw/before6.rules"
lines_in() { ct grep -q -- '--ctstate DNAT -j ACCEPT' /etc/ufw/before.rules && ct grep -q -- '--mark 0x10000000/0x10000000 -j ACCEPT' /etc/ufw/before6.rules; }
check "the lines are in before.rules and before6.rules" lines_in
check "ufw reload" quiet ct ufw reload
as_nft() { ct nft list ruleset 2>/dev/null | grep -q 'ct status dnat .*accept' && ct nft list ruleset 2>/dev/null | grep -q 'meta mark & 0x10000000 == 0x10000000 .*accept'; }
check "nft lists 'ct status dnat accept' and the mark line" as_nft
check "status is quiet" test "$(status '.warnings | length')" = 0
check "IPv4: udp 7001 from outside reaches the LAN host" reaches udp 7001
check "IPv6: the pinhole reaches the triggering host" reaches6 lan 2001:db8:7::2 7001
check "and no other LAN host" blocked6 lan2 2001:db8:8::2 7001

echo "# ufw reload keeps every forwarding"
check "ufw reload" quiet ct ufw reload
check "IPv4 forwarding kept" reaches udp 7002
check "IPv6 pinhole kept" reaches6 lan 2001:db8:7::2 7002
check "both listed" test "$(ctl -j list | jq '[.[] | select(.rule == "realaudio")] | length')" = 2
check "ipautofwctl flush" quiet ctl flush
check "the IPv6 pinhole is closed" blocked6 lan 2001:db8:7::2 7003
check_not "IPv4 is closed" reaches udp 7003 300

echo "# a trigger ufw rejects opens nothing, in both start orders"
check "ufw route insert 1 reject ... port 7071" quiet ct ufw route insert 1 reject in on veth-lan out on veth-wan proto tcp to any port 7071
rejected_opens_nothing() {
	local seen
	seen=$(status .triggers_seen)
	trigger tcp 7071
	trigger tcp 7070
	# NFLOG keeps the order: once the later trigger is served, the first was too
	wait_for 5 has realaudio 192.168.7.2 &&
		! has rejected 192.168.7.2 && test "$(status .triggers_seen)" = $((seen + 1))
}
check "ipautofw started after ufw: nothing opens" rejected_opens_nothing
check "ufw disable" quiet ct ufw disable
check "systemctl restart ipautofw" ct systemctl restart ipautofw
check "ufw --force enable (after ipautofw)" quiet ct ufw --force enable
check "ipautofw started before ufw: nothing opens" rejected_opens_nothing
check_not "udp 7175 reaches nobody" reaches udp 7175 300
finish
