#!/bin/bash
# Switching rules: `disabled` in a rule file, enable/disable at run time
# with traffic checks (disabling cuts the rule's running streams as a flush
# does), a switch kept through reloads while the rule exists and dropped
# with it, and the state in `rules`.
. "$(dirname "$0")/lib.sh"
: "${IPAUTOFW:?}"
topo_up
conf ra <<'C'
rule realaudio trigger 7070/tcp forward 6970-7170/udp timeout 5m
rule quiet trigger 7071/tcp forward 8000/udp disabled
rule game forward 27015/udp to 192.168.7.3 disabled
C
start_daemon
# a trigger that must not open anything: give it a second to be wrongly served
stays_closed() { ! wait_for_ms 1000 has_forwarding "$1" "$2"; }
wait_for_ms() {
	local i
	for i in $(seq $(($1 / 50))); do
		"${@:2}" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	return 1
}
in_trigger_set() { rtr nft -j list set inet ipautofw triggers | jq -e --argjson p "$1" '[.. | numbers] | index($p) != null' >/dev/null; }
rule_is() { ctl -j rules | jq -e --arg n "$1" "any(.[]; .name == \$n and $2)" >/dev/null; }

check "rules: a disabled rule is listed, disabled" rule_is quiet '.enabled == false and .switched == false and .forwardings == 0 and .last_triggered == null'
check "rules: human form says so" sh -c "'$IPAUTOFWCTL' -s '$SOCK' rules | grep -A1 '^rule quiet ' | grep -q '# .*conf.d/ra.conf:2; disabled, 0 forwardings, never triggered'"
trigger "$LAN1" tcp 7071
trigger "$LAN1" tcp 7070
check "an enabled rule in the same file opens" wait_for fwd has_forwarding realaudio 192.168.7.2
check_not "a disabled rule never opens" has_forwarding quiet 192.168.7.2
check "its ports stay closed" blocked "$LAN1" udp 8000
check "a disabled static rule forwards nothing" blocked "$LAN2" udp 27015
check "the kernel's trigger set holds 7070" in_trigger_set 7070
check_not "but not 7071" in_trigger_set 7071
check "rules: forwardings and last trigger counted" rule_is realaudio '.enabled == true and .forwardings == 1 and .last_triggered >= 0'

# disable at run time, with a stream running through the forwarding
"$NSPROBE" stream "$WAN" 203.0.113.1 7000 40001 10000 &
stream=$!
got() { "$NSPROBE" listen "$1" 7000 "$2" | grep -q "received from 203.0.113.9 port 40001"; }
check "the stream reaches LAN1" got "$LAN1" 1000
check "disable needs a name" sh -c "'$IPAUTOFWCTL' -s '$SOCK' disable; [ \$? = 2 ]"
check "disable of no rule fails" sh -c "'$IPAUTOFWCTL' -s '$SOCK' disable nosuch 2>&1; [ \$? = 1 ]"
out=$(ctl disable realaudio)
check "disable realaudio closes its forwarding ($out)" grep -q "rule 'realaudio' disabled: 1 forwarding closed" <<<"$out"
check "the list is empty" sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j list | jq -e 'length == 0'"
check "and the running stream stops, as after a flush" wait_for stop sh -c "! '$NSPROBE' listen '$LAN1' 7000 300 >/dev/null"
kill "$stream" 2>/dev/null
wait "$stream" 2>/dev/null
check "a new flow is blocked" blocked "$LAN1" udp 6980
trigger "$LAN1" tcp 7070
check "a trigger opens nothing now" stays_closed realaudio 192.168.7.2
check_not "the kernel's trigger set no longer holds 7070" in_trigger_set 7070
check "rules: disabled at run time" rule_is realaudio '.enabled == false and .switched == true and .forwardings == 0'
check "disable again is no change" sh -c "'$IPAUTOFWCTL' -s '$SOCK' disable realaudio | grep -q 'already disabled'"

# kept through a reload while the rule exists
check "reload" ctl reload
check "reload keeps the runtime switch" rule_is realaudio '.enabled == false and .switched == true'
trigger "$LAN1" tcp 7070
check "still no forwarding after the reload" stays_closed realaudio 192.168.7.2

# enable at run time
check "enable quiet (disabled in its file)" ctl enable quiet
trigger "$LAN2" tcp 7071
check "quiet opens for LAN2" wait_for fwd has_forwarding quiet 192.168.7.3
check "udp 8000 reaches LAN2" reaches "$LAN2" udp 8000
check "enable game (static)" ctl enable game
check "the static forward works at once" reaches "$LAN2" udp 27015
check "enable realaudio" ctl enable realaudio
trigger "$LAN1" tcp 7070
check "realaudio opens again" wait_for fwd has_forwarding realaudio 192.168.7.2
check "udp 6990 reaches LAN1" reaches "$LAN1" udp 6990
check "rules: human form says enabled at run time" sh -c "'$IPAUTOFWCTL' -s '$SOCK' rules | grep -A1 '^rule quiet ' | grep -q '; enabled at run time, 1 forwarding, last triggered '"

# the switch goes with the rule
conf ra <<'C'
rule realaudio trigger 7070/tcp forward 6970-7170/udp timeout 5m
rule game forward 27015/udp to 192.168.7.3 disabled
C
check "reload without quiet" ctl reload
conf ra <<'C'
rule realaudio trigger 7070/tcp forward 6970-7170/udp timeout 5m
rule quiet trigger 7071/tcp forward 8000/udp disabled
rule game forward 27015/udp to 192.168.7.3 disabled
C
check "reload with quiet back" ctl reload
check "quiet is as its file says again" rule_is quiet '.enabled == false and .switched == false'
check "game keeps its switch" rule_is game '.enabled == true and .switched == true'
check "realaudio kept its forwarding through both reloads" has_forwarding realaudio 192.168.7.2

# runtime rules switch too; the 1996 front-end is unchanged
check "add a runtime rule" ctl add rt trigger 7072/tcp forward 9000/udp
check "disable it" ctl disable rt
trigger "$LAN1" tcp 7072
check "it does not open" stays_closed rt 192.168.7.2
check "ipautofw -A still works" env IPAUTOFW_SOCKET="$SOCK" "$IPAUTOFW" -A -r udp 9100 9110 -c tcp 7073
trigger "$LAN1" tcp 7073
check "and its rule triggers" wait_for fwd sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j list | jq -e 'any(.[]; .port_min == 9100)'"
finish
