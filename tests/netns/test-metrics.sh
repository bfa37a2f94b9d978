#!/bin/bash
# ipautofwctl metrics: a scripted trigger, refresh, takeover, refusal
# (exclusive) and forged trigger counted as such in the Prometheus text
# format, which `promtool check metrics` accepts; forwardings by rule and
# family; the table's named counters; a read command, open to the
# socket's group; --output written atomically.
. "$(dirname "$0")/lib.sh"
: "${RAWSEND:?}"
command -v promtool >/dev/null || skip "needs promtool (Debian package prometheus)"
topo_up
conf m <<'C'
rule realaudio trigger 7070/tcp forward 6970-7170/udp timeout 5m
rule excl.v-1 trigger 7080/tcp forward 8000-8010/udp exclusive family ipv4 timeout 5m
rule game forward 27015/udp to 192.168.7.3
C
start_daemon --socket-group nogroup
# VALUE SERIES: the value of one series ("name{labels}") in the output of metrics
val() { ctl metrics | awk -v s="$1" '$1 == s { print $2 }'; }
is() { test "$(val "$1")" = "$2"; }

check "metrics answers" ctl metrics
ctl metrics >"$TMP/idle.prom"
check "promtool check metrics passes (idle)" sh -c "promtool check metrics <'$TMP/idle.prom'"
check "build info" grep -qx 'ipautofw_build_info{version="[0-9.]*"} 1' "$TMP/idle.prom"
check "kernel info" grep -qx 'ipautofw_kernel_info{table_owner="\(true\|false\)",table_persist="\(true\|false\)",kernel_path="true",has_destroy="\(true\|false\)",has_owner="\(true\|false\)",has_persist="\(true\|false\)",has_fib_forward="\(true\|false\)"} 1' "$TMP/idle.prom"
# an owned table here is a persistent one (the daemon never owns a table that a crash would take)
check_not "never owned without persistence" grep -q 'table_owner="true",table_persist="false"' "$TMP/idle.prom"
check "a counter's HELP and TYPE" grep -qx '# TYPE ipautofw_triggers_total counter' "$TMP/idle.prom"
check "the latency histogram" grep -qx 'ipautofw_trigger_latency_seconds_bucket{le="+Inf"} 0' "$TMP/idle.prom"
check "the static forward, by rule and family" grep -qx 'ipautofw_forwardings{rule="game",family="ipv4"} 1' "$TMP/idle.prom"
check "a rule's families only" sh -c "! grep -q 'rule=\"excl.v-1\",family=\"ipv6\"' '$TMP/idle.prom'"

vet_lan
trigger "$LAN1" tcp 7070
check "opened" wait_for opened is 'ipautofw_triggers_total{outcome="opened"}' 1
check "latency counted" wait_for latency is 'ipautofw_trigger_latency_seconds_count' 1
trigger "$LAN1" tcp 7070
check "refreshed" wait_for refreshed is 'ipautofw_triggers_total{outcome="refreshed"}' 1
trigger "$LAN2" tcp 7070
check "taken over" wait_for taken is 'ipautofw_triggers_total{outcome="taken_over"}' 1
trigger "$LAN1" tcp 7080
check "opened (exclusive rule)" wait_for opened2 is 'ipautofw_triggers_total{outcome="opened"}' 2
trigger "$LAN2" tcp 7080
check "refused: exclusive" wait_for refused is 'ipautofw_triggers_total{outcome="refused",reason="exclusive"}' 1
# a forged trigger: LAN1 writes a frame from another LAN host's address with its own MAC
RMAC=$(ip -n "$RTR" -j link show br-lan | jq -r '.[0].address')
ip netns exec "$LAN1" "$RAWSEND" eth0 "$RMAC" - 192.168.7.3 203.0.113.9 tcp 7070 >/dev/null
forged() { test "$(ctl metrics | awk '$1 ~ /^ipautofw_triggers_total\{outcome="forged"/ { n += $2 } END { print n + 0 }')" = 1; }
check "forged" wait_for forged forged
ctl metrics >"$TMP/busy.prom"
grep -E '^ipautofw_(triggers|forwardings)' "$TMP/busy.prom" | sed 's/^/# /'
check "promtool check metrics passes (after the script)" sh -c "promtool check metrics <'$TMP/busy.prom'"
check "forwardings by rule and family" grep -qx 'ipautofw_forwardings{rule="realaudio",family="ipv4"} 1' "$TMP/busy.prom"
check "of the exclusive rule" grep -qx 'ipautofw_forwardings{rule="excl.v-1",family="ipv4"} 1' "$TMP/busy.prom"
check "none over IPv6" grep -qx 'ipautofw_forwardings{rule="realaudio",family="ipv6"} 0' "$TMP/busy.prom"
check "no host or peer address in any label" sh -c "! grep -v '^#' '$TMP/busy.prom' | grep -qE '192\\.168|203\\.0|2001:db8'"
logged=$(rtr nft -j list counter inet ipautofw triggers | jq '.nftables[] | .counter? // empty | .packets')
check "the table's named counter \"triggers\" counts the logged triggers ($logged)" test "${logged:-0}" -ge 5
check "and metrics shows it" is 'ipautofw_triggers_logged_total' "$logged"
check "a reference to it in the trigger path" sh -c "ip netns exec '$RTR' nft list chain inet ipautofw trig_log | grep -q 'counter name \"triggers\"'"

ctl flush >/dev/null
check "closes by why" is 'ipautofw_forwardings_closed_total{reason="flush"}' 2

# a read command: the socket's group may use it
nobody() { setpriv --reuid=65534 --regid=65534 --groups=65534 "$@"; }
check "a member of the socket's group may read the metrics" sh -c "$(declare -f nobody); nobody '$IPAUTOFWCTL' -s '$SOCK' metrics >/dev/null"
out=$(setpriv --reuid=65534 --regid=1 --clear-groups "$IPAUTOFWCTL" -s "$SOCK" metrics 2>&1); rc=$?
check "outside the group it may not (exit 1)" test "$rc" = 1
out=$(nobody "$IPAUTOFWCTL" -s "$SOCK" flush 2>&1)
check "a refused change is counted" wait_for perm is 'ipautofw_control_refused_total{reason="permission"}' 1

# --output: the file whole, never a half-written one under its name
mkdir "$TMP/textfile"
check "--output writes the file" ctl metrics --output "$TMP/textfile/ipautofw.prom"
check "the same text" sh -c "promtool check metrics <'$TMP/textfile/ipautofw.prom'"
check "readable by the exporter (0644)" test "$(stat -c %a "$TMP/textfile/ipautofw.prom")" = 644
check "no temporary file left" test "$(ls "$TMP/textfile")" = ipautofw.prom
check_not "an unwritable directory fails" ctl metrics --output /proc/ipautofw.prom
check_not "--output needs a file" ctl metrics --output
finish
