#!/bin/bash
# The metrics as a monitoring setup reads them: the command of
# ipautofw-metrics.service (what the timer runs) writes the textfile, a
# real prometheus-node-exporter serves it through its textfile collector,
# and a real Prometheus server scrapes the exporter, both on loopback in
# the router's namespace. A scripted trigger, takeover, refusal
# (exclusive) and forged trigger: the exporter's /metrics shows them and
# the HTTP API's query for ipautofw_triggers_total returns them.
. "$(dirname "$0")/lib.sh"
: "${RAWSEND:?}" "${METRICS_SERVICE:?}"
for p in prometheus prometheus-node-exporter curl; do
	command -v "$p" >/dev/null || skip "needs $p"
done
# started as `ip netns exec` itself (it execs them): $! is the server's own PID
EXPORTER_PID=
PROM_PID=
stop_servers() {
	local pid
	for pid in $EXPORTER_PID $PROM_PID; do
		kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	EXPORTER_PID= PROM_PID=
}
trap 'stop_servers; cleanup' EXIT
topo_up
conf m <<'C'
rule realaudio trigger 7070/tcp forward 6970-7170/udp timeout 5m
rule excl trigger 7080/tcp forward 8000-8010/udp exclusive timeout 5m
C
start_daemon
TEXTFILE="$TMP/node-exporter"
mkdir "$TEXTFILE"

# the unit's own command, with this test's socket and directory
cmd=$(sed -n 's/^ExecStart=//p' "$METRICS_SERVICE")
check "the service writes ipautofw.prom into the exporter's textfile directory" \
	grep -q ' metrics --output /var/lib/prometheus/node-exporter/ipautofw.prom$' <<<"$cmd"
write_metrics() {
	local c=${cmd/\/var\/lib\/prometheus\/node-exporter/$TEXTFILE}
	c=${c/#*\/ipautofwctl /$IPAUTOFWCTL -s $SOCK }
	# shellcheck disable=SC2086
	$c
}

vet_lan
trigger "$LAN1" tcp 7070
check "opened" wait_for opened has_forwarding realaudio 192.168.7.2
trigger "$LAN2" tcp 7070
check "taken over" wait_for taken has_forwarding realaudio 192.168.7.3
trigger "$LAN1" tcp 7080
check "opened (exclusive)" wait_for ex has_forwarding excl 192.168.7.2
trigger "$LAN2" tcp 7080
check "refused (exclusive)" wait_for refused sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j status | jq -e '.refused == 1'"
RMAC=$(ip -n "$RTR" -j link show br-lan | jq -r '.[0].address')
ip netns exec "$LAN1" "$RAWSEND" eth0 "$RMAC" - 192.168.7.3 203.0.113.9 tcp 7070 >/dev/null
check "forged" wait_for forged sh -c "'$IPAUTOFWCTL' -s '$SOCK' -j status | jq -e '.triggers_forged == 1'"
check "the service's command writes the file" write_metrics
check "only the file, no temporary one" test "$(ls "$TEXTFILE")" = ipautofw.prom

t0=$(date +%s%N)
ip netns exec "$RTR" prometheus-node-exporter --web.listen-address=127.0.0.1:9100 --collector.disable-defaults \
	--collector.textfile --collector.textfile.directory="$TEXTFILE" >"$TMP/exporter.log" 2>&1 &
EXPORTER_PID=$!
scrape() { rtr curl -sf --max-time 2 http://127.0.0.1:9100/metrics; }
check "the node exporter serves" wait_for exporter scrape
scrape >"$TMP/scraped"
echo "# node exporter up after $((($(date +%s%N) - t0) / 1000000)) ms"
grep '^ipautofw_triggers_total' "$TMP/scraped" | sed 's/^/# /'
has() { grep -qxF "$1" "$TMP/scraped"; }
# (the exporter gives every series of a family the same label names: reason="" is no reason)
check "exporter: opened 2" has 'ipautofw_triggers_total{outcome="opened",reason=""} 2'
check "exporter: taken over 1" has 'ipautofw_triggers_total{outcome="taken_over",reason=""} 1'
check "exporter: refused (exclusive) 1" has 'ipautofw_triggers_total{outcome="refused",reason="exclusive"} 1'
check "exporter: forged 1" has 'ipautofw_triggers_total{outcome="forged",reason="daemon"} 1'
check "exporter: forwardings by rule" has 'ipautofw_forwardings{family="ipv4",rule="realaudio"} 1'
check "exporter: the file read without error" has 'node_textfile_scrape_error 0'

cat >"$TMP/prometheus.yml" <<'Y'
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ['127.0.0.1:9100']
Y
t0=$(date +%s%N)
ip netns exec "$RTR" prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/tsdb" \
	--web.listen-address=127.0.0.1:9090 >"$TMP/prometheus.log" 2>&1 &
PROM_PID=$!
query() {
	rtr curl -sf --max-time 2 -G http://127.0.0.1:9090/api/v1/query --data-urlencode "query=$1"
}
# the value of the series of ipautofw_triggers_total with OUTCOME (and REASON), as Prometheus has it
prom_value() {
	query ipautofw_triggers_total | jq -er --arg o "$1" --arg r "${2:-}" '
		.data.result[] | select(.metric.outcome == $o and (.metric.reason // "") == $r) | .value[1]'
}
scraped_all() { test "$(prom_value opened)" = 2; }
ok_prom=0
for i in $(seq 600); do
	if scraped_all 2>/dev/null; then
		ok_prom=1
		break
	fi
	kill -0 "$PROM_PID" 2>/dev/null || break
	sleep 0.1
done
echo "# Prometheus answered after $((($(date +%s%N) - t0) / 1000000)) ms"
check "Prometheus scraped the exporter: opened 2" test "$ok_prom" = 1
check "taken over 1" test "$(prom_value taken_over)" = 1
check "refused (exclusive) 1" test "$(prom_value refused exclusive)" = 1
check "forged 1" test "$(prom_value forged daemon)" = 1
from_exporter() {
	query 'ipautofw_triggers_total{outcome="opened",job="node",instance="127.0.0.1:9100"}' |
		jq -e '.data.result | length == 1'
}
check "from the node exporter's job" from_exporter
[ "$ok_prom" = 1 ] || tail -20 "$TMP/prometheus.log"
stop_servers
finish
