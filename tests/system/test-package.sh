#!/bin/bash
# The Debian package as an administrator uses it, in a Debian 12 container
# booted with systemd as PID 1 (no network inside: the runtime dependencies
# are in the base): apt install of the .deb, the service enabled and
# active, the user there, idle without rules, the control socket for root
# and group ipautofw only, a trigger opening a forwarding that traffic
# uses; an upgrade to the same source as a newer version (a changelog
# entry made here) while the forwarding is active: same PID, NRestarts
# unchanged, the forwarding kept with its remaining time and never stopping
# to carry new connections; apt remove (stopped, table gone, no process)
# and apt purge (nothing of the package left).
. "$(dirname "$0")/lib.sh"
for tool in dpkg-buildpackage dh cc; do
	command -v "$tool" >/dev/null || skip "$tool is not installed (scripts/deps.sh installs it)"
done

OUT=${IAF_PKG_OUT:-$TMP/deb}
V1=$(dpkg-parsechangelog -l "$SYS_SRC/debian/changelog" -S Version)
V2="$V1+1"
c1=$(bash "$SYS_SRC/tests/package/build.sh" "$OUT") || { echo "building the package failed"; exit 1; }
c2=$(bash "$SYS_SRC/tests/package/build.sh" "$OUT" "$V2") || { echo "building $V2 failed"; exit 1; }
DEB1=$(ls "$(dirname "$c1")"/ipautofw_"$V1"_*.deb)
DEB2=$(ls "$(dirname "$c2")"/ipautofw_"$V2"_*.deb)

sys_setup
mkdir -p "$ROOT/root/debs"
cp "$DEB1" "$DEB2" "$ROOT/root/debs/"
cc -O2 -D_GNU_SOURCE -o "$ROOT/usr/local/bin/nsprobe" "$SYS_SRC/tests/tools/nsprobe.c"
sys_boot
sys_topo

apt_get() { ct env DEBIAN_FRONTEND=noninteractive apt-get -y -q "$@"; }
show() { ct systemctl show ipautofw -p "$1" --value; }
ctl() { ct ipautofwctl "$@"; }
pkg_status() { ct dpkg-query -W -f='${Status} ${Version}' ipautofw 2>/dev/null; }
has_forwarding() {
	ctl -j list | jq -e 'any(.[]; .rule == "realaudio" and .host == "192.168.7.2")'
}
expires() { ctl -j list | jq '.[] | select(.rule == "realaudio") | .expires'; }
table_there() { ct nft list table inet ipautofw >/dev/null 2>&1; }
no_daemon() { ! ct pgrep -x ipautofwd >/dev/null; }

echo "# apt install ./ipautofw_${V1}_*.deb"
check "apt-get install of the .deb, offline" quiet apt_get install "/root/debs/$(basename "$DEB1")"
check "installed, version $V1" test "$(pkg_status)" = "install ok installed $V1"
check "the service is enabled" test "$(ct systemctl is-enabled ipautofw)" = enabled
check "and active" test "$(show ActiveState)/$(show SubState)" = active/running
check "user ipautofw exists" quiet ct getent passwd ipautofw
check "group ipautofw exists" quiet ct getent group ipautofw
check "the daemon runs as ipautofw" test "$(ct ps -o user= -p "$(show MainPID)")" = ipautofw
check "its table is there" table_there
st=$(ctl status)
check "status says it is idle, no rules" grep -q "^rules: *none, idle" <<<"$st"
check "/etc/ipautofw.d is there, empty" ct sh -c 'test -d /etc/ipautofw.d && test -z "$(ls -A /etc/ipautofw.d)"'
ct useradd -M -G ipautofw alice
ct useradd -M bob
check "a member of group ipautofw may read (status)" quiet ct runuser -u alice -- ipautofwctl status
check "and list" quiet ct runuser -u alice -- ipautofwctl -j list
check_not "but not change (reload)" quiet ct runuser -u alice -- ipautofwctl reload
check_not "a user outside the group may not even read" quiet ct runuser -u bob -- ipautofwctl status

echo "# a rule, a trigger, traffic"
cat >"$ROOT/etc/ipautofw.d/realaudio.conf" <<'C'
rule realaudio trigger 7070/tcp forward 6970-7170/udp timeout 5m
C
check "systemctl reload ipautofw" ct systemctl reload ipautofw
check "the LAN host connects to tcp 7070 outside" trigger tcp 7070
check "a forwarding opens" wait_for 5 has_forwarding
check "udp 7000 from outside reaches the LAN host" reaches udp 7000
# let the clock run, so that a forwarding opened afresh would show
aged() { [ "$(expires)" -le 297 ]; }
check "time passes" wait_for 10 aged

echo "# upgrade to $V2 while the forwarding is active"
pid=$(show MainPID)
restarts=$(show NRestarts)
e1=$(expires)
t1=$(date +%s)
# new connections from outside all through the upgrade, each on a fresh port
rm -f "$TMP/probing"
touch "$TMP/probing"
(
	n=0 bad=0
	while [ -e "$TMP/probing" ]; do
		ct nsprobe udp wan lan 203.0.113.1 7001 1000 >/dev/null 2>&1 || bad=$((bad + 1))
		n=$((n + 1))
	done
	echo "$n $bad" >"$TMP/probes"
) &
prober=$!
apt_get install "/root/debs/$(basename "$DEB2")" >"$TMP/upgrade.log" 2>&1
rc=$?
rm -f "$TMP/probing"
wait "$prober"
read -r probes lost <"$TMP/probes"
t2=$(date +%s)
check "apt-get install of $V2 over $V1" test "$rc" = 0
check "installed, version $V2" test "$(pkg_status)" = "install ok installed $V2"
check_not "no warning from the maintainer scripts" grep -i -e warning -e 'ipautofw:' "$TMP/upgrade.log"
check "the same PID ($pid)" test "$(show MainPID)" = "$pid"
check "NRestarts unchanged ($restarts)" test "$(show NRestarts)" = "$restarts"
check "still active" test "$(show ActiveState)/$(show SubState)" = active/running
# the same file (-ef: device and inode), not the path /proc/PID/exe names:
# that depends on where the reader's root is (a chroot around the run)
runs_new() { ct test "/proc/$pid/exe" -ef /usr/sbin/ipautofwd; }
check "the daemon runs the new binary" runs_new
journal() { ct journalctl -u ipautofw -b --no-pager; }
check "it was re-executed, not restarted (journal)" grep -q 'ready (re-executed)' <<<"$(journal)"
check "the forwarding is kept" quiet has_forwarding
e2=$(expires)
check "with its remaining time ($e1 s, then $e2 s $((t2 - t1)) s later)" \
	test "$e2" -le "$e1" -a "$e2" -ge $((e1 - (t2 - t1) - 2))
check "every new connection during the upgrade got through ($lost of $probes lost)" \
	test "$probes" -gt 0 -a "$lost" = 0
check "and after it" reaches udp 7002
echo "# not running at upgrade time: started as usual"
check "systemctl stop ipautofw" ct systemctl stop ipautofw
check "dpkg -i of the same package again" quiet ct dpkg -i "/root/debs/$(basename "$DEB2")"
check "started again" test "$(show ActiveState)/$(show SubState)" = active/running

echo "# apt remove"
check "apt-get remove ipautofw" quiet apt_get remove ipautofw
check_not "the service is stopped" ct systemctl is-active -q ipautofw
check_not "its table is gone" table_there
check "no ipautofwd process left" no_daemon
check "the binaries are gone" ct test ! -e /usr/sbin/ipautofwd
check "the administrator's rule file stays" ct test -f /etc/ipautofw.d/realaudio.conf

echo "# apt purge"
rm "$ROOT/etc/ipautofw.d/realaudio.conf"
check "apt-get purge ipautofw" quiet apt_get purge ipautofw
check "the package is gone from dpkg" test -z "$(pkg_status)"
for f in /etc/ipautofw.d /run/ipautofw.d /run/ipautofw /lib/systemd/system/ipautofw.service \
	/etc/systemd/system/multi-user.target.wants/ipautofw.service \
	/usr/lib/sysusers.d/ipautofw.conf /usr/lib/tmpfiles.d/ipautofw.conf /usr/share/doc/ipautofw; do
	check "no $f" ct test ! -e "$f" -a ! -L "$f"
done
check_not "nothing left in deb-systemd-helper's state" grep -q ipautofw <<<"$(ct find /var/lib/systemd/deb-systemd-helper-enabled)"
check "systemd knows no ipautofw unit" grep -q '^0 unit files' <<<"$(ct systemctl list-unit-files ipautofw.service)"
check "no ipautofwd process" no_daemon
check_not "no table" table_there
finish
