#!/bin/bash
# Hostile LAN, the control socket (issue 12 item 5): members of the socket
# group ask for a 2 MB `-j list` 64 times and never read, or open clients
# as fast as they can. The daemon holds at most its budget of replies for
# them (the time root's `status` takes meanwhile is printed, not asserted:
# the budget and the busy answers are what this checks), and no root client is closed
# to make room for theirs. A group member's list is answered when nobody
# hogs (so the refusals below are the budget, not a broken list).
. "$(dirname "$0")/lib.sh"
: "${CTLPOKE:?}"
topo_up
lan1_machines
conf voip <<'C'
rule voip trigger 5060/udp forward 10000-10100/udp peer timeout 5m
C
start_daemon --socket-group nogroup
nobody() { setpriv --reuid=65534 --regid=65534 --groups=65534 "$@"; }
machines_burst 10 5060 >/dev/null
check "10,000 forwardings" wait_for all sh -c "test \$('$IPAUTOFWCTL' -s '$SOCK' -j status | jq .forwardings) = 10000"
size=$(nobody "$IPAUTOFWCTL" -s "$SOCK" -j list | wc -c)
echo "  one -j list: $size bytes"
check "a group member's -j list is answered in full" test "$size" -gt 1500000
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$DAEMON_PID/status"; }
rss0=$(rss)

# ---- 64 clients that ask and never read
nobody "$CTLPOKE" "$SOCK" hog 64 3000 list >"$TMP/hog.out" &
hog=$!
wait_for asked grep -q "^64 clients asked" "$TMP/hog.out"
t0=$(date +%s%3N)
ctl status >/dev/null
rc=$?
ms=$(($(date +%s%3N) - t0))
echo "  root's status with 64 hogs: $ms ms"
check "root's status is answered while 64 group members hog" test "$rc" = 0
check "root's own -j list is answered in full" sh -c "test \$('$IPAUTOFWCTL' -s '$SOCK' -j list | jq length) = 10000"
out=$(nobody "$IPAUTOFWCTL" -s "$SOCK" -j list 2>&1)
check "another group member's list is refused as busy" grep -q "^busy: " <<<"$out"
rss1=$(rss)
echo "  daemon RSS: $rss0 KiB before, $rss1 KiB with the hogs"
# (AddressSanitizer keeps freed memory in quarantine: RSS says nothing there)
if ! ldd "$IPAUTOFWD" | grep -q libasan; then
	check "the daemon holds at most its budget for them (8 MiB, and what building takes)" \
		test $((rss1 - rss0)) -lt 32768
fi
wait "$hog"
cat "$TMP/hog.out"
check "most hogs were told busy, not fed" sh -c "test \$(sed -n 's/^\([0-9]*\) of 64 answered busy/\1/p' '$TMP/hog.out') -ge 56"
check "after the hogs leave, group members are answered again" \
	wait_for again sh -c "setpriv --reuid=65534 --regid=65534 --groups=65534 '$IPAUTOFWCTL' -s '$SOCK' -j list | jq -e 'length == 10000' >/dev/null"

# ---- a connection flood by group members: root's clients are never closed for theirs
nobody "$CTLPOKE" "$SOCK" flood 4000 >"$TMP/flood.out" &
flood=$!
wait_for flooding grep -q "^flooding" "$TMP/flood.out"
fails=0
for i in $(seq 30); do
	ctl -j status >/dev/null 2>&1 || fails=$((fails + 1))
done
wait "$flood"
cat "$TMP/flood.out"
check "30 of 30 root status calls answered during the flood" test "$fails" = 0
check "daemon alive" kill -0 "$DAEMON_PID"
finish
