#!/bin/bash
# No WAN interface (no default route and no `wan`, or a `wan` that names
# nothing that exists): the daemon says so at start and whenever the WAN
# set becomes empty, says so again when it fills, and `status` shows the
# WAN and LAN interfaces in use with "no WAN interface" among its warnings.
. "$(dirname "$0")/lib.sh"
topo_up 1
conf ra <<'C'
rule realaudio trigger 7070/tcp forward 6970-7170/udp
C
rtr ip route del default
rtr ip -6 route del default
start_daemon
check "no default route at start: a warning" grep -q "no WAN interface: no default route and no 'wan' statement" "$TMP/daemon.log"
check "status shows no WAN" sh -c "'$IPAUTOFWCTL' -s '$SOCK' status | grep -q '^interfaces:  WAN none; LAN br-lan,veth-l2,veth-wan$'"
check "and warns" sh -c "'$IPAUTOFWCTL' -s '$SOCK' status | grep -q '^warning: no WAN interface'"
check "JSON: wan is empty, the warning listed" sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j status | jq -e '.wan == [] and any(.warnings[]; startswith(\"no WAN interface\"))'"
trigger "$LAN1" tcp 7070
check_not "nothing triggers" has_forwarding realaudio 192.168.7.2

rtr ip route add default via 203.0.113.9
check "a default route: the warning is cleared" wait_for clear grep -q "WAN interface now veth-wan: triggers can work again" "$TMP/daemon.log"
check "status shows the WAN and LAN interfaces in use" sh -c "'$IPAUTOFWCTL' -s '$SOCK' status | grep -q '^interfaces:  WAN veth-wan; LAN br-lan,veth-l2$'"
check "JSON too, and no warning" sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j status | jq -e '.wan == [\"veth-wan\"] and .lan == [\"br-lan\", \"veth-l2\"] and all(.warnings[]; startswith(\"no WAN\") | not)'"
trigger "$LAN1" tcp 7070
check "triggers work" wait_for fwd has_forwarding realaudio 192.168.7.2

rtr ip route del default
check "the route goes: warned again" wait_for again sh -c "test \$(grep -c 'no WAN interface' '$TMP/daemon.log') = 2"

# a wan statement with a typo: warned on reload; the interface appearing clears it
conf ra <<'C'
wan eht0
rule realaudio trigger 7070/tcp forward 6970-7170/udp
C
rtr ip route add default via 203.0.113.9
check "a default route again: cleared" wait_for clear2 sh -c "test \$(grep -c 'triggers can work again' '$TMP/daemon.log') = 2"
check "reload with 'wan eht0'" ctl reload
check "warned: nothing matches it" wait_for typo grep -q "no WAN interface: no interface matches 'wan eht0'" "$TMP/daemon.log"
check "status names it" sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j status | jq -e 'any(.warnings[]; . == \"no WAN interface: no interface matches '\"'\"'wan eht0'\"'\"'; nothing can trigger until one appears\")'"
rtr ip link add eht0 type veth peer name eht0p
check "the interface appears: cleared" wait_for link grep -q "WAN interface now eht0: triggers can work again" "$TMP/daemon.log"
check "warned three times, once each time the WAN set became empty" test "$(grep -c 'no WAN interface' "$TMP/daemon.log")" = 3
check "SIGTERM exits 0" stop_daemon
finish
