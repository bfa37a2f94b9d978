#!/bin/bash
# ipautofw.service as an administrator runs it: installed with meson
# install --prefix=/usr into a Debian 12 container booted with systemd as
# PID 1; a LAN host and an outside host in namespaces inside it; start,
# triggers and real traffic, the warning for a forward range over the
# router's own port, an idle service past its watchdog, add/del,
# reloads of ipautofw and of nftables, a broken rule file, stop, enable and
# a reboot.
. "$(dirname "$0")/lib.sh"

# how long the service must stay up untouched (the unit's WatchdogSec is 30)
IDLE=${IAF_SYSTEM_IDLE:-45}
RULES=/etc/ipautofw.d/realaudio.conf

sys_setup
sys_install_project
cat >"$ROOT$RULES" <<'EOF'
# RealAudio: tcp 7070 out, udp 6970-7170 back in
rule realaudio trigger 7070/tcp forward 6970-7170/udp timeout 5m
EOF
sys_boot

show() { ct systemctl show ipautofw -p "$1" --value; }
ctl() { ct ipautofwctl "$@"; }
status() { ctl -j status | jq -r ".$1"; }
has_forwarding() {
	ctl -j list | jq -e 'any(.[]; .rule == "realaudio" and .host == "192.168.7.2")'
}
# utime + stime of PID in the container, in clock ticks
cpu_ticks() { ct cat "/proc/$1/stat" | sed 's/^.*) //' | awk '{ print $12 + $13 }'; }
HZ=$(getconf CLK_TCK)

if [ "$SYS_STATE" = running ]; then
	ok "the container boots to 'running' with no failed unit"
else
	fail "the container boots to '$SYS_STATE'"
	ct systemctl --failed --no-pager
fi
check "user ipautofw exists (sysusers)" quiet ct getent passwd ipautofw
check "/run/ipautofw.d made at boot (tmpfiles)" ct test -d /run/ipautofw.d

echo "# start"
check "systemctl start ipautofw" ct systemctl start ipautofw
check "the unit is active" test "$(show ActiveState)/$(show SubState)" = active/running
check "the unit is Type=notify (start returned after READY=1)" test "$(show Type)" = notify
st=$(show StatusText)
check "sd_notify STATUS: '$st'" grep -q '^1 rule' <<<"$st"
pid=$(show MainPID)
uid=$(ct id -u ipautofw)
gid=$(ct id -g ipautofw)
proc=$(ct cat "/proc/$pid/status")
check "the daemon runs as user ipautofw ($uid)" \
	test "$(awk '/^Uid:/ { print $2, $3, $4, $5 }' <<<"$proc")" = "$uid $uid $uid $uid"
check "the daemon runs as group ipautofw ($gid)" \
	test "$(awk '/^Gid:/ { print $2, $3, $4, $5 }' <<<"$proc")" = "$gid $gid $gid $gid"
# CAP_NET_ADMIN is bit 12
for set in CapEff CapPrm CapBnd; do
	v=$(awk -v s="$set:" '$1 == s { print $2 }' <<<"$proc")
	check "$set is CAP_NET_ADMIN only ($v)" test "$v" = 0000000000001000
done
check "ipautofwctl status answers root" quiet ctl status

# before any network is set up: nothing wakes the daemon (no route, no
# interface, no trigger, no control request), only its own timer
echo "# idle for $IDLE s after a restart (watchdog)"
restarts=$(show NRestarts)
check "systemctl restart ipautofw" ct systemctl restart ipautofw
pid=$(show MainPID)
steady() { [ "$(show MainPID)" = "$pid" ] && [ "$(show ActiveState)" = active ]; }
end=$(($(date +%s) + IDLE))
while [ "$(date +%s)" -lt "$end" ] && steady; do
	sleep 1
done
check "still active with the same PID after $IDLE idle s" steady
check "NRestarts unchanged ($restarts -> $(show NRestarts))" test "$(show NRestarts)" = "$restarts"
watchdog_fired() { ct journalctl -b -u ipautofw -o cat | grep -q 'Watchdog timeout'; }
check_not "no watchdog timeout in the journal" watchdog_fired
pid=$(show MainPID)

echo "# a trigger and real traffic"
sys_topo
check "the LAN host connects to tcp 7070 outside" trigger tcp 7070
check "ipautofwctl list shows the forwarding" wait_for 5 has_forwarding
listed() { ctl list | grep realaudio | grep -q 192.168.7.2; }
check "ipautofwctl list (human) names rule and host" listed
check "udp 7000 from outside reaches the LAN host" reaches udp 7000
check_not "udp 8000 (no forward) does not" reaches udp 8000 300

echo "# a forward range over a port the router itself listens on"
# the unit's ProcSubset=pid leaves no /proc/net: the daemon reads its own /proc/self/net
check "the router's namespace named rtr" ct ip netns attach rtr 1
CT_TIMEOUT=30 ct nsprobe listen rtr 7100 20000 >/dev/null 2>&1 &
lpid=$!
listening() { ct ss -Hlun 'sport = :7100' | grep -q .; }
check "a process on the router listens on udp 7100" wait_for 5 listening
covered="rule 'realaudio' forwards 6970-7170/udp, which covers udp port 7100 the router itself listens on"
check "status warns that realaudio's range covers it" grep -qF "warning: $covered" <<<"$(ctl status)"
check "in JSON too" grep -qF "$covered" <<<"$(ctl -j status | jq -r '.warnings[]')"
check_not "and says nothing of /proc it cannot read" grep -q "cannot read /proc" <<<"$(ctl status)"
ct nsprobe trigger udp rtr 127.0.0.1 7100 >/dev/null 2>&1
wait "$lpid" 2>/dev/null

echo "# no table re-creation loop"
# after WHAT: the table re-created at most once, the daemon idle, the
# forwarding still carrying traffic, the same process
after() {
	local what=$1 r1 c0 c1
	c0=$(cpu_ticks "$pid")
	sleep 3
	c1=$(cpu_ticks "$pid")
	r1=$(status table_rebuilds)
	check "$what: table re-created at most once ($((r1 - r0)) times)" test $((r1 - r0)) -le 1
	check "$what: daemon CPU over 3 idle s $(((c1 - c0) * 1000 / HZ)) ms <= 100 ms" \
		test $(((c1 - c0) * 1000 / HZ)) -le 100
	check "$what: the forwarding still carries traffic" wait_for 5 reaches udp 7000
	check "$what: same daemon, active" steady
}
r0=$(status table_rebuilds)
check "ipautofwctl add" quiet ctl add tmp trigger 5000/tcp forward 5001/udp
check "ipautofwctl del" quiet ctl del tmp
after "add + del"
r0=$(status table_rebuilds)
echo 'rule x11 trigger 6000/tcp forward 6001-6010/tcp' >"$ROOT/etc/ipautofw.d/x11.conf"
check "systemctl reload ipautofw (a new rule)" ct systemctl reload ipautofw
check "the new rule is loaded" test "$(status rules)" = 2
after "systemctl reload ipautofw"
r0=$(status table_rebuilds)
check "systemctl restart nftables (flush ruleset)" ct systemctl restart nftables
after "systemctl restart nftables"
r0=$(status table_rebuilds)
reloads=$(status reloads)
check "systemctl reload nftables" ct systemctl reload nftables
reloaded() { [ "$(status reloads)" -gt "$reloads" ]; }
check "the reload propagates to ipautofw" wait_for 5 reloaded
after "systemctl reload nftables"

echo "# a crash, and the firewall reloaded (a flush) while systemd restarts the daemon"
nrestarts=$(show NRestarts)
check "the daemon keeps its forwardings beside its socket" ct grep -q "^fwd realaudio ipv4 192.168.7.2 " /run/ipautofw/forwardings
check "systemctl kill -s KILL ipautofw" ct systemctl kill -s KILL ipautofw
check "nft flush ruleset, then the firewall again" ct sh -c "nft flush ruleset && systemctl restart nftables"
restarted() { [ "$(show NRestarts)" -gt "$nrestarts" ] && [ "$(show ActiveState)" = active ]; }
check "systemd restarted the daemon" wait_for 10 restarted
pid=$(show MainPID)
check "the forwarding is back" wait_for 5 has_forwarding
check "and carries traffic" wait_for 5 reaches udp 7000

echo "# a broken rule file"
printf 'rule web trigger 8080/tcp forward 8081/udp\nrule bad trigger 7071/tcp forward 99999/udp\n' \
	>"$ROOT/etc/ipautofw.d/zz-broken.conf"
col=$(awk 'NR == 2 { print index($0, "99999") }' "$ROOT/etc/ipautofw.d/zz-broken.conf")
loc="/etc/ipautofw.d/zz-broken.conf:2:$col"
rules_before=$(ctl -j rules | jq -c '[.[].name]')
check_not "systemctl reload ipautofw fails" quiet ct systemctl reload ipautofw
check "the unit stays active, same process" steady
check "the old rules stay ($rules_before)" test "$(ctl -j rules | jq -c '[.[].name]')" = "$rules_before"
check "the forwarding still carries traffic" reaches udp 7000
err_names() { ct journalctl -b -u ipautofw -p err -o cat | grep -qF "$loc"; }
check "journalctl -u ipautofw -p err names $loc" err_names
rm "$ROOT/etc/ipautofw.d/zz-broken.conf"
check "with the file gone, the reload succeeds" ct systemctl reload ipautofw

echo "# stop, enable, reboot"
check "the table is there while it runs" quiet ct nft -j list table inet ipautofw
check "systemctl stop ipautofw" ct systemctl stop ipautofw
check "the unit is inactive" test "$(show ActiveState)" = inactive
check_not "the table is gone" quiet ct nft -j list table inet ipautofw
check "systemctl enable ipautofw" ct systemctl enable --quiet ipautofw
check "the container reboots" sys_reboot
check "after the reboot the unit is active" test "$(show ActiveState)" = active
check "after the reboot the table is there" quiet ct nft -j list table inet ipautofw
check "after the reboot both rules are loaded" test "$(status rules)" = 2
sys_topo
trigger tcp 7070
check "after the reboot a trigger opens a forwarding" wait_for 5 has_forwarding
check "after the reboot traffic from outside reaches the LAN host" reaches udp 7000
check "the container powers off cleanly" sys_poweroff
finish
