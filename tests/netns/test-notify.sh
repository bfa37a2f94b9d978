#!/bin/bash
# sd_notify through a stand-in notify socket: READY only once the table
# exists, STATUS, WATCHDOG, RELOADING/READY around a reload, STOPPING last;
# and the journal's <N> priority prefixes on stderr.
. "$(dirname "$0")/lib.sh"
: "${NOTIFYRECV:?}"
conf ra <<'C'
rule realaudio trigger 7070/tcp forward 6970-7170/udp
C
NOTIFY="$TMP/notify.sock"
# An idle daemon keeps the watchdog fed: WATCHDOG_USEC=2s means a
# keep-alive every second from a timer, with no event at all to wake the
# loop (no trigger, no route change, no control request: not even the
# status poll start_daemon does). So it runs first, in a router namespace
# that has no interfaces yet: nothing there moves.
"$NOTIFYRECV" "$NOTIFY" 5000 >"$TMP/idle.out" &
recv=$!
wait_for listening grep -q listening "$TMP/idle.out"
NOTIFY_SOCKET=$NOTIFY WATCHDOG_USEC=2000000 ip netns exec "$RTR" "$IPAUTOFWD" -C "$CONF" -s "$SOCK" \
	>>"$TMP/idle.log" 2>&1 &
DAEMON_PID=$!
check "idle: READY=1" wait_for ready grep -q "^READY=1$" "$TMP/idle.out"
check "idle: four keep-alives in about three seconds" \
	wait_for wd sh -c "test \$(grep -c '^WATCHDOG=1$' '$TMP/idle.out') -ge 4"
n=$(grep -c '^WATCHDOG=1$' "$TMP/idle.out")
check "idle: at the half interval, not in a busy loop ($n)" test "$n" -le 6
check "idle: SIGTERM exits 0" stop_daemon
wait "$recv"

topo_up
"$NOTIFYRECV" "$NOTIFY" 20000 "ip netns exec $RTR nft list table inet ipautofw >/dev/null 2>&1" >"$TMP/notify.out" &
recv=$!
wait_for listening grep -q listening "$TMP/notify.out"
touch "$TMP/daemon.log"
export NOTIFY_SOCKET=$NOTIFY WATCHDOG_USEC=200000
export JOURNAL_STREAM=$(stat -c '%d:%i' "$TMP/daemon.log")
# no -f: under NOTIFY_SOCKET the daemon must stay in the foreground itself
ip netns exec "$RTR" "$IPAUTOFWD" -v -C "$CONF" -s "$SOCK" >>"$TMP/daemon.log" 2>&1 &
DAEMON_PID=$!
unset NOTIFY_SOCKET WATCHDOG_USEC JOURNAL_STREAM
check "READY=1 arrives" wait_for ready grep -q "^READY=1$" "$TMP/notify.out"
check "the table existed when READY came" wait_for rc grep -q "^ready-check: 0$" "$TMP/notify.out"
check "STATUS before READY" sh -c "grep -n . '$TMP/notify.out' | grep -m1 -E 'STATUS=1 rule, 0 forwardings|READY=1' | grep -q STATUS"
check "stayed in the foreground under systemd" kill -0 "$DAEMON_PID"
check "WATCHDOG=1 keeps coming" wait_for wd sh -c "test \$(grep -c '^WATCHDOG=1$' '$TMP/notify.out') -ge 3"
trigger "$LAN1" tcp 7070
check "STATUS follows the forwardings" wait_for st grep -q "^STATUS=1 rule, 1 forwarding$" "$TMP/notify.out"
kill -HUP "$DAEMON_PID"
check "RELOADING=1 with MONOTONIC_USEC" wait_for rl grep -Eq "^RELOADING=1\|MONOTONIC_USEC=[0-9]+$" "$TMP/notify.out"
check "READY=1 again after the reload" wait_for ready2 sh -c "sed -n '/^RELOADING=1/,\$p' '$TMP/notify.out' | grep -q '^READY=1$'"
# a bad rule file under systemd: each error one journal entry at err,
# location and message together, none of it at info
conf 40-bad <<'C'
rule broken trigger 0/tcp forward 1-2/xdp
C
kill -HUP "$DAEMON_PID"
check "a refused reload is logged at err" wait_for refused grep -q "^<3>reload refused, the running configuration stays: 2 errors" "$TMP/daemon.log"
check "each FILE:LINE:COL error one entry at err" sh -c "grep -q '^<3>$CONF/40-bad.conf:1:21: error: port 0 out of range 1-65535$' '$TMP/daemon.log' &&
	grep -q '^<3>$CONF/40-bad.conf:1:39: error: unknown protocol .xdp. (expected tcp or udp)$' '$TMP/daemon.log'"
check "SIGTERM exits 0" stop_daemon
wait "$recv"
check "STOPPING=1 is the last message" sh -c "tail -1 '$TMP/notify.out' | grep -q '^STOPPING=1$'"
check "journal lines carry <6> for info" grep -q "^<6>ready: 1 rule" "$TMP/daemon.log"
check "and <7> for debug" grep -q "^<7>" "$TMP/daemon.log"
check "no line without a priority" sh -c "! grep -qv '^<[0-7]>' '$TMP/daemon.log'"
# the same at start: the daemon refuses to run, and says why at err
: >"$TMP/start.log"
JOURNAL_STREAM=$(stat -c '%d:%i' "$TMP/start.log") ip netns exec "$RTR" "$IPAUTOFWD" -C "$CONF" -s "$SOCK" \
	>>"$TMP/start.log" 2>&1
check "a broken configuration at start: exit 1" test $? = 1
check "with each error at err" grep -q "^<3>$CONF/40-bad.conf:1:21: error: port 0 out of range 1-65535$" "$TMP/start.log"
check "and nothing else" sh -c "! grep -qv '^<3>' '$TMP/start.log'"
cat "$TMP/notify.out" | sort | uniq -c | sort -rn | head -8

finish
