#!/bin/bash
# ipautofwctl reexec (DESIGN §2.12): the daemon replaces itself by the
# binary now installed at the path it was started from, same PID; every
# forwarding stays with its remaining time and keeps carrying traffic, the
# runtime rules stay, new triggers are served, systemd sees RELOADING=1 then
# READY=1, and the counters `metrics` shows go on (no restart for a scraper). Run with --no-persist, as on a kernel without
# NFT_TABLE_F_PERSIST: the table lives only as long as the socket that owns
# it, so everything surviving proves that socket crossed execve(). A new
# binary that rejects the configuration is not exec'd into.
. "$(dirname "$0")/lib.sh"
: "${NOTIFYRECV:?}"
topo_up
conf r <<'C'
rule realaudio trigger 7070/tcp forward 6970-7170/udp timeout 2m
rule voip trigger 5060/udp forward 10000-10100/udp peer timeout 2m
rule game forward 27015/udp to 192.168.7.3
rule quiet trigger 7071/tcp forward 8000/udp
C
# an "installed" binary that an upgrade replaces the way dpkg does: rename over it
mkdir "$TMP/sbin"
cp "$IPAUTOFWD" "$TMP/sbin/ipautofwd"
NOTIFY="$TMP/notify.sock"
"$NOTIFYRECV" "$NOTIFY" 60000 >"$TMP/notify.out" &
recv=$!
wait_for listening grep -q listening "$TMP/notify.out"
export NOTIFY_SOCKET=$NOTIFY
IPAUTOFWD=$TMP/sbin/ipautofwd start_daemon --no-persist
unset NOTIFY_SOCKET
check "a runtime rule" ctl add x11 trigger 6000/tcp forward 6000-6010/tcp timeout 2m
check "a rule switched off at run time" ctl disable quiet
trigger "$LAN1" tcp 7070
trigger "$LAN2" udp 5060 203.0.113.10
trigger "$LAN2" tcp 6000
check "three forwardings open" wait_for three sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j list | jq -e '[.[] | select(.static | not)] | length == 3'"
# let the clock run, so that a forwarding opened afresh would show
check "time passes" wait_for time sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j list | jq -e 'all(.[] | select(.static | not); .expires <= 118)'"
before=$(ctl -j list)
up_before=$(ctl -j status | jq .uptime)
# counters a scraper reads: the daemon's own, the histogram's, and the table's named counter
metric() { ctl metrics | awk -v s="$1" '$1 == s { print $2 }'; }
opened_before=$(metric 'ipautofw_triggers_total{outcome="opened"}')
lat_before=$(metric ipautofw_trigger_latency_seconds_count)
logged_before=$(metric ipautofw_triggers_logged_total)

cp "$IPAUTOFWD" "$TMP/sbin/ipautofwd.new"
mv -f "$TMP/sbin/ipautofwd.new" "$TMP/sbin/ipautofwd"
check "the running binary is the replaced one" sh -c "readlink /proc/$DAEMON_PID/exe | grep -q deleted"
seen=$(wc -l <"$TMP/notify.out")
out=$(ctl reexec); rc=$?
check "reexec succeeds" test "$rc" = 0
check "the new binary answers, same PID" grep -q "re-executed in place (pid $DAEMON_PID): 5 rules, 4 forwardings" <<<"$out"
check "the process runs the new file now" sh -c "readlink /proc/$DAEMON_PID/exe | grep -qv deleted"
check "it was re-executed, not restarted" grep -q "ready (re-executed)" "$TMP/daemon.log"
after=$(ctl -j list)
key='[.[] | [.rule, .host, .peer, .port_min, .port_max, .proto]] | sort'
check "the same forwardings" test "$(jq -c "$key" <<<"$before")" = "$(jq -c "$key" <<<"$after")"
check "each with its remaining time" jq -e --argjson b "$before" '
	all(.[] | select(.static | not); . as $a |
		($b[] | select(.rule == $a.rule and .port_min == $a.port_min) | .expires) as $e |
		$a.expires <= $e and $a.expires >= $e - 3)' <<<"$after"
check "the runtime rule stays" sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j rules | jq -e 'any(.[]; .name == \"x11\" and .source == \"runtime\")'"
check "the runtime switch stays" sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j rules | jq -e 'any(.[]; .name == \"quiet\" and .enabled == false and .switched)'"
check "uptime is not reset" test "$(ctl -j status | jq .uptime)" -ge "$up_before"
check "the opened counter keeps its value ($opened_before)" test "$(metric 'ipautofw_triggers_total{outcome="opened"}')" = "${opened_before:-none}"
check "so does the latency histogram ($lat_before)" test "$(metric ipautofw_trigger_latency_seconds_count)" = "${lat_before:-none}"
check "and the table's named counter, in the table made anew ($logged_before)" test "$(metric ipautofw_triggers_logged_total)" = "${logged_before:-none}"
check "a counter the control socket keeps goes on" test "$(metric ipautofw_control_clients_total)" -gt 10
since() { tail -n +$((seen + 1)) "$TMP/notify.out"; }
check "RELOADING=1 with MONOTONIC_USEC, then READY=1 from the new binary" wait_for ready sh -c \
	"tail -n +$((seen + 1)) '$TMP/notify.out' | sed -n '/^RELOADING=1|MONOTONIC_USEC=[0-9]*$/,\$p' | grep -q '^READY=1$'"
since >"$TMP/notify.reexec"
check_not "no STOPPING=1" grep -q STOPPING "$TMP/notify.reexec"
check "traffic still reaches the triggered host" reaches "$LAN1" udp 7000
check "the peer forwarding still works" reaches_from "$LAN2" udp 10005 203.0.113.1 203.0.113.10
check "the runtime rule's forwarding still works" reaches "$LAN2" tcp 6005
check "the static forward still works" reaches "$LAN2" udp 27015
trigger "$LAN2" tcp 7070
check "the new binary serves triggers (NFLOG handed over)" wait_for take has_forwarding realaudio 192.168.7.3
check "in the kernel" reaches "$LAN2" udp 7002
check "a second reexec works too" sh -c "'$IPAUTOFWCTL' -s '$SOCK' reexec | grep -q 'pid $DAEMON_PID'"

# a new binary that would not start with this configuration is refused
conf bad <<'C'
rule broken trigger 7070/tcp
C
out=$(ctl reexec 2>&1); rc=$?
check "reexec into a binary that rejects the configuration fails" test "$rc" = 1
check "saying why" grep -q "bad.conf:1:.*error" <<<"$out"
check "and that the running daemon stays" grep -q "keeps running" <<<"$out"
check "same process" kill -0 "$DAEMON_PID"
check "forwardings untouched" has_forwarding realaudio 192.168.7.3
rm "$CONF/bad.conf"
check "reexec works again" ctl reexec

# --no-persist: the table really lives only as long as its socket
kill -9 "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=
if grep -q "created (not owned" "$TMP/daemon.log"; then
	# a kernel without NFT_TABLE_F_OWNER: nothing can tie the table to a socket
	check "without table ownership the table stays after a crash (DESIGN §2.8)" \
		rtr nft list table inet ipautofw
else
	check "without a daemon the table goes at once" wait_for gone sh -c "! ip netns exec '$RTR' nft list table inet ipautofw"
fi
kill "$recv" 2>/dev/null
wait "$recv" 2>/dev/null
finish
