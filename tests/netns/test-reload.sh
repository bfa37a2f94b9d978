#!/bin/bash
# Reload: unchanged rules keep their forwardings, a bad configuration is
# refused and changes nothing, removed rules lose theirs; --check works
# unprivileged; SIGTERM removes the table.
. "$(dirname "$0")/lib.sh"
topo_up
conf 10-ra <<'C'
rule realaudio trigger 7070/tcp forward 6970-7170/udp timeout 5m
C
conf 20-x11 <<'C'
rule x11 trigger 6000/tcp forward 6000-6100/tcp timeout 5m
C
start_daemon
trigger "$LAN1" tcp 7070
trigger "$LAN2" tcp 6000
check "two forwardings open" wait_for two sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j list | jq -e 'length == 2'"

# a new rule file, then SIGHUP: existing forwardings survive
conf 30-phone <<'C'
rule phone trigger 22555/udp forward 22555/udp
C
kill -HUP "$DAEMON_PID"
check "SIGHUP loads the new rule" wait_for rules sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j rules | jq -e 'length == 3'"
check "realaudio kept across SIGHUP" has_forwarding realaudio 192.168.7.2
check "and still forwards" reaches "$LAN1" udp 7000
check "x11 kept" reaches "$LAN2" tcp 6001

# a bad configuration: refused with every error, the running rules stay
conf 40-bad <<'C'
rule broken trigger 0/tcp forward 1-2/xdp
rule clash trigger 1/tcp forward 7000/udp
C
out=$(ctl reload 2>&1); rc=$?
check "bad reload exits 1" test "$rc" = 1
check "bad reload prints FILE:LINE:COL errors" grep -q "40-bad.conf:1:21: error: port 0 out of range 1-65535" <<<"$out"
check "and the second error too" grep -q "40-bad.conf:2:34: error: forward 7000/udp overlaps forward 6970-7170/udp of rule 'realaudio'" <<<"$out"
check "and a caret" grep -q '^ *\^$' <<<"$out"
check "rules unchanged after the bad reload" sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j rules | jq -e 'length == 3'"
check "forwarding unchanged after the bad reload" reaches "$LAN1" udp 7001
kill -HUP "$DAEMON_PID"
check "a bad SIGHUP reload is logged and refused" wait_for log grep -q "reload refused" "$TMP/daemon.log"
check "daemon still alive" kill -0 "$DAEMON_PID"
check "status counts reloads and refusals" sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j status | jq -e '.reloads == 3 and .reload_failures == 2'"
rm "$CONF/40-bad.conf"

# a changed rule loses its forwarding, an unchanged one keeps it
conf 20-x11 <<'C'
rule x11 trigger 6000/tcp forward 6000-6200/tcp timeout 5m
C
# nft -n: protocols as numbers (6 tcp, 17 udp) whatever /etc/protocols holds
check "kernel element of x11 there before" rtr sh -c "nft list map inet ipautofw act4_x11 | grep -q ': 192.168.7.3'"
check "good reload exits 0" ctl reload
check_not "changed rule x11 lost its forwarding" has_forwarding x11 192.168.7.3
check "kernel element of x11 gone" sh -c "! ip netns exec '$RTR' nft list map inet ipautofw act4_x11 | grep -q ': 192.168.7.3'"
check "unchanged realaudio kept" reaches "$LAN1" udp 7002
rm "$CONF/10-ra.conf"
check "reload without realaudio" ctl reload
check_not "removed rule lost its forwarding" has_forwarding realaudio 192.168.7.2
check "removed rule no longer forwards" blocked "$LAN1" udp 7003

# --check, unprivileged, no netlink
check "--check as nobody accepts a good config" setpriv --reuid=65534 --regid=65534 --clear-groups "$IPAUTOFWD" --check -C "$CONF"
conf 50-bad <<'C'
rule bad trigger 7070/tcp
C
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$IPAUTOFWD" --check -C "$CONF" 2>&1); rc=$?
check "--check as nobody rejects a bad config with exit 1" test "$rc" = 1
check "--check names the place" grep -q "50-bad.conf:1:6: error: rule 'bad' has no 'forward'" <<<"$out"

# a FIFO named *.conf (opening it would block until a writer comes): refused at once
mkfifo "$CONF/60-fifo.conf"
kill -HUP "$DAEMON_PID"
check "a FIFO in the rule directory: the reload is refused" wait_for fifo grep -q "60-fifo.conf: error: not a regular file" "$TMP/daemon.log"
check "and the daemon still answers" ctl status
out=$(timeout 10 "$IPAUTOFWD" --check -C "$CONF" 2>&1); rc=$?
check "--check with a FIFO exits 1 at once" test "$rc" = 1
check "naming it" grep -q "60-fifo.conf: error: not a regular file" <<<"$out"
rm "$CONF/60-fifo.conf"
rm "$CONF/50-bad.conf"

# warnings: said by reload and in the log, the configuration applied all the same
conf 70-short <<'C'
rule short trigger 7171/tcp forward 7300/udp timeout 5
C
echo "rule skipped trigger 1/tcp forward 2/tcp" >"$CONF/80-skipped.cfg"
out=$(ctl reload 2>&1); rc=$?
check "a reload with warnings succeeds" test "$rc" = 0
check "saying the bare timeout" grep -q "70-short.conf:1:54: warning: timeout 5 is 5 seconds (a bare number is seconds); did you mean 5m?" <<<"$out"
check "and the file skipped for its name" grep -q "80-skipped.cfg: warning: not read: only files whose names end in .conf are" <<<"$out"
check "then that it reloaded" sh -c "tail -1 <<'E' | grep -q '^reloaded: '
$out
E"
check "the rule is loaded" sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j rules | jq -e 'any(.[]; .name == \"short\" and .timeout == 5)'"
check "the warning is in the log" grep -q "warning: timeout 5 is 5 seconds" "$TMP/daemon.log"

check "SIGTERM exits 0" stop_daemon
check_not "table removed" rtr nft list table inet ipautofw
check_not "control socket removed" test -e "$SOCK"
check "ctl says not running (exit 3)" sh -c "'$IPAUTOFWCTL' -s '$SOCK' list; test \$? = 3"
finish
