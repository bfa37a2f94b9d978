#!/bin/bash
# The kernel path: a rule's first forwarding exists before the trigger
# packet leaves the router (the kernel adds it), so an outside host that
# answers the instant it sees the trigger reaches the right host, IPv4 and
# IPv6; the daemon learns of it from the trigger's log, even when it was
# not running at that moment. The kernel only ever adds: takeovers,
# exclusive rules, limits and the IPv6 owner guard keep the daemon's
# semantics, and the two views agree. --no-kernel-path: the daemon alone.
. "$(dirname "$0")/lib.sh"
topo_up
# IPv6 without NAT: the outside host answers the LAN host's own address
rtr nft insert rule inet admin postrouting meta nfproto ipv6 accept
conf k <<'C'
max-per-host 2
rule realaudio trigger 7070/tcp forward 6970-7170/udp timeout 5m
rule excl trigger 5555/tcp forward 15000-15010/udp exclusive timeout 1m
rule voip trigger 5060/udp forward 10000-10100/udp peer timeout 2m
C
start_daemon
check "the daemon vets the LAN hosts for the kernel" vet_lan
flush="$IPAUTOFWCTL -s $SOCK flush >/dev/null"

# the zero-RTT outside host, against first triggers (nothing active before each)
out=$("$NSPROBE" zerortt first "$LAN1" "$LAN2" "$WAN" eth0 203.0.113.9 7070 7000 20 "$flush")
echo "$out"
check "IPv4: every first datagram reaches the triggering host" grep -q ': 20 rounds, 20 right,' <<<"$out"
out=$("$NSPROBE" zerortt first "$LAN1" "$LAN2" "$WAN" eth0 2001:db8:1::9 7070 7000 20 "$flush")
echo "$out"
check "IPv6: every first datagram passes the pinhole" grep -q ': 20 rounds, 20 right,' <<<"$out"

# with the daemon stopped, the kernel still opens (and learns nothing it should not)
ctl flush >/dev/null
kill -STOP "$DAEMON_PID"
trigger "$LAN1" tcp 7070
check "a stopped daemon: the kernel opened the forwarding" reaches "$LAN1" udp 7000
trigger "$LAN2" tcp 7070
check "and never moves it (takeovers are the daemon's)" reaches "$LAN1" udp 7001
kill -CONT "$DAEMON_PID"
check "the daemon learns it, then takes it over in order" wait_for learn has_forwarding realaudio 192.168.7.3
check "in the kernel too" reaches "$LAN2" udp 7002
check "one element, the new host" sh -c "test \"\$(ip netns exec '$RTR' nft list map inet ipautofw act4_realaudio | grep -o ' : 192\.168\.7\.[0-9]*')\" = ' : 192.168.7.3'"

# exclusive: the second host changes nothing anywhere
trigger "$LAN1" tcp 5555
check "exclusive opens for LAN1" wait_for ex has_forwarding excl 192.168.7.2
trigger "$LAN2" tcp 5555
check "a second host is refused" wait_for exr sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j status | jq -e '.refused >= 1'"
check "the kernel still points at LAN1" reaches "$LAN1" udp 15001

# IPv6: the owner guard keeps one pinhole per rule
trigger "$LAN1" tcp 5555 2001:db8:1::9
check "exclusive opens for LAN1 (IPv6)" wait_for ex6 sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j list | jq -e 'any(.[]; .rule == \"excl\" and .host == \"2001:db8:7::2\")'"
trigger "$LAN2" tcp 5555 2001:db8:1::9
check "a second host's trigger opens no second pinhole" \
	sh -c "test \"\$(ip netns exec '$RTR' nft list set inet ipautofw pin6_excl | grep -o '2001:db8:7::[0-9]*' | tr '\n' ' ')\" = '2001:db8:7::2 '"
check "LAN2 stays closed" blocked_from "$LAN2" udp 15002 2001:db8:7::3 2001:db8:1::9

# limits: what the kernel added beyond max-per-host goes within a loop turn
for i in 1 2 3; do trigger "$LAN2" udp 5060 "203.0.113.$((8 + i))"; done
check "the third peer of a host at its limit is refused" wait_for lim sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j status | jq -e '.refused_max_per_host >= 1'"
check "and gone from the kernel" sh -c "test \$(ip netns exec '$RTR' nft list map inet ipautofw act4p_voip | grep -o ' : 192\.168\.7\.3' | wc -l) = 1"
check "the views agree" sh -c "test \$('$IPAUTOFWCTL' -s '$SOCK' -j list | jq '[.[] | select(.rule == \"voip\")] | length') = 1"
check "no resync was needed" sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j status | jq -e '.resyncs == 0 and .netlink_errors == 0'"
stop_daemon

# --no-kernel-path: no adds in the packet path, forwarding by the daemon alone
start_daemon --no-kernel-path
check "no kernel path in the table" sh -c "! ip netns exec '$RTR' nft list table inet ipautofw | grep -q 'add @act4_realaudio'"
trigger "$LAN1" tcp 7070
check "the daemon opens the forwarding" wait_for nk has_forwarding realaudio 192.168.7.2
check "which forwards" reaches "$LAN1" udp 7003
kill -STOP "$DAEMON_PID"
trigger "$LAN1" tcp 5555 
check "a stopped daemon opens nothing" blocked "$LAN1" udp 15003
kill -CONT "$DAEMON_PID"

# what the kernel lacks (DESIGN §2.14): one line each in the log, and in status
lacks=$(ctl -j status | jq -r '.kernel.lacks | join(",")')
echo "  this kernel lacks: ${lacks:-nothing}"
if [ -n "${IPAUTOFWD_KCAPS_LACK:-}" ]; then
	check "status lists what the kernel is taken to lack" test "$lacks" = "$IPAUTOFWD_KCAPS_LACK"
fi
for c in ${lacks//,/ }; do
	[ "$c" = persist ] && [[ ",$lacks," == *,owner,* ]] && continue	# said by the owner line
	case $c in
	destroy) what="NFT_MSG_DESTROY" ;;
	owner) what="NFT_TABLE_F_OWNER" ;;
	persist) what="NFT_TABLE_F_PERSIST" ;;
	fib-forward) what="fib saddr . iif oif" ;;
	*) what=$c ;;
	esac
	# (once per start: the daemon was started twice)
	check "said once in the log: $c" test "$(grep -c "cannot .*$what.* (Linux [0-9.]* " "$TMP/daemon.log")" = "$(grep -c "ready:" "$TMP/daemon.log")"
	check "and in status: $c" sh -c "'$IPAUTOFWCTL' -s '$SOCK' status | grep -q '^kernel: .*$what'"
done
check "status names the kernel and the table's kind" sh -c "'$IPAUTOFWCTL' -s '$SOCK' status | grep -q '^kernel: .*; table \(owned, persistent\|owned\|not owned\); first triggers by the daemon (--no-kernel-path)'"
finish
