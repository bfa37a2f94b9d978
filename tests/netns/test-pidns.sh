#!/bin/bash
# The daemon in a pid namespace of its own (a container: nspawn, LXC,
# Docker), where the kernel reports a pid the daemon never sees as its
# own: its own commits that delete something in its table (runtime rules
# added and deleted, a reload that changes rules, a flush) must not look
# foreign, or it re-creates the table for ever. Someone else's delete
# still brings the table back, exactly once.
. "$(dirname "$0")/lib.sh"
command -v unshare >/dev/null || skip "needs unshare (util-linux)"
unshare --pid --fork true 2>/dev/null || skip "cannot create pid namespaces"
topo_up
conf ra <<'C'
rule realaudio trigger 7070/tcp forward 6970-7170/udp
rule x11 trigger 6000/tcp forward 6000-6100/tcp
C
rebuilds() { ctl -j status | jq -r .table_rebuilds; }
# --no-owner: so that nft can play the foreign program at the end
DAEMON_WRAP=(unshare --pid --fork --kill-child)
start_daemon --no-owner
read -r inner <"/proc/$DAEMON_PID/task/$DAEMON_PID/children"
check "the daemon is pid 1 of a pid namespace of its own" \
	sh -c "test '$(readlink "/proc/$inner/ns/pid")' != '$(readlink /proc/self/ns/pid)' && grep -q 'NSpid:.*[[:space:]]1$' /proc/$inner/status"
trigger "$LAN1" tcp 7070
check "forwarding open" wait_for f has_forwarding realaudio 192.168.7.2
check "add a runtime rule" ctl add game trigger 27015/tcp forward 27015-27030/udp
trigger "$LAN2" tcp 27015
check "its forwarding opens" wait_for g has_forwarding game 192.168.7.3
check "delete it (our own commit deletes elements)" ctl del game
conf ra <<'C'
rule realaudio trigger 7070/tcp forward 6970-7170/udp
rule quake trigger 27960/udp forward 27960/udp
C
check "a reload that drops a rule" ctl reload
kill -HUP "$inner"
check "SIGHUP reload" wait_for hup sh -c "test \$('$IPAUTOFWCTL' -s '$SOCK' -j status | jq .reloads) -ge 2"
check "flush" ctl flush
trigger "$LAN1" tcp 7070
check "forwarding open again" wait_for f2 has_forwarding realaudio 192.168.7.2
# the events of all the above are read before those of this foreign delete
check "someone else deletes the table" rtr nft delete table inet ipautofw
check "the daemon re-creates it" wait_for back sh -c "test \"\$('$IPAUTOFWCTL' -s '$SOCK' -j status | jq .table_rebuilds)\" = 1"
check "with the live forwarding" wait_for elem sh -c "ip netns exec '$RTR' nft -j list map inet ipautofw act4_realaudio | jq -e '.. | .elem? | select(. != null) | .. | select(. == \"192.168.7.2\")'"
check "forwarding works" reaches "$LAN1" udp 7000
check "and it was re-created once: own commits never counted" test "$(rebuilds)" = 1
check "one log line for it" test "$(grep -c 're-creating it' "$TMP/daemon.log")" = 1
kill -TERM "$inner"
wait "$DAEMON_PID"
rc=$?
DAEMON_PID=
check "the daemon exited 0" test "$rc" = 0
check_not "and removed its table" rtr nft list table inet ipautofw
finish
