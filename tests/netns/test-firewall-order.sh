#!/bin/bash
# DESIGN §2.1: a trigger the administrator's firewall rejects opens
# nothing, whatever the priority of its forward chain and whichever was
# loaded first. The rejecting chain sits at filter, filter + 10 (where
# firewalld's is), filter + 20 and filter + 100; created before the daemon
# starts (the boot order) and after. An accepted trigger still works.
. "$(dirname "$0")/lib.sh"
topo_up
conf order <<'C'
rule rejected trigger 7070/tcp forward 6970-7170/udp
rule accepted trigger 7071/tcp forward 7171-7180/udp
C

reject_chain() {
	rtr nft -f - <<NFT
table inet rej {
	chain forward {
		type filter hook forward priority filter + $1; policy accept;
		tcp dport 7070 reject
	}
}
NFT
}

for prio in 0 10 20 100; do
	for order in before after; do
		what="chain at filter + $prio, created $order the daemon"
		[ $order = before ] && reject_chain $prio
		start_daemon
		[ $order = after ] && reject_chain $prio
		trigger "$LAN1" tcp 7070
		trigger "$LAN2" tcp 7071
		# NFLOG keeps the order: once the later trigger is served, the
		# rejected one would have been too
		check "$what: the accepted trigger opens" wait_for a$prio$order has_forwarding accepted 192.168.7.3
		check_not "$what: the rejected one opens nothing" has_forwarding rejected 192.168.7.2
		check "$what: and was never seen" sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j status | jq -e '.triggers_seen == 1'"
		check "$what: the accepted forwarding reaches its host" reaches "$LAN2" udp 7175
		check "$what: the rejected range reaches nobody" blocked "$LAN1" udp 7000
		check "$what: SIGTERM exits 0" stop_daemon
		rtr nft delete table inet rej
	done
done
start_daemon
check "the trigger chain sits at the last forward priority" sh -c "ip netns exec '$RTR' nft -j list chain inet ipautofw trigger | jq -e '.nftables[1].chain.prio == 2147483647'"
check "the pinhole chain at the first" sh -c "ip netns exec '$RTR' nft -j list chain inet ipautofw pinhole | jq -e '.nftables[1].chain.prio == -2147483648'"
finish
