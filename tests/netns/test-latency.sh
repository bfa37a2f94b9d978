#!/bin/bash
# Trigger to usable forwarding, measured from outside the daemon: a LAN
# host opens tcp 7070, then the outside host sends datagrams (each from a
# fresh source port) until one reaches that host. The two LAN hosts take
# turns, so every round after the first is a takeover. Prints the figure;
# asserts only that every round was forwarded to the right host.
. "$(dirname "$0")/lib.sh"
topo_up
conf realaudio <<'C'
rule realaudio trigger 7070/tcp forward 6970-7170/udp timeout 5m
C
start_daemon
out=$("$NSPROBE" latency "$LAN1" "$WAN" 203.0.113.9 7070 203.0.113.1 7000 200 "$LAN2"); rc=$?
echo "$out"
check "all 200 triggers (199 takeovers) forwarded to the triggering host" test "$rc" = 0
ctl status | grep -E 'latency|forwardings'
check "daemon counted the takeovers" sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j status | jq -e '.taken_over == 199'"
finish
