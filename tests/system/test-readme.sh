#!/bin/bash
# The README's quick start, as written: its code blocks, taken from
# README.md (tests/system/readme.py; every block is marked readme-test,
# illustration or output, and this checks the marks), run in a booted
# Debian 12 container (systemd as PID 1, no network inside) behind an
# administrator's nftables firewall with forward policy drop: install the
# .deb the package suite builds as the README says to build it, one rule
# from the examples, the firewall lines, a LAN host's trigger with
# `monitor` watching, `list`, the troubleshooting commands; real traffic
# from outside reaches the LAN host once the lines are in, and not before.
# What the commands print is compared with the README's sample output.
. "$(dirname "$0")/lib.sh"
for tool in dpkg-buildpackage dh cc python3; do
	command -v "$tool" >/dev/null || skip "$tool is not installed (scripts/deps.sh installs it)"
done

README=$SYS_SRC/README.md
block() { python3 "$SYS_DIR/readme.py" block "$README" "$1"; }
output() { python3 "$SYS_DIR/readme.py" output "$README" "$1"; }

echo "# the README's code blocks"
out=$(python3 "$SYS_DIR/readme.py" check "$README")
check "every code block is marked readme-test, illustration or output" test -z "$out"
[ -n "$out" ] && echo "$out"
for id in install rule nftables monitor list trace troubleshoot; do
	check "block readme-test: $id is there, once" quiet block "$id"
done
# the build block is the package suite's build, which this test installs
build_block=$(awk '/illustration: tests\/package\/build.sh/ { m = 1; next }
	m && /^```/ { if (in_block) exit; in_block = 1; next } in_block' "$README")
check "the README builds the package as tests/package/build.sh does" \
	sh -c "grep -qx 'dpkg-buildpackage -us -uc -b' <<'E' && grep -q 'dpkg-buildpackage -us -uc -b' '$SYS_SRC/tests/package/build.sh'
$build_block
E"

OUT=${IAF_PKG_OUT:-$TMP/deb}
changes=$(bash "$SYS_SRC/tests/package/build.sh" "$OUT") || { echo "building the package failed"; exit 1; }
V=$(dpkg-parsechangelog -l "$SYS_SRC/debian/changelog" -S Version)
DEB=$(ls "$(dirname "$changes")"/ipautofw_"$V"_*.deb)

sys_setup
# the package lands in the directory above the tree: /root here, the tree /root/ipautofw
mkdir -p "$ROOT/root/ipautofw"
cp "$DEB" "$ROOT/root/"
cc -O2 -D_GNU_SOURCE -o "$ROOT/usr/local/bin/nsprobe" "$SYS_SRC/tests/tools/nsprobe.c"
sys_boot
sys_topo

# the administrator's firewall: a router's, forward policy drop, the LAN out to the WAN
ct nft -f - <<'NFT'
table inet filter {
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		iifname "veth-lan" oifname "veth-wan" accept
	}
}
NFT

# run ID: the README's block ID in a root shell in the tree, as typed; its output in $TMP/ID.out
run() {
	local cmds
	cmds=$(block "$1") || return 1
	echo "$cmds" | sed 's/^/#   $ /'
	ct sh -ec "cd /root/ipautofw
$cmds" </dev/null >"$TMP/$1.out" 2>&1
}
has_forwarding() { ct ipautofwctl -j list | jq -e 'any(.[]; .rule == "rtsp" and .host == "192.168.7.2")'; }

echo "# 1. install"
check "the install block runs" run install
check "the service runs" test "$(ct systemctl is-active ipautofw)" = active
check "status says it is idle" grep -q '^rules: *none, idle' "$TMP/install.out"
check "the README and the examples are installed" \
	ct test -e /usr/share/doc/ipautofw/README.md.gz -a -e /usr/share/doc/ipautofw/examples/streaming.conf

echo "# 2. one rule"
check "the rule block runs" run rule
check "--check said OK" grep -q '^configuration OK: 1 rule$' "$TMP/rule.out"
rule=$(output 1)
check "rules shows the rule the README quotes: $rule" grep -qxF "$rule" "$TMP/rule.out"

echo "# 3. the firewall line"
warned() { ct ipautofwctl status | grep -q '^warning: table inet filter, chain forward drops IPv4 forwardings'; }
check "without it, status names the admin's forward chain" warned
check "a LAN host connects out to tcp 554" trigger tcp 554
check "a forwarding opens" wait_for 5 has_forwarding
check_not "but the stream does not reach the host through the admin's drop" reaches udp 7000 500
check "the nftables block runs" run nftables
check_not "status no longer warns" warned
check "and the stream reaches the host" reaches udp 7001
ct ipautofwctl flush >/dev/null

echo "# 4. trigger it, and watch"
ct sh -c "cd /root/ipautofw && timeout 30 sh -c '$(block monitor)'" </dev/null >"$TMP/monitor.out" 2>&1 &
mon=$!
watching() { ct ss -xp | grep -q '"ipautofwctl"'; }
check "monitor is connected" wait_for 10 watching
check "the LAN host starts the stream: tcp 554 out" trigger tcp 554
sample=$(output 2 | sed 's/^[0-9:.]* //')
# the machine's MAC is the LAN host's own, whatever the README's sample shows
sample_re=$(sed 's/([0-9a-f:]*)/([0-9a-f:]*)/' <<<"$sample")
seen() { grep -q "^[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\.[0-9][0-9][0-9] $sample_re\$" "$TMP/monitor.out"; }
check "monitor prints the README's line: <time> $sample" wait_for 5 seen
check "udp 7002 from outside reaches the LAN host" reaches udp 7002
# Ctrl-C: SIGINT to ipautofwctl in the container (the only one running)
check "Ctrl-C ends monitor" ct kill -INT $(ct pgrep -x ipautofwctl)
check "which exits 0" wait "$mon"
check "the list block runs" run list
want=$(output 3)
check "list prints the README's header" test "$(head -1 "$TMP/list.out")" = "$(head -1 <<<"$want")"
row() { awk 'NR == 2 { print $1, $2, $3, $4, $5, $6 }'; }
check "and its row, the time aside ($(row <<<"$want"))" test "$(row <"$TMP/list.out")" = "$(row <<<"$want")"
check "and its count" test "$(tail -1 "$TMP/list.out")" = "$(tail -1 <<<"$want")"

echo "# 5. when nothing happens"
echo "$(block trace)" | sed 's/^/#   $ /'
ct sh -c "cd /root/ipautofw && $(block trace)" </dev/null >"$TMP/trace.out" 2>&1 &
tracer=$!
tracing() { ct nft list chain inet ipautofw trace; }
check "the trace is on" wait_for 10 tracing
check "the LAN host starts the stream again" trigger tcp 554
check "udp 7003 from outside reaches it" reaches udp 7003
told() { grep -qE "$1" "$TMP/trace.out"; }
check "trace tells the trigger, and what ipautofwd did" wait_for 5 told \
	"^[0-9:.]+ out 192.168.7.2 -> 203.0.113.9 554/tcp on veth-lan: accepted, left by veth-wan \(WAN\); trigger of rtsp: ipautofwd (opened|refreshed) rtsp: 6970-32000/udp to 192.168.7.2( \([0-9a-f:]*\))?, 10m$"
check "and the stream: DNATed to the host by ipautofw, accepted" wait_for 5 told \
	"^[0-9:.]+ in 203.0.113.9 -> 203.0.113.1 7003/udp on veth-wan: DNATed to 192.168.7.2 by ipautofw \(rule rtsp\), accepted, left by veth-lan$"
sample=$(output 4 | sed -n 2p | sed 's/^[0-9:.]* in [^:]*: //')
check "the README's sample says what the kernel says when the line is missing" \
	grep -qF "then dropped by table inet filter, chain forward (its policy): that chain needs 'ct status dnat accept' before the drop" <<<"$sample"
check "one ipautofwctl runs: the trace" test "$(ct pgrep -x ipautofwctl | wc -l)" = 1
check "Ctrl-C ends it" ct kill -INT $(ct pgrep -x ipautofwctl)
check "ipautofwctl exits 0" wait "$tracer"
check "and the trace chain goes with it" wait_for 5 eval '! tracing'
check "the troubleshooting block runs" run troubleshoot
check "status, learn and the journal all answered" \
	sh -c "grep -q '^rules:' '$TMP/troubleshoot.out' && grep -q 'ipautofw' '$TMP/troubleshoot.out'"
for f in install rule nftables list trace troubleshoot monitor; do
	[ "$FAILS" = 0 ] || { echo "--- $f"; cat "$TMP/$f.out" 2>/dev/null; }
done
finish
