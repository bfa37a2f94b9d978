#!/bin/bash
# ipautofw beside firewalld (Debian 12's 1.3.3), as the README tells an
# administrator to set it up: zones external (WAN) and internal (LAN), a
# policy for LAN -> WAN forwarding, and for IPv6 a policy external ->
# internal for the forward ports plus `pinhole-guard on`. Real traffic
# from an outside host to two LAN hosts; status warnings before and after
# the administrator's lines; firewall-cmd --reload and a firewalld restart;
# a trigger firewalld rejects, in both start orders.
. "$(dirname "$0")/lib.sh"

sys_setup
sys_install_project
cat >"$ROOT/etc/ipautofw.d/apps.conf" <<'EOF'
pinhole-guard on
rule realaudio trigger 7070/tcp forward 6970-7170/udp timeout 5m
rule rejected trigger 7071/tcp forward 7171-7180/udp timeout 5m family ipv4
EOF
sys_boot
sys_topo
# a second LAN host, on a second LAN interface in the same zone
sys_lan2

ctl() { ct ipautofwctl "$@"; }
fwcmd() { ct firewall-cmd "$@" >/dev/null; }
status() { ctl -j status | jq -r "$1"; }
warnings() { ctl -j status | jq -r '.warnings[]'; }
has() { ctl -j list | jq -e --arg r "$1" --arg h "$2" 'any(.[]; .rule == $r and .host == $h)' >/dev/null; }
trigger6() { ct nsprobe trigger "$1" lan 2001:db8:1::9 "$2" >/dev/null 2>&1; }
# reaches6 NS ADDR PORT: a new inbound UDP flow from outside to a LAN host's own address
reaches6() { ct nsprobe udp wan "$1" "$2" "$3" 1000 >/dev/null 2>&1; }
blocked6() { ! ct nsprobe udp wan "$1" "$2" "$3" 300 >/dev/null 2>&1; }
# the router resolves its neighbours once, so that no first reply waits
# for neighbour discovery longer than a probe does
ct_sh 'nsprobe udp rtr lan 2001:db8:7::2 5 500; nsprobe udp rtr lan2 2001:db8:8::2 5 500;
	nsprobe udp rtr wan 2001:db8:1::9 5 500' >/dev/null 2>&1

echo "# firewalld: zones, and the policy LAN -> WAN that 1.x needs to forward at all"
check "systemctl unmask --now firewalld" quiet ct systemctl unmask firewalld
check "systemctl start firewalld" ct systemctl start firewalld
check "veth-wan in zone external" fwcmd --permanent --zone=external --add-interface=veth-wan
internal() {
	fwcmd --permanent --zone=internal --add-interface=veth-lan &&
		fwcmd --permanent --zone=internal --add-interface=veth-lan2
}
check "veth-lan, veth-lan2 in zone internal" internal
# policy NAME FROM TO ARGS...: a new policy from zone FROM to zone TO
policy() {
	local name=$1 from=$2 to=$3
	shift 3
	fwcmd --permanent --new-policy="$name" &&
		fwcmd --permanent --policy="$name" --add-ingress-zone="$from" &&
		fwcmd --permanent --policy="$name" --add-egress-zone="$to" &&
		fwcmd --permanent --policy="$name" "$@"
}
check "policy lan-wan: internal -> external, target ACCEPT" policy lan-wan internal external --set-target=ACCEPT
check "firewall-cmd --reload" fwcmd --reload
check "systemctl start ipautofw (after firewalld, as at boot)" ct systemctl start ipautofw

echo "# before the administrator's IPv6 policy"
w=$(warnings)
check "status names filter_FORWARD for IPv6 pinholes" grep -q "^table inet firewalld, chain filter_FORWARD drops IPv6 pinholes (rule realaudio, 6970-7170/udp" <<<"$w"
check "and nothing for IPv4 (ct status dnat accept)" test "$(status '.warnings | length')" = 1
check "the LAN host connects to tcp 7070 outside" trigger tcp 7070
check "a forwarding opens" wait_for 5 has realaudio 192.168.7.2
check "IPv4: udp 7000 from outside reaches the LAN host" reaches udp 7000
trigger6 tcp 7070
check "an IPv6 trigger opens a pinhole" wait_for 5 has realaudio 2001:db8:7::2
check "which firewalld still rejects" blocked6 lan 2001:db8:7::2 7001

echo "# the policy external -> internal for the forward ports"
check "policy ipautofw: external -> internal, port 6970-7170/udp" policy ipautofw external internal --add-port=6970-7170/udp
check "firewall-cmd --reload" fwcmd --reload
check "status is quiet" test "$(status '.warnings | length')" = 0
check "the IPv6 pinhole reaches the triggering host" reaches6 lan 2001:db8:7::2 7002
check "and no other LAN host (pinhole-guard)" blocked6 lan2 2001:db8:8::2 7002
check "IPv4 still forwarded" reaches udp 7003

echo "# pinhole-guard is what keeps the other host out"
sed -i 's/^pinhole-guard on$/pinhole-guard off/' "$ROOT/etc/ipautofw.d/apps.conf"
check "systemctl reload ipautofw (pinhole-guard off)" ct systemctl reload ipautofw
open_warning() {
	warnings | grep -q "lets new IPv6 connections to the forward ports (rule realaudio, 6970-7170/udp) through to every LAN host, not only to pinholes: set 'pinhole-guard on'"
}
check "status: the policy lets IPv6 through to every LAN host" open_warning
check "and so it does: the other host is reached" reaches6 lan2 2001:db8:8::2 7004
sed -i 's/^pinhole-guard off$/pinhole-guard on/' "$ROOT/etc/ipautofw.d/apps.conf"
check "systemctl reload ipautofw (pinhole-guard on)" ct systemctl reload ipautofw
check "the other host is shut out again" blocked6 lan2 2001:db8:8::2 7005
check "the pinhole still reaches the triggering host" reaches6 lan 2001:db8:7::2 7005

echo "# firewalld reloads and restarts keep every forwarding"
check "firewall-cmd --reload" fwcmd --reload
check "IPv4 forwarding kept" reaches udp 7006
check "IPv6 pinhole kept" reaches6 lan 2001:db8:7::2 7006
check "systemctl restart firewalld" ct systemctl restart firewalld
policy_loaded() { ct nft list chain inet firewalld filter_FWD_policy_ipautofw_allow | grep -q 'dport 6970-7170 accept'; }
check "firewalld's rules are back" wait_for 10 policy_loaded
check "IPv4 forwarding kept" reaches udp 7007
check "IPv6 pinhole kept" reaches6 lan 2001:db8:7::2 7007
check "and still only to that host" blocked6 lan2 2001:db8:8::2 7007
check "both forwardings listed" test "$(ctl -j list | jq '[.[] | select(.rule == "realaudio")] | length')" = 2

echo "# flush closes the pinhole"
check "ipautofwctl flush" quiet ctl flush
check "the IPv6 pinhole is closed" blocked6 lan 2001:db8:7::2 7008
check_not "IPv4 is closed" reaches udp 7008 300

echo "# a trigger firewalld rejects opens nothing, in both start orders"
check "a rich rule rejects tcp 7071 from LAN to WAN" fwcmd --permanent --policy=lan-wan --add-rich-rule='rule port port="7071" protocol="tcp" reject'
check "firewall-cmd --reload" fwcmd --reload
# systemctl start returns once firewalld is on the bus, not once its rules
# are in the kernel
rejecting() { ct nft list chain inet firewalld filter_FWD_policy_lan-wan_deny | grep -q 'dport 7071 reject'; }
check "the reject is in firewalld's ruleset" wait_for 10 rejecting
rejected_opens_nothing() {
	local seen
	seen=$(status .triggers_seen)
	trigger tcp 7071
	trigger tcp 7070
	# NFLOG keeps the order: once the later trigger is served, the first was too
	wait_for 5 has realaudio 192.168.7.2 &&
		! has rejected 192.168.7.2 && test "$(status .triggers_seen)" = $((seen + 1))
}
check "ipautofw started after firewalld: nothing opens" rejected_opens_nothing
check "systemctl stop firewalld" ct systemctl stop firewalld
check "systemctl restart ipautofw" ct systemctl restart ipautofw
check "systemctl start firewalld (after ipautofw)" ct systemctl start firewalld
check "the reject is in firewalld's ruleset again" wait_for 10 rejecting
check "ipautofw started before firewalld: nothing opens" rejected_opens_nothing
check_not "udp 7175 reaches nobody" reaches udp 7175 300
finish
