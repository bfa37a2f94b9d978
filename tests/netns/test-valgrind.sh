#!/bin/bash
# The daemon under valgrind through a day in its life: triggers, takeover,
# refresh, expiry, runtime rules, flush, reload good and bad, a garbage
# client, SIGTERM. No errors and no leaks.
. "$(dirname "$0")/lib.sh"
: "${CTLPOKE:?}"
command -v valgrind >/dev/null || skip "valgrind not installed"
ldd "$IPAUTOFWD" | grep -q libasan && skip "a sanitizer build cannot run under valgrind"
topo_up
conf ra <<'C'
rule realaudio trigger 7070/tcp forward 6970-7170/udp timeout 2s
rule voip trigger 5060/udp forward 10000-10100/udp peer timeout 1m
rule game forward 27015/udp to 192.168.7.3
C
DAEMON_WRAP=(valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect
	--errors-for-leak-kinds=definite,indirect --error-exitcode=99 --log-file="$TMP/vg.log")
START_POLLS=600 start_daemon
trigger "$LAN1" tcp 7070
check "trigger under valgrind" wait_for a has_forwarding realaudio 192.168.7.2
trigger "$LAN2" tcp 7070
check "takeover" wait_for b has_forwarding realaudio 192.168.7.3
trigger "$LAN2" udp 5060 203.0.113.10
check "peer forwarding" wait_for c has_forwarding voip 192.168.7.3
check "runtime add" ctl add extra trigger 1/tcp forward 2/tcp
check "list -j" sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j list | jq -e . >/dev/null"
check "status" ctl status
check "flush a host" ctl flush 192.168.7.3
check "del" ctl del extra
conf bad <<'C'
rule broken forward 1/icmp
C
check_not "bad reload refused" ctl reload 2>/dev/null
rm "$CONF/bad.conf"
check "good reload" ctl reload
"$CTLPOKE" "$SOCK" garbage >/dev/null
trigger "$LAN1" tcp 7070
check "expiry under valgrind" wait_for exp sh -c "! '$IPAUTOFWCTL' -s '$SOCK' -j list | jq -e 'any(.[]; .rule == \"realaudio\")'"
check "SIGTERM exits 0 (valgrind exits 99 on errors or leaks)" stop_daemon
check "valgrind saw no errors" sh -c "! grep -q . '$TMP/vg.log'"
cat "$TMP/vg.log"
finish
