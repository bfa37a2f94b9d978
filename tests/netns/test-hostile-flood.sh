#!/bin/bash
# Hostile LAN, floods and limits (DESIGN §2.11): max-per-host and
# max-forwardings refuse, count and remove nothing; `allow` keeps other
# sources out; overlapping peer rules are refused with both locations.
# Then one host sends a datagram from each of 70,000 addresses of its own
# IPv6 /64, and another from 70,000 IPv4 addresses of a /15 LAN (none of
# them a neighbour the router knows: they share one budget in the kernel):
# another host's trigger is still served within a second after each.
# (test-hostile-fair.sh: the same while the floods run, forged neighbours.)
. "$(dirname "$0")/lib.sh"
: "${RAWSEND:?}"
topo_up
RMAC=$(ip -n "$RTR" -j link show br-lan | jq -r '.[0].address')
# raw NS SRC DST PROTO PORT [COUNT PPS inc]
raw() { local ns=$1; shift; ip netns exec "$ns" "$RAWSEND" eth0 "$RMAC" - "$@" >/dev/null; }
n_of() { ctl -j list | jq --arg r "$1" --arg h "$2" '[.[] | select(.rule == $r and .host == $h)] | length'; }
st() { ctl -j status | jq -r ".$1"; }
# served_within MS RULE HOST: the forwarding shows up within MS milliseconds
served_within() {
	local t0 i
	t0=$(date +%s%3N)
	for i in $(seq 200); do
		has_forwarding "$2" "$3" && break
		sleep 0.01
	done
	echo "  served after $(($(date +%s%3N) - t0)) ms"
	has_forwarding "$2" "$3" && [ $(($(date +%s%3N) - t0)) -le "$1" ]
}

# ---- max-per-host, max-forwardings ------------------------------------------
conf limits <<'C'
max-per-host 3
max-forwardings 5
rule voip trigger 5060/udp forward 10000-10100/udp peer timeout 5m
rule big trigger 5070/udp forward 11000/udp peer timeout 5m max-per-host 4
C
start_daemon
for i in 1 2 3 4; do raw "$LAN1" 192.168.7.2 198.18.0.$i udp 5060; done
check "the fourth is refused and counted" wait_for fourth sh -c "test \$('$IPAUTOFWCTL' -s '$SOCK' -j status | jq .refused_max_per_host) = 1"
check "max-per-host 3: LAN1 holds three voip forwardings" test "$(n_of voip 192.168.7.2)" = 3
raw "$LAN1" 192.168.7.2 198.18.1.1 udp 5070
check "a rule's own max-per-host counts apart" wait_for big has_forwarding big 192.168.7.2
for i in 1 2; do raw "$LAN2" 192.168.7.3 198.18.2.$i udp 5060; done
check "max-forwardings 5: the fifth opens" wait_for fifth sh -c "test \$('$IPAUTOFWCTL' -s '$SOCK' -j list | jq length) = 5"
check "the sixth is refused and counted" wait_for sixth sh -c "test \$('$IPAUTOFWCTL' -s '$SOCK' -j status | jq .refused_max_forwardings) = 1"
check "a refused trigger removes nothing: all five are in the kernel" \
	sh -c "test \$(ip netns exec '$RTR' nft list table inet ipautofw | grep -o ' : 192\.168\.7\.' | wc -l) = 5"
check "the kernel's sets are bounded" sh -c "ip netns exec '$RTR' nft list map inet ipautofw act4p_voip | grep -q 'size 1024'"
check "refused triggers are logged" grep -q "voip: trigger from 192.168.7.3 refused: 5 forwardings active (max-forwardings 5)" "$TMP/daemon.log"
check "status shows the limits" sh -c "'$IPAUTOFWCTL' -s '$SOCK' status | grep -q '^limits: *1 at max-per-host 3, 1 at max-forwardings 5'"
stop_daemon

# ---- allow ------------------------------------------------------------------
rm -f "$CONF"/*.conf
conf allow <<'C'
allow 192.168.7.2, 2001:db8:7::2
rule ra trigger 7070/tcp forward 6970-7170/udp timeout 5m
rule open trigger 7071/tcp forward 7300/udp allow 192.168.7.0/24 timeout 5m
C
start_daemon
trigger "$LAN2" tcp 7070
trigger "$LAN1" tcp 7070
check "allow: a listed host triggers" wait_for allowed has_forwarding ra 192.168.7.2
check "allow: an unlisted one does not" test "$(n_of ra 192.168.7.3)" = 0
check "and is counted" test "$(st triggers_not_allowed)" -ge 1
trigger "$LAN2" tcp 7071
check "a rule's own allow replaces the global one" wait_for open has_forwarding open 192.168.7.3
trigger "$LAN2" tcp 7070 2001:db8:1::9
trigger "$LAN1" tcp 7070 2001:db8:1::9
check "allow over IPv6" wait_for allowed6 has_forwarding ra 2001:db8:7::2
check "allow over IPv6: LAN1 took it, LAN2 never had it" test "$(n_of ra 2001:db8:7::3)" = 0

# ---- the router's own ports under a forward range (issue 12 item 7)
"$NSPROBE" listen "$RTR" 7000 3000 >/dev/null &
l1=$!
"$NSPROBE" listen "$RTR" 8000 3000 >/dev/null &
l2=$!
wait_for listening sh -c "ip netns exec '$RTR' ss -lun | grep -q ':8000 ' && ip netns exec '$RTR' ss -lun | grep -q ':7000 '"
out=$(ctl status)
check "status warns about the router's own udp 7000 under ra's range" \
	grep -q "^warning: rule 'ra' forwards 6970-7170/udp, which covers udp port 7000 the router itself listens on (0.0.0.0)" <<<"$out"
check "and not about its port 8000, outside every range" test "$(grep -c 'port 8000' <<<"$out")" = 0
check "in JSON too" sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j status | jq -e 'any(.warnings[]; test(\"covers udp port 7000\"))' >/dev/null"
kill "$l1" "$l2" 2>/dev/null
wait "$l1" "$l2" 2>/dev/null
stop_daemon

# ---- overlapping peer rules -------------------------------------------------
mkdir -p "$TMP/overlap"
printf 'rule gameA trigger 5000/tcp forward 5000-5010/udp peer\nrule gameB trigger 5001/tcp forward 5005-5020/udp peer\n' >"$TMP/overlap/games.conf"
out=$("$IPAUTOFWD" --check -C "$TMP/overlap" 2>&1)
rc=$?
echo "$out" | head -1
check "overlapping peer rules are refused by --check" test "$rc" = 1
check "with both locations" grep -q "games.conf:2:37: error: forward 5005-5020/udp overlaps forward 5000-5010/udp of rule 'gameA' (.*games.conf:1:37)" <<<"$out"

# ---- floods -----------------------------------------------------------------
rm -f "$CONF"/*.conf
conf flood <<'C'
rule ra trigger 7070/udp forward 6970-7170/udp exclusive timeout 5m
rule voip trigger 5060/udp forward 10000-10100/udp peer timeout 5m
C
ip -n "$RTR" addr add 2001:db8:9::1/64 dev br-lan nodad
ip -n "$RTR" addr add 10.0.0.1/15 dev br-lan
start_daemon
# IPv6: 70,000 addresses of one /64, none a neighbour the router knows: one budget for all
raw "$LAN1" 2001:db8:9::2 2001:db8:1::9 udp 7070 70000 0 inc
limited=$(st triggers_limited_shared)
echo "  the /64 flood: $limited limited in the kernel, $(st triggers_seen) reached the daemon"
check "the /64 flood was limited in the kernel, on the shared budget" test "$limited" -ge 60000
trigger "$LAN2" udp 5060 2001:db8:1::10
check "another host's IPv6 trigger is served within a second" served_within 1000 voip 2001:db8:7::3
# IPv4: 70,000 addresses, the same
raw "$LAN1" 10.0.0.2 203.0.113.9 udp 7070 70000 0 inc
echo "  the /15 flood: $(st triggers_limited_shared) limited in the kernel in all"
# LAN2's first IPv4 trigger (a neighbour the router may not know yet: then on the shared budget too)
trigger "$LAN2" udp 5060 203.0.113.11
check "after the flood, a new host's trigger is served within a second" served_within 1000 voip 192.168.7.3
check "the flooding addresses got nothing but the first of each family" \
	sh -c "test \"\$('$IPAUTOFWCTL' -s '$SOCK' -j list | jq -c '[.[] | select(.rule == \"ra\") | .host] | sort')\" = '[\"10.0.0.2\",\"2001:db8:9::2\"]'"
ctl status | grep -E 'triggers|refused|errors'
finish
