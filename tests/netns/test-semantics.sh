#!/bin/bash
# DESIGN §2 semantics against the real kernel: several triggers for one
# range, two forward protocols, last host wins, exclusive, static rules,
# packets from the WAN side never trigger, refresh.
. "$(dirname "$0")/lib.sh"
topo_up
conf 10-apps <<'C'
# the seed's X sessions: three control ports, one range
rule x11 trigger 23/tcp,177/udp,6000/tcp forward 6000-6100/tcp timeout 1m
rule webphone trigger 21845/tcp forward 21845/tcp,21845/udp
rule excl trigger 5555/tcp forward 15000-15010/udp exclusive timeout 1m
rule game forward 27015-27030/udp to 192.168.7.3
rule refresh trigger 4444/udp forward 14000/udp timeout 4s
C
start_daemon

# several triggers, one range
trigger "$LAN1" udp 177
check "udp 177 triggers x11" wait_for x11 has_forwarding x11 192.168.7.2
check "tcp 6050 reaches LAN1" reaches "$LAN1" tcp 6050
trigger "$LAN2" tcp 23
check "tcp 23 from LAN2 takes x11 over" wait_for x11b has_forwarding x11 192.168.7.3
check_not "LAN1 no longer holds x11" has_forwarding x11 192.168.7.2
check "tcp 6050 now reaches LAN2" reaches "$LAN2" tcp 6050
check "and not LAN1" blocked "$LAN1" tcp 6051
trigger "$LAN1" tcp 6000
check "tcp 6000 from LAN1: last host wins again" wait_for x11c has_forwarding x11 192.168.7.2
check "tcp 6099 reaches LAN1" reaches "$LAN1" tcp 6099

# two forward protocols on one rule
trigger "$LAN2" tcp 21845
check "webphone opens" wait_for wp has_forwarding webphone 192.168.7.3
check "webphone udp 21845 reaches LAN2" reaches "$LAN2" udp 21845
check "webphone tcp 21845 reaches LAN2" reaches "$LAN2" tcp 21845
check "webphone lists both protocols" sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j list | jq -e '[.[] | select(.rule == \"webphone\") | .proto] | sort == [\"tcp\", \"udp\"]'"

# exclusive: the first host keeps it
trigger "$LAN1" tcp 5555
check "exclusive opens for LAN1" wait_for ex has_forwarding excl 192.168.7.2
trigger "$LAN2" tcp 5555
check "exclusive refuses LAN2 (counted)" wait_for refused sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j status | jq -e '.refused == 1'"
check "exclusive still LAN1" has_forwarding excl 192.168.7.2
check "exclusive range still reaches LAN1" reaches "$LAN1" udp 15005

# static rule: always on, no timeout
check "static rule listed as static" sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j list | jq -e 'any(.[]; .rule == \"game\" and .static and .expires == null and .host == \"192.168.7.3\")'"
check "static forward reaches LAN2" reaches "$LAN2" udp 27020

# the WAN side never triggers, even where the admin forwards it
rtr nft insert rule inet admin forward iifname veth-wan accept
"$NSPROBE" trigger tcp "$WAN" 192.168.7.2 5060 >/dev/null
"$NSPROBE" trigger tcp "$WAN" 192.168.7.2 21845 >/dev/null
sleep 0.3	# a negative: give a (wrong) trigger time to show
check "WAN-side connection to a trigger port opened nothing" sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j status | jq -e '.triggers_seen == 6'"

# refresh: a new trigger connection extends the expiry (timed against the
# clock, not by sleeping: the kernel matrix runs this under emulation)
t0=$(date +%s%3N)
trigger "$LAN1" udp 4444
check "refresh rule opens" wait_for rf has_forwarding refresh 192.168.7.2
expires() { ctl -j list | jq -r '.[] | select(.rule == "refresh") | .expires'; }
half_gone() { [ "$(expires)" -le 2 ]; }
check "half the 4 s gone" wait_for half half_gone
trigger "$LAN1" udp 4444
check "second trigger refreshes (counted)" wait_for rf2 sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j status | jq -e '.refreshed >= 1'"
check "the expiry moved on" test "$(expires)" -ge 3
past_first() { [ $(($(date +%s%3N) - t0)) -ge 4400 ]; }
wait_for first past_first
check "still open past the first trigger's 4 s" reaches "$LAN1" udp 14000
check "kernel expiry was refreshed too" rtr sh -c 'nft list map inet ipautofw act4_refresh | grep -q "ipv4 .* : 192.168.7.2"'
finish
