#!/bin/bash
# A trigger flood: a third LAN machine opens 20,000 new connections a
# second to a trigger port. Its logs are capped per machine in the kernel,
# so the other machines' triggers are still served, and the daemon's CPU
# and memory stay bounded (printed; the assertion is that every round is
# served).
. "$(dirname "$0")/lib.sh"
topo_up
LAN3="${P}l3"
trap 'ip netns del "$LAN3" 2>/dev/null; cleanup' EXIT
ip netns add "$LAN3"
ip link add veth-l4 netns "$RTR" type veth peer name eth0 netns "$LAN3"
ip -n "$RTR" link set veth-l4 master br-lan up
ip -n "$LAN3" link set lo up
ip -n "$LAN3" addr add 192.168.16.1/22 dev eth0
ip -n "$LAN3" link set eth0 up
ip -n "$RTR" addr add 192.168.19.254/22 dev br-lan
ip -n "$LAN3" route add default via 192.168.19.254
conf r <<'C'
rule realaudio trigger 7070/tcp forward 6970-7170/udp timeout 5m
rule voip trigger 5060/udp forward 10000-10100/udp peer timeout 5m
C
start_daemon
cpu() { awk '{ print $14 + $15 }' "/proc/$DAEMON_PID/stat"; }
hz=$(getconf CLK_TCK)
"$NSPROBE" latency "$LAN1" "$WAN" 203.0.113.9 7070 203.0.113.1 7000 50 "$LAN2" >"$TMP/quiet.out"
echo "without a flood: $(cat "$TMP/quiet.out")"
cpu0=$(cpu)
"$NSPROBE" flood "$LAN3" 192.168.16.1 198.18.0.1 5000 5060 20000 3000 >"$TMP/flood.out" &
flood=$!
sleep 0.5	# let the flood reach its rate before measuring
rtr conntrack -D -p udp --orig-port-dst 7000 >/dev/null 2>&1	# the quiet run's probe flows
out=$("$NSPROBE" latency "$LAN1" "$WAN" 203.0.113.9 7070 203.0.113.1 7000 100 "$LAN2")
rc=$?
echo "during the flood: $out"
wait "$flood"
cpu1=$(cpu)
cat "$TMP/flood.out"
check "every trigger of the other machines was served during the flood" test "$rc" = 0
check "the flooding machine's logs were capped" sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j status | jq -e '.triggers_seen < 3000'"
check "no NFLOG loss" sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j status | jq -e '.nflog_lost == 0 and .nflog_enobufs == 0'"
echo "daemon CPU during the 3 s flood: $(( (cpu1 - cpu0) * 1000 / hz )) ms"
echo "daemon RSS after the flood: $(grep VmRSS "/proc/$DAEMON_PID/status")"
ctl status | grep -E 'triggers|forwardings'
finish
