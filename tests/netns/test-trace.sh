#!/bin/bash
# ipautofwctl trace HOST: one line per packet, from the kernel's trace,
# naming the table, chain and rule that decided. The working case (a
# trigger opening a forwarding, the inbound stream DNATed and accepted);
# the administrator's forward chain dropping the trigger; a chain at a
# later priority rejecting it; a trigger that leaves by an interface that
# is not WAN; the inbound connection dropped for want of
# `ct status dnat accept`; JSON; the trace ending by itself with its kernel
# objects gone (and the kernel's own timeout behind it); a flood while
# tracing, with the lines, the daemon's CPU and its log bounded.
. "$(dirname "$0")/lib.sh"
topo_up
# a third router interface that is not WAN: a DMZ with one host
DMZ="${P}d"
ip netns add "$DMZ"
trap 'ip netns del "$DMZ" 2>/dev/null; cleanup' EXIT
ip link add veth-dmz netns "$RTR" type veth peer name eth0 netns "$DMZ"
ip -n "$RTR" addr add 198.51.100.1/24 dev veth-dmz
ip -n "$RTR" link set veth-dmz up
ip -n "$DMZ" addr add 198.51.100.2/24 dev eth0
ip -n "$DMZ" link set eth0 up
ip -n "$DMZ" link set lo up
ip -n "$DMZ" route add default via 198.51.100.1
rtr nft add rule inet admin forward iifname br-lan oifname veth-dmz accept
conf apps <<'C'
wan veth-wan
rule rtsp trigger 554/tcp forward 6970-7170/udp timeout 10m
rule game trigger 6112/tcp forward 6112-6119/udp timeout 10m
C
start_daemon
vet_lan

# trace_of OUT HOST SECS: ipautofwctl trace in the background, its output in OUT
tr_pid=
trace_of() {
	"$IPAUTOFWCTL" -s "$SOCK" "${@:4}" trace "$2" --for "$3" >"$1" 2>&1 &
	tr_pid=$!
	wait_for tr-up rtr nft list chain inet ipautofw trace
}
# line OUT REGEX: a line of OUT matches (waiting for it)
line() { wait_for line grep -qE "$2" "$1"; }
trace_done() { wait "$tr_pid"; }

echo "# the working case"
trace_of "$TMP/ok.out" 192.168.7.2 6
check "the trace chain is in the table" rtr nft list chain inet ipautofw trace
trigger "$LAN1" tcp 554
check "the trigger: accepted, left by the WAN interface, opened by ipautofwd" \
	line "$TMP/ok.out" "out 192.168.7.2 -> 203.0.113.9 554/tcp on br-lan: accepted, left by veth-wan \(WAN\); trigger of rtsp: ipautofwd opened rtsp: 6970-7170/udp to 192.168.7.2( \([0-9a-f:]*\))?, 10m$"
check "the inbound stream reaches the host" reaches "$LAN1" udp 7000
check "the inbound one: DNATed by ipautofw to the host, accepted, left by br-lan" \
	line "$TMP/ok.out" "in 203.0.113.9 -> 203.0.113.1 7000/udp on veth-wan: DNATed to 192.168.7.2 by ipautofw \(rule rtsp\), accepted, left by br-lan$"
trigger "$LAN1" tcp 443
check "a connection to no trigger port is said to be none" \
	line "$TMP/ok.out" "out 192.168.7.2 -> 203.0.113.9 443/tcp on br-lan: accepted, left by veth-wan \(WAN\); 443/tcp is no rule's trigger$"
trigger "$LAN2" tcp 554
check "another host's connections are not traced" sh -c "! grep -q '192.168.7.3' '$TMP/ok.out'"
check "the trace ends by itself (exit 0)" trace_done
check "saying so" grep -qE "^trace of 192.168.7.2 ended \(its time is up\): 3 packets told, 0 not" "$TMP/ok.out"
check_not "its chain is gone" rtr nft list chain inet ipautofw trace
check_not "and its sets" rtr nft list set inet ipautofw trace4
cat "$TMP/ok.out"
ctl flush >/dev/null

echo "# the administrator's forward chain drops the trigger"
h=$(rtr nft -a list chain inet admin forward | sed -n 's/.*iifname "br-lan" oifname "veth-wan" accept # handle \([0-9]*\)/\1/p')
rtr nft insert rule inet admin forward position "$h" tcp dport 6112 drop
drop_h=$(rtr nft -a list chain inet admin forward | sed -n 's/.*tcp dport 6112 drop # handle \([0-9]*\)/\1/p')
trace_of "$TMP/drop.out" 192.168.7.2 3
trigger "$LAN1" tcp 6112
check "dropped by table inet admin, chain forward, the rule's handle" \
	line "$TMP/drop.out" "out 192.168.7.2 -> 203.0.113.9 6112/tcp on br-lan: dropped by table inet admin, chain forward, rule handle $drop_h \(drop\): a connection the firewall drops triggers nothing \(trigger of game\)$"
check_not "and nothing opened" has_forwarding game 192.168.7.2
trace_done
rtr nft delete rule inet admin forward handle "$drop_h"

echo "# a chain at a later priority rejects it"
rtr nft -f - <<'NFT'
table inet late {
	chain forward {
		type filter hook forward priority filter + 20; policy accept;
		tcp dport 6112 reject
	}
}
NFT
rej_h=$(rtr nft -a list chain inet late forward | sed -n 's/.*reject # handle \([0-9]*\)/\1/p')
trace_of "$TMP/rej.out" 192.168.7.2 3
trigger "$LAN1" tcp 6112
check "rejected by table inet late, chain forward, its rule" \
	line "$TMP/rej.out" "6112/tcp on br-lan: dropped by table inet late, chain forward, rule handle $rej_h \(reject\): a connection the firewall drops triggers nothing"
trace_done
rtr nft delete table inet late

echo "# the trigger leaves by an interface that is not WAN"
trace_of "$TMP/dmz.out" 192.168.7.2 3
"$NSPROBE" trigger tcp "$LAN1" 198.51.100.2 554 >/dev/null
check "left by veth-dmz, not a WAN interface" \
	line "$TMP/dmz.out" "out 192.168.7.2 -> 198.51.100.2 554/tcp on br-lan: accepted, left by veth-dmz, which is not a WAN interface: triggers nothing$"
trace_done

echo "# the inbound connection dropped for want of ct status dnat accept"
trigger "$LAN1" tcp 554
wait_for fwd has_forwarding rtsp 192.168.7.2
dnat_h=$(rtr nft -a list chain inet admin forward | sed -n 's/.*ct status dnat accept # handle \([0-9]*\)/\1/p')
rtr nft delete rule inet admin forward handle "$dnat_h"
trace_of "$TMP/in.out" 192.168.7.2 3 -j
check "blocked" blocked "$LAN1" udp 7001
check "JSON: DNATed to the host, then dropped by the admin's forward chain, by its policy" \
	wait_for json sh -c "jq -e 'select(.direction == \"in\") | select(.dport == 7001 and .dnat == \"192.168.7.2\" and .verdict == \"dropped\" and .table == \"inet admin\" and .chain == \"forward\" and .policy == true and .handle == null)' '$TMP/in.out'"
check "its words say what is missing" \
	sh -c "jq -r 'select(.direction == \"in\") | .text' '$TMP/in.out' | grep -q \"then dropped by table inet admin, chain forward (its policy): that chain needs 'ct status dnat accept' before the drop\""
trace_done
check "the JSON stream ends with trace_ended" sh -c "tail -1 '$TMP/in.out' | jq -e '.event == \"trace_ended\"'"
rtr nft insert rule inet admin forward ct status dnat accept

echo "# IPv6: a pinhole"
trace_of "$TMP/v6.out" 2001:db8:7::2 6
trigger "$LAN1" tcp 554 2001:db8:1::9
check "the IPv6 trigger opens the pinhole" \
	line "$TMP/v6.out" "out 2001:db8:7::2 -> 2001:db8:1::9 554/tcp on br-lan: accepted, left by veth-wan \(WAN\); trigger of rtsp: ipautofwd opened rtsp: 6970-7170/udp to 2001:db8:7::2( \([0-9a-f:]*\))?, 10m$"
check "the stream reaches the host through it" reaches_from "$LAN1" udp 7002 2001:db8:7::2 2001:db8:1::9
check "the inbound one: through the pinhole of rule rtsp, accepted" \
	line "$TMP/v6.out" "in 2001:db8:1::9 -> 2001:db8:7::2 7002/udp on veth-wan: through the pinhole of rule rtsp, accepted, left by br-lan$"
trace_done

echo "# bounded: the kernel stops by itself, a flood stays bounded"
trace_of "$TMP/flood.out" 192.168.7.2 4
check "the host's element carries the trace's timeout" \
	sh -c "ip netns exec '$RTR' nft list set inet ipautofw trace4 | grep -q '192.168.7.2 timeout 5s'"
cpu0=$(awk '{ print $14 + $15 }' "/proc/$DAEMON_PID/stat")
log0=$(wc -l <"$TMP/daemon.log")
"$NSPROBE" flood "$LAN1" 192.168.7.2 203.0.113.9 1 5000 5000 3000 >"$TMP/flood.probe"
check "the flood ran ($(cat "$TMP/flood.probe"))" grep -q "^flood: 1[0-9]\{4\} new flows" "$TMP/flood.probe"
trace_done
cpu1=$(awk '{ print $14 + $15 }' "/proc/$DAEMON_PID/stat")
lines=$(grep -c '^[0-9:.]* out ' "$TMP/flood.out")
check "at most $((4 * 10 + 10 + 5)) lines in 4 s ($lines)" test "$lines" -le 55
check "the end line counts what was not told" grep -qE "^trace of 192.168.7.2 ended \(its time is up\): [0-9]+ packets told, [0-9]+ not" "$TMP/flood.out"
check "the daemon used under 2 s of CPU ($((cpu1 - cpu0)) ticks)" test $((cpu1 - cpu0)) -lt $((2 * $(getconf CLK_TCK)))
check "its log grew by a few lines ($(($(wc -l <"$TMP/daemon.log") - log0)))" test $(($(wc -l <"$TMP/daemon.log") - log0)) -lt 40
check_not "the trace chain is gone" rtr nft list chain inet ipautofw trace

echo "# a trigger ipautofwd refuses (exclusive)"
ctl add excl trigger 5555/tcp forward 5600/udp exclusive >/dev/null
trigger "$LAN1" tcp 5555
wait_for excl has_forwarding excl 192.168.7.2
trace_of "$TMP/excl.out" 192.168.7.3 3
trigger "$LAN2" tcp 5555
check "the other host's trigger: passed to ipautofwd, which refused it" \
	line "$TMP/excl.out" "out 192.168.7.3 -> 203.0.113.9 5555/tcp on br-lan: accepted, left by veth-wan \(WAN\); trigger of excl: ipautofwd refused excl"
trace_done
ctl del excl >/dev/null

echo "# a reload while tracing"
trace_of "$TMP/reload.out" 192.168.7.2 3
conf more <<'C'
rule more trigger 7777/tcp forward 7800/udp
C
check "the reload succeeds" ctl reload
trigger "$LAN1" tcp 7777
check "the new rule's trigger is told" line "$TMP/reload.out" "7777/tcp on br-lan: accepted, left by veth-wan \(WAN\); trigger of more: ipautofwd opened more"
check "the trace still ends by itself" trace_done
check_not "taking its chain with it" rtr nft list chain inet ipautofw trace

echo "# refused"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$IPAUTOFWCTL" -s "$SOCK" trace 192.168.7.2 2>&1); rc=$?
check "trace is refused to others than root (exit 1)" sh -c "test $rc = 1 && grep -q 'permission denied' <<'E'
$out
E"
check_not "and starts nothing" rtr nft list chain inet ipautofw trace
out=$(ctl trace 192.168.7.2 --for 10m 2>&1); rc=$?
check "at most 5m (exit 2)" sh -c "test $rc = 2 && grep -q 'invalid duration' <<'E'
$out
E"
check "the daemon is alive" kill -0 "$DAEMON_PID"

echo "# the daemon stops while tracing"
trace_of "$TMP/stop.out" 192.168.7.2 60
check "SIGTERM exits 0 while a trace runs" stop_daemon
check "the trace's client ends" trace_done
check_not "and the table is gone, trace chain and all" rtr nft list table inet ipautofw
finish
