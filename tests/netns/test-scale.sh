#!/bin/bash
# Netlink done right at scale: 1,000 LAN machines (addresses with a MAC of
# their own) each trigger a peer rule towards 10 outside peers of their own
# (198.18.0.0/15, the benchmarking range, routed to the outside namespace),
# at once: 10,000 distinct forwardings. Every one must
# be in the kernel (batches split below the 64 KiB attribute limit, the
# socket buffer raised), listed once, with no NFLOG loss.
. "$(dirname "$0")/lib.sh"
topo_up
lan1_machines
conf voip <<'C'
rule voip trigger 5060/udp forward 10000-10100/udp peer timeout 5m
C
start_daemon
out=$(machines_burst 10 5060)
echo "$out"
count() { "$IPAUTOFWCTL" -s "$SOCK" -j list | jq length; }
check "the daemon lists 10,000 forwardings" wait_for all sh -c "test \$('$IPAUTOFWCTL' -s '$SOCK' -j list | jq length) = 10000"
echo "listed: $(count)"
kernel=$(rtr nft list map inet ipautofw act4p_voip | grep -o ' : 192\.168\.' | wc -l)
echo "in the kernel: $kernel"
check "all 10,000 are in the kernel" test "$kernel" = 10000
check "no NFLOG loss" sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j status | jq -e '.nflog_lost == 0 and .nflog_enobufs == 0 and .netlink_errors == 0'"
check "each (host, peer) once" sh -c "test \$('$IPAUTOFWCTL' -s '$SOCK' -j list | jq '[.[] | .host + \" \" + .peer] | unique | length') = 10000"
ip -n "$WAN" addr add 198.18.0.1/32 dev eth0
check "a sample forwarding works: to 192.168.16.1 from its peer 198.18.0.1" \
	"$NSPROBE" udp "$WAN" "$LAN1" 203.0.113.1 10050 1000 198.18.0.1
ctl -j status
ctl status | grep -E 'forwardings|latency'
echo "daemon RSS: $(grep VmRSS /proc/$DAEMON_PID/status)"
finish
