#!/bin/bash
# Somebody else rewrites the ruleset. An owned table survives
# `nft flush ruleset` untouched; with --no-owner (a table other tools may
# edit) the daemon notices the deletion through nf_tables events and
# re-creates the table with every live forwarding within a second. And
# the table stays readable: `nft list ruleset` with it active (forwardings
# the kernel added, static ones, peers, pinholes) loads back with
# `nft -c -f`, and `nft -j list ruleset` works.
. "$(dirname "$0")/lib.sh"
topo_up
conf ra <<'C'
rule realaudio trigger 7070/tcp forward 6970-7170/udp timeout 5m
rule voip trigger 5060/udp forward 10000-10100/udp peer timeout 2m
rule game forward 27015/udp to 192.168.7.3
C
start_daemon
trigger "$LAN1" tcp 7070
check "forwarding open" wait_for f has_forwarding realaudio 192.168.7.2
trigger "$LAN2" udp 5060
trigger "$LAN1" tcp 7070 2001:db8:1::9
check "peer and IPv6 forwardings open" wait_for pv sh -c "test \$('$IPAUTOFWCTL' -s '$SOCK' -j list | jq length) = 4"
rtr nft list ruleset >"$TMP/ruleset.nft"
check "the listing holds the kernel path's rules" grep -q 'add @act4_realaudio { meta nfproto timeout 5m : ip saddr }' "$TMP/ruleset.nft"
check "and the forwardings" sh -c "grep -q 'ipv4 timeout 5m expires .* : 192.168.7.2' '$TMP/ruleset.nft' && grep -q '203.0.113.9 timeout 2m expires .* : 192.168.7.3' '$TMP/ruleset.nft'"
# in a namespace of its own: the live table is owned, nothing else may load into it
check "nft list ruleset loads back with nft -c -f" unshare -n nft -c -f "$TMP/ruleset.nft"
check "nft -j list ruleset exits 0" sh -c "ip netns exec '$RTR' nft -j list ruleset >/dev/null 2>&1"
check "nft flush ruleset" rtr nft flush ruleset
# a kernel without table ownership and persistence: the daemon does not own it (lib/nft/kcaps.h)
rebuilt_before=0
if grep -q "created (owner" "$TMP/daemon.log"; then
	check "leaves the owned table in place" rtr nft list table inet ipautofw
	check "and its forwarding" reaches "$LAN1" udp 7000
	check_not "nft cannot delete the owned table" rtr nft delete table inet ipautofw 2>/dev/null
else
	check "the table nobody may own is re-created" wait_for back0 sh -c "ip netns exec '$RTR' nft list map inet ipautofw act4_realaudio | grep -q 192.168.7.2"
	check "and its forwarding" reaches "$LAN1" udp 7000
	rebuilt_before=1
fi
check "SIGTERM exits 0" stop_daemon

start_daemon --no-owner
trigger "$LAN1" tcp 7070
check "--no-owner: forwarding open" wait_for f2 has_forwarding realaudio 192.168.7.2
check "nft delete table inet ipautofw succeeds" rtr nft delete table inet ipautofw
check "the daemon re-creates the table" wait_for back rtr nft list table inet ipautofw
# nft -n: protocols as numbers (17 udp) whatever /etc/protocols holds, times in seconds
check "with the live forwarding in it" wait_for elem sh -c "ip netns exec '$RTR' nft list map inet ipautofw act4_realaudio | grep -q 'ipv4 timeout 5m expires .* : 192.168.7.2'"
check "and the static one" rtr sh -c 'nft list map inet ipautofw act4_game | grep -q "ipv4 : 192.168.7.3"'
check "forwarding works again" reaches "$LAN1" udp 7001
check "nft flush ruleset" rtr nft flush ruleset
check "re-created again" wait_for back2 sh -c "ip netns exec '$RTR' nft list map inet ipautofw act4_realaudio | grep -q 192.168.7.2"
check "someone flushing one of our maps" rtr nft flush map inet ipautofw act4_realaudio
check "gets it refilled" wait_for refill sh -c "ip netns exec '$RTR' nft list map inet ipautofw act4_realaudio | grep -q 192.168.7.2"
check "the log says why" grep -q "was changed by another program; re-creating it with 2 forwardings" "$TMP/daemon.log"
trigger "$LAN2" tcp 7070
check "triggers still work after the re-creation" wait_for t2 has_forwarding realaudio 192.168.7.3
check "no spurious re-creation from our own changes" test "$(grep -c 're-creating it' "$TMP/daemon.log")" = $((3 + rebuilt_before))
check "status counts the re-creations" sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j status | jq -e '.table_rebuilds == 3'"
finish
