#!/bin/bash
# Learn mode (DESIGN §2.13), the seed's story: RealAudio for Linux "uses an
# unusual port range, udp ports 1024-2048". After the trigger, the peer the
# host contacted sends to udp 1024-1100: `learn -j` reports exactly those
# ports and suggests a forward list covering them. A stranger's packets and
# packets to forwarded ports are not recorded; IPv6 records what reaches
# the host's own address; with `learn off` nothing is; a flood of 100,000
# such packets keeps the daemon's memory bounded and triggers served.
. "$(dirname "$0")/lib.sh"
topo_up
conf ra <<'C'
rule realaudio trigger 7070/tcp forward 6970-7170/udp timeout 5m
rule other trigger 7071/tcp forward 8000/udp timeout 5m
C
start_daemon
"$IPAUTOFWCTL" -s "$SOCK" -j monitor >"$TMP/mon.json" 2>&1 &
mon=$!
wait_for monitor sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j status | jq -e '.monitors == 1'"
spray() { "$NSPROBE" spray "$WAN" "$@" >/dev/null; }
learned() { ctl -j learn | jq -e "$1" >/dev/null; }
wait_for_s1() {
	local i
	for i in $(seq 20); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	return 1
}
# the kernel's learn rules: log group 7071 in prerouting (IPv4) and pinhole (IPv6)
# (nft 1.0.6 prints the kernel path's add statements as plain strings in JSON)
learn_rules() { rtr nft -j list table inet ipautofw 2>/dev/null | jq '[.nftables[] | select(.rule) | .rule | select(any(.expr[]; type == "object" and .log.group? == 7071))] | length'; }

check "two learn rules in the table" test "$(learn_rules)" = 2
check "nothing learned before a trigger" learned '.learn == true and .rules == [] and .records == 0'
spray 203.0.113.9 203.0.113.1 1024 1030
check "a peer nobody contacted is not even logged" learned '.unattributed == 0 and .records == 0'

trigger "$LAN1" tcp 7070 203.0.113.9
check "the trigger opens the forwarding" wait_for fwd has_forwarding realaudio 192.168.7.2
check "the contacted peer is listed in learn4" rtr sh -c "nft -j list set inet ipautofw learn4 | jq -e '[.. | strings] | index(\"203.0.113.9\") != null' >/dev/null"
# a stranger, and the peer to ports that are forwarded: before the story, in the same queue
spray 203.0.113.10 203.0.113.1 1200 1210
check "the peer's datagram to a forwarded port reaches the host" reaches_from "$LAN1" udp 6975 203.0.113.1 203.0.113.9
spray 203.0.113.9 203.0.113.1 6980 6990
# the story: 77 ports, one new connection each
spray 203.0.113.9 203.0.113.1 1024 1100
check "learn -j reports the 77 connections" wait_for story learned '.rules[0].seen[0].connections == 77'
out=$(ctl -j learn)
check "exactly those ports, of that peer, for that rule" jq -e '.rules | length == 1 and .[0].rule == "realaudio"
	and (.[0].seen | length == 1) and .[0].seen[0].peer == "203.0.113.9" and .[0].seen[0].proto == "udp"
	and .[0].seen[0].ports == ["1024-1100"] and .[0].seen[0].host == "192.168.7.2"
	and .[0].seen[0].family == "ipv4" and .[0].seen[0].not_kept == 0' <<<"$out"
check "a suggested forward list that covers them" jq -e '.rules[0].suggest == ["1024-1100/udp", "6970-7170/udp"]' <<<"$out"
check "the stranger's packets and those to forwarded ports are not recorded" jq -e '.records == 1 and .unattributed == 0' <<<"$out"
check "the human form tells the story" sh -c "'$IPAUTOFWCTL' -s '$SOCK' learn realaudio | grep -q '^realaudio: peer 203.0.113.9 tried udp 1024-1100 (77 connections, not forwarded; host 192.168.7.2, first '"
check "and suggests" sh -c "'$IPAUTOFWCTL' -s '$SOCK' learn | grep -qx 'realaudio: suggest: forward 1024-1100/udp,6970-7170/udp'"
check "a rule with nothing seen says so" sh -c "'$IPAUTOFWCTL' -s '$SOCK' learn other | grep -qx 'other: nothing seen'"
check "learn of no rule fails" sh -c "'$IPAUTOFWCTL' -s '$SOCK' learn nosuch 2>&1; [ \$? = 1 ]"
check "the monitor saw each as learned" wait_for mon sh -c "[ \$(grep -c '\"event\": \"learned\", \"rule\": \"realaudio\", \"host\": \"192.168.7.2\"' '$TMP/mon.json') = 77 ]"
check "learned events name the peer and port" grep -q '"event": "learned", "rule": "realaudio", "host": "192.168.7.2", "host_lladdr": null, "family": "ipv4", "peer": "203.0.113.9", "proto": "udp", "port": 1100' "$TMP/mon.json"

# IPv6: the peer to the host's own address, no pinhole for the port
trigger "$LAN1" tcp 7070 2001:db8:1::9
check "IPv6 forwarding" wait_for fwd6 sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j list | jq -e 'any(.[]; .family == \"ipv6\" and .host == \"2001:db8:7::2\")'"
spray 2001:db8:1::9 2001:db8:7::3 3000 3003
spray 2001:db8:1::9 2001:db8:7::2 3000 3005
check "IPv6: the ports tried at the host are recorded" wait_for v6 learned 'any(.rules[0].seen[]; .family == "ipv6" and .peer == "2001:db8:1::9" and .host == "2001:db8:7::2" and .ports == ["3000-3005"] and .connections == 6)'
check "IPv6: not those to another host" learned '.records == 2'

check "learn --clear" sh -c "'$IPAUTOFWCTL' -s '$SOCK' learn --clear | grep -qx '2 records cleared'"
check "nothing is left" learned '.rules == [] and .records == 0'

# a flush takes the forwarding's contacts along: no longer recorded
check "flush realaudio" ctl flush realaudio
spray 203.0.113.9 203.0.113.1 1500 1510
check "after a flush the peer's connections are not recorded" wait_for unattr learned '.unattributed == 11 and .records == 0'

# the flood: 100,000 new connections from the peer to ports nothing forwards
trigger "$LAN1" tcp 7070 203.0.113.9
wait_for fwd has_forwarding realaudio 192.168.7.2
rss_before=$(awk '/^VmRSS/ { print $2 }' "/proc/$DAEMON_PID/status")
"$NSPROBE" spray "$WAN" 203.0.113.9 203.0.113.1 10000 59999 100000 >"$TMP/spray.out" &
spray_pid=$!
trigger "$LAN2" tcp 7071
check "another trigger is served during the flood" wait_for other has_forwarding other 192.168.7.3
wait "$spray_pid"
check "the flood was sent ($(cat "$TMP/spray.out"))" grep -q "spray: 100000 datagrams" "$TMP/spray.out"
trigger "$LAN2" tcp 7070
check "and after it, a takeover" wait_for take has_forwarding realaudio 192.168.7.3
check "forwarded" reaches "$LAN2" udp 7000
rss_after=$(awk '/^VmRSS/ { print $2 }' "/proc/$DAEMON_PID/status")
check "memory stays bounded (RSS ${rss_before} -> ${rss_after} KiB)" test "$rss_after" -le $((rss_before + 2048))
out=$(ctl -j learn)
check "the kernel's rate limit let through a bounded part ($(jq -c '[.rules[0].seen[0] | .connections, .not_kept]' <<<"$out"))" jq -e '.rules[0].seen[0].connections < 5000' <<<"$out"
check "the record keeps at most 32 ranges" jq -e '(.rules[0].seen[0].ports | length) <= 32' <<<"$out"
check "no trigger was lost" sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j status | jq -e '.nflog_lost == 0 and .nflog_enobufs == 0'"

# learn off: the rules go (the forwardings stay), nothing is recorded; on again
check "learn --clear" ctl learn --clear
sed -i '1i learn off' "$CONF/ra.conf"
check "reload with learn off" ctl reload
check "the learn rules are gone" test "$(learn_rules)" = 0
check "the forwardings stay" has_forwarding realaudio 192.168.7.3
check "and carry traffic" reaches "$LAN2" udp 7001
trigger "$LAN1" tcp 7070 203.0.113.9
wait_for fwd has_forwarding realaudio 192.168.7.2
spray 203.0.113.9 203.0.113.1 1024 1100
# a connection nothing logs gives no sign: give it a second to be wrongly recorded
check_not "with learn off nothing is recorded" wait_for_s1 learned '.records > 0 or .unattributed > 0'
check "learn says it is off" sh -c "'$IPAUTOFWCTL' -s '$SOCK' learn | grep -q 'learn mode is off'"
sed -i '1s/learn off/learn on/' "$CONF/ra.conf"
check "reload with learn on" ctl reload
check "the learn rules are back" test "$(learn_rules)" = 2
trigger "$LAN1" tcp 7070 203.0.113.9
spray 203.0.113.9 203.0.113.1 2000 2001
check "and it learns again" wait_for again learned '.records == 1 and .rules[0].seen[0].ports == ["2000-2001"]'
kill "$mon"
wait "$mon" 2>/dev/null
finish
