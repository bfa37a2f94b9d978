#!/bin/bash
# Crash and restart (DESIGN §2.8): a daemon killed with SIGKILL leaves its
# forwardings in force until their kernel timeouts and no longer; a new
# daemon adopts them with their remaining time, loses none and duplicates
# none.
. "$(dirname "$0")/lib.sh"
topo_up
conf r <<'C'
rule realaudio trigger 7070/tcp forward 6970-7170/udp,7070/tcp timeout 1m
rule short trigger 4444/udp forward 14000/udp timeout 3s
rule voip trigger 5060/udp forward 10000-10100/udp peer timeout 1m
rule game forward 27015/udp to 192.168.7.3
C
start_daemon
# An owned table must also persist to outlive its owner; a kernel without
# PERSIST gets a table nobody owns, which outlives a crash as well.
# (nft 1.0.6 does not print persist: ask the daemon's log.)
check "the table outlives its owner: owned and persistent, or not owned" \
	grep -qE "created \((owner, persist|not owned)" "$TMP/daemon.log"
trigger "$LAN1" tcp 7070
trigger "$LAN2" udp 4444
trigger "$LAN2" udp 5060 203.0.113.10
check "three forwardings open" wait_for three sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j list | jq -e '[.[] | select(.static | not)] | length == 4'"

kill -9 "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=
check "after SIGKILL the table is still there" rtr nft list table inet ipautofw
check "and the forwarding still works" reaches "$LAN1" udp 7000
check "the peer forwarding too" reaches_from "$LAN2" udp 10005 203.0.113.1 203.0.113.10
# nft -n: protocols as numbers (17 udp) whatever /etc/protocols holds
check "the short one is in the kernel" rtr sh -c "nft list map inet ipautofw act4_short | grep -q ': 192.168.7.3'"
check "the kernel closes the short one on time, without a daemon" wait_for short sh -c "! ip netns exec '$RTR' nft list map inet ipautofw act4_short | grep -q ': 192.168.7.3'"
check "and it no longer forwards" blocked "$LAN2" udp 14000

start_daemon
out=$(ctl -j list)
check "the restarted daemon adopted realaudio (both ranges, once each)" jq -e '[.[] | select(.rule == "realaudio" and .host == "192.168.7.2")] | length == 2' <<<"$out"
check "with its remaining time" jq -e 'all(.[] | select(.rule == "realaudio"); .expires > 30 and .expires <= 60)' <<<"$out"
check "and the peer forwarding with its peer" jq -e 'any(.[]; .rule == "voip" and .host == "192.168.7.3" and .peer == "203.0.113.10")' <<<"$out"
check "the expired one stays gone" jq -e 'all(.[]; .rule != "short")' <<<"$out"
check "the static one is there once" jq -e '[.[] | select(.rule == "game")] | length == 1' <<<"$out"
check "the log says so" grep -q "adopted 2 forwarding elements left by a previous ipautofwd" "$TMP/daemon.log"
check "adopted forwarding still works" reaches "$LAN1" udp 7001
trigger "$LAN2" tcp 7070
check "and can be taken over" wait_for take has_forwarding realaudio 192.168.7.3
check "by the new daemon, in the kernel" reaches "$LAN2" udp 7002
check "the rule's map holds one element, the new host" sh -c "ip netns exec '$RTR' nft list map inet ipautofw act4_realaudio | grep -q 'elements = { ipv4 .* : 192.168.7.3 }'"

# A crash, then the table deleted while no daemon runs (a firewall reload's
# flush does the same to a table nobody owns): the daemon started again puts
# the forwardings back from the file it keeps beside its socket.
check "the daemon keeps its forwardings in a file" wait_for saved grep -q "^fwd realaudio ipv4 192.168.7.3 " "$TMP/forwardings"
kill -9 "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=
rtr nft delete table inet ipautofw
check "with the table gone, nothing is forwarded" blocked "$LAN2" udp 7003
start_daemon
out=$(ctl -j list)
check "the restarted daemon put the takeover back" jq -e '[.[] | select(.rule == "realaudio" and .host == "192.168.7.3")] | length == 2' <<<"$out"
check "with its remaining time" jq -e 'all(.[] | select(.rule == "realaudio"); .expires > 30 and .expires <= 60)' <<<"$out"
check "and the peer forwarding" jq -e 'any(.[]; .rule == "voip" and .host == "192.168.7.3" and .peer == "203.0.113.10")' <<<"$out"
check "the log says where from" grep -q "put back 2 forwardings from $TMP/forwardings" "$TMP/daemon.log"
check "and it forwards again" reaches "$LAN2" udp 7004
stop_daemon
check "a clean stop leaves no file to put back" test ! -e "$TMP/forwardings"
finish
