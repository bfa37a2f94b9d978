unshare -n bash -c '
nft -f - <<E
table inet t {
 set learn4 { type ipv4_addr; size 65536; flags timeout; }
 set l2 { type ipv4_addr; flags timeout; }
}
E
nft -f - <<E
add element inet t learn4 { 1.2.3.4 }
delete element inet t learn4 { 1.2.3.4 }
E
echo rc1=$?
nft -f - <<E
add element inet t l2 { 1.2.3.4 }
delete element inet t l2 { 1.2.3.4 }
E
echo rc2=$?
nft add element inet t learn4 { 1.2.3.5 timeout 10s }
nft -f - <<E
add element inet t learn4 { 1.2.3.5 }
delete element inet t learn4 { 1.2.3.5 }
add element inet t learn4 { 1.2.3.5 timeout 20s }
E
echo rc3=$?
nft add element inet t learn4 { 1.2.3.6 timeout 10s }
nft delete element inet t learn4 { 1.2.3.6 }
echo rc4=$?
nft list ruleset
'
