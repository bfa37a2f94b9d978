#!/bin/bash
# Conntrack hygiene: a UDP stream from a fixed outside port that started
# before the trigger reaches the host once the forwarding opens; after a
# takeover the same stream arrives at the new host within a second; after
# a flush it stops; expiry alone does not cut it.
. "$(dirname "$0")/lib.sh"
topo_up
conf ra <<'C'
rule realaudio trigger 7070/tcp forward 6970-7170/udp timeout 3s
C
start_daemon
# the stream starts before any trigger: conntrack pins it, un-NATed, to the router
"$NSPROBE" stream "$WAN" 203.0.113.1 7000 40000 12000 &
stream=$!
got() { "$NSPROBE" listen "$1" 7000 "$2" | grep -q "received from 203.0.113.9 port 40000"; }
check "before the trigger the stream reaches nobody" sh -c "! '$NSPROBE' listen '$LAN1' 7000 300 >/dev/null"
check "the router tracks it un-NATed" rtr sh -c 'conntrack -L -p udp --orig-port-dst 7000 2>/dev/null | grep -v "dst=192.168" | grep -q 203.0.113.1'
trigger "$LAN1" tcp 7070
check "after the trigger the running stream reaches LAN1" got "$LAN1" 1000
trigger "$LAN2" tcp 7070
check "after a takeover the same stream reaches LAN2 within a second" got "$LAN2" 1000
check "and no longer LAN1" wait_for gone1 sh -c "! '$NSPROBE' listen '$LAN1' 7000 300 >/dev/null"
check "status counts the deleted entries" sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j status | jq -e '.conntrack_deleted >= 2'"
# expiry alone keeps the established stream (the 1996 behaviour)
check "the forwarding expires" wait_for exp sh -c "! '$IPAUTOFWCTL' -s '$SOCK' -j list | jq -e 'length > 0'"
check "but the running stream still reaches LAN2" got "$LAN2" 1000
# a flush cuts the flows of the forwarding it closes
trigger "$LAN2" tcp 7070
wait_for again has_forwarding realaudio 192.168.7.3
check "flush" ctl flush realaudio
check "after a flush the stream stops reaching LAN2" wait_for stop sh -c "! '$NSPROBE' listen '$LAN2' 7000 300 >/dev/null"
kill "$stream" 2>/dev/null
wait "$stream" 2>/dev/null
finish
