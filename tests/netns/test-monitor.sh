#!/bin/bash
# ipautofwctl monitor: every event kind, in order, for a scripted
# scenario, in JSON and as text; a monitor survives a reload; a monitor
# that stops reading is dropped while triggers keep being served and the
# other monitors keep receiving; a group member may monitor.
. "$(dirname "$0")/lib.sh"
: "${RAWSEND:?}"
topo_up
conf m <<'C'
rule ra trigger 7070/tcp forward 6970-7170/udp timeout 5m
rule ex trigger 7071/tcp forward 7200-7210/udp exclusive timeout 5m
rule short trigger 7072/tcp forward 7300/udp timeout 2s
rule capped trigger 7073/tcp forward 7400/udp peer max-per-host 1
C
start_daemon
monitors() { ctl -j status | jq -e --argjson n "$1" '.monitors == $n' >/dev/null; }
"$IPAUTOFWCTL" -s "$SOCK" -j monitor >"$TMP/mon.json" 2>"$TMP/mon.err" &
mon=$!
"$IPAUTOFWCTL" -s "$SOCK" monitor >"$TMP/mon.txt" 2>&1 &
mon_text=$!
check "two monitors connected" wait_for two monitors 2
# seen KIND [JQ-CONDITION]: the JSON monitor has printed such an event
seen() { jq -e -s --arg k "$1" "any(.[]; .event == \$k and (${2:-true}))" "$TMP/mon.json" >/dev/null; }
RMAC=$(ip -n "$RTR" -j link show br-lan | jq -r '.[0].address')
# a forged source must reach the forward hook: no reverse-path filter before it
rtr sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.br-lan.rp_filter=0

trigger "$LAN1" tcp 7070
check "opened" wait_for opened seen opened '.rule == "ra" and .host == "192.168.7.2" and .forwards == ["6970-7170/udp"] and .timeout == 300'
trigger "$LAN1" tcp 7070
check "refreshed" wait_for refreshed seen refreshed '.rule == "ra" and .host == "192.168.7.2"'
"$NSPROBE" spray "$WAN" 203.0.113.9 203.0.113.1 1024 1024 >/dev/null
check "learned" wait_for learned seen learned '.rule == "ra" and .host == "192.168.7.2" and .peer == "203.0.113.9" and .port == 1024 and .proto == "udp"'
trigger "$LAN2" tcp 7070
check "taken_over, with the old host" wait_for taken seen taken_over '.rule == "ra" and .host == "192.168.7.3" and .old_host == "192.168.7.2"'
trigger "$LAN1" tcp 7071
wait_for ex has_forwarding ex 192.168.7.2
trigger "$LAN2" tcp 7071
check "refused: exclusive, with the holder" wait_for refused seen refused '.rule == "ex" and .host == "192.168.7.3" and .reason == "exclusive" and .holder == "192.168.7.2"'
trigger "$LAN1" tcp 7073 203.0.113.9
wait_for capped has_forwarding capped 192.168.7.2
trigger "$LAN1" tcp 7073 203.0.113.10
check "refused: a cap" wait_for cap seen refused '.rule == "capped" and .reason == "max-per-host" and .holder == null'
ip netns exec "$LAN1" "$RAWSEND" eth0 "$RMAC" - 203.0.113.50 203.0.113.9 tcp 7070 >/dev/null
check "forged" wait_for forged seen forged '.rule == null and .host == "203.0.113.50" and .port == 7070 and .proto == "tcp" and .interface == "br-lan"'
trigger "$LAN1" tcp 7072
check "expired" wait_for expired seen expired '.rule == "short" and .host == "192.168.7.2"'
check "flush ra" ctl flush ra
check "closed (flush)" wait_for closed seen closed '.rule == "ra" and .host == "192.168.7.3" and .reason == "flush"'
check "reload" ctl reload
check "reloaded" wait_for reloaded seen reloaded '.rule == null and .host == null and .rules == 4'
check "disable ex" ctl disable ex
check "closed (disable)" wait_for disabled seen closed '.rule == "ex" and .reason == "disable"'
ctl add rt trigger 7074/tcp forward 7500/udp >/dev/null
trigger "$LAN2" tcp 7074
check "the monitor survived the reload" wait_for after seen opened '.rule == "rt" and .host == "192.168.7.3"'
check "del rt" ctl del rt
check "closed (del)" wait_for del seen closed '.rule == "rt" and .reason == "del"'

# the order: each of these after the one before (other events may come between)
want='opened ra|refreshed ra|learned ra|taken_over ra|opened ex|refused ex|opened capped|refused capped|forged null|opened short|expired short|closed ra|reloaded null|closed ex|opened rt|closed rt'
got=$(jq -r '"\(.event) \(.rule)"' "$TMP/mon.json" | tr '\n' '|')
in_order() {
	local rest="|$got" w
	IFS='|' read -ra ws <<<"$want"
	for w in "${ws[@]}"; do
		case $rest in
		*"|$w|"*) rest="|${rest#*"|$w|"}" ;;
		*) echo "missing or out of order: $w"; return 1 ;;
		esac
	done
}
check "every kind, in order" in_order
check "every line is one JSON object with event, rule and host" jq -e -s 'all(.[]; has("event") and has("rule") and has("host") and has("time"))' "$TMP/mon.json"
check "the text monitor printed the same kinds" sh -c "for k in opened refreshed learned taken_over refused forged expired closed reloaded; do grep -q \" \$k \" '$TMP/mon.txt' || exit 1; done"
check "a text line reads as a sentence" grep -Eq '^[0-9:.]+ taken_over ra: 6970-7170/udp to 192.168.7.3( \([0-9a-f:]{17}\))?, 5m, taken from 192.168.7.2$' "$TMP/mon.txt"

# a member of the socket's group may monitor
groupadd -f iafmon$$ 2>/dev/null
stop_daemon
kill "$mon" "$mon_text" 2>/dev/null
wait "$mon" "$mon_text" 2>/dev/null
start_daemon --socket-group iafmon$$
setpriv --reuid=65534 --regid=65534 --groups="$(getent group iafmon$$ | cut -d: -f3)" \
	"$IPAUTOFWCTL" -s "$SOCK" -j monitor >"$TMP/user.json" 2>&1 &
user=$!
check "a group member's monitor is accepted" wait_for user monitors 1
trigger "$LAN1" tcp 7070
check "and receives events" wait_for user_ev grep -q '"event": "opened"' "$TMP/user.json"
kill "$user"
wait "$user" 2>/dev/null
groupdel iafmon$$ 2>/dev/null

# a stalled monitor: many rules share one UDP trigger port, so each trigger is many events
stop_daemon
{
	for i in $(seq 1 16); do echo "rule s$i trigger 5060/udp forward $((20000 + i))/udp"; done
	echo "rule ra trigger 7070/tcp forward 6970-7170/udp timeout 5m"
} >"$CONF/m.conf"
start_daemon
"$IPAUTOFWCTL" -s "$SOCK" -j monitor >/dev/null 2>"$TMP/stalled.err" &
stalled=$!
"$IPAUTOFWCTL" -s "$SOCK" -j monitor >"$TMP/live.json" 2>&1 &
live=$!
check "two monitors" wait_for two monitors 2
kill -STOP "$stalled"
"$NSPROBE" flood "$LAN1" 192.168.7.2 203.0.113.9 1 5060 2000 20000 >/dev/null &
flood=$!
check "the stalled monitor is dropped" wait_for dropped grep -q "monitor (pid $stalled) dropped: it stopped reading" "$TMP/daemon.log"
check "the other one stays" monitors 1
trigger "$LAN2" tcp 7070
check "triggers are served meanwhile" wait_for served has_forwarding ra 192.168.7.3
check "and forwarded" reaches "$LAN2" udp 7001
check "the live monitor saw it" wait_for live grep -q '"event": "opened", "rule": "ra", "host": "192.168.7.3"' "$TMP/live.json"
kill "$flood" 2>/dev/null
wait "$flood" 2>/dev/null
kill -CONT "$stalled"
wait "$stalled"
rc=$?
check "the dropped monitor reads what was sent, then exits 1 ($rc)" test "$rc" = 1
check "saying the daemon ended the stream" grep -q "the daemon ended the stream" "$TMP/stalled.err"
kill -INT "$live"
wait "$live"
check "an interrupted monitor exits 0" test $? = 0
finish
