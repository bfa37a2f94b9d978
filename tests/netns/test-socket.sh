#!/bin/bash
# The control socket: a second daemon given the same path leaves a live
# socket alone and refuses to start (a stale one, nobody answering, is
# taken over); nothing is ever done through a path that could be a
# symlink, and a socket directory others can write to is refused.
. "$(dirname "$0")/lib.sh"
topo_up 1
conf ra <<'C'
rule realaudio trigger 7070/tcp forward 6970-7170/udp
C
getent group nogroup >/dev/null || skip "needs group nogroup"
start_daemon --socket-group nogroup
check "the socket is srw-rw---- from the start (umask at bind)" test "$(stat -c %A "$SOCK")" = srw-rw----
check "of the socket group" test "$(stat -c %G "$SOCK")" = nogroup

# another daemon, in another network namespace, given the same path
out=$(timeout 10 ip netns exec "$LAN1" "$IPAUTOFWD" -f -C "$CONF" -s "$SOCK" 2>&1); rc=$?
check "a second daemon on a live socket refuses to start (exit 1)" test "$rc" = 1
check "and says why" grep -q "another ipautofwd is listening on it" <<<"$out"
check "the first still answers on its socket" ctl status
check_not "the second touched no table" ip netns exec "$LAN1" nft list table inet ipautofw
check "the first still has its socket after the second exits" test -S "$SOCK"

# SIGKILL leaves a socket nobody answers on: the next daemon takes the path
kill -9 "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=
check "a dead daemon's socket is left" test -S "$SOCK"
start_daemon
check "a new daemon replaces a socket nobody answers on" ctl status
check "SIGTERM exits 0" stop_daemon
check_not "and removes its socket" test -e "$SOCK"

# a symlink where the socket goes: refused, its target untouched
refused() {
	local out rc
	out=$(timeout 10 ip netns exec "$RTR" "$IPAUTOFWD" -f -C "$CONF" -s "$1" 2>&1); rc=$?
	[ "$rc" = 1 ] && grep -q "$2" <<<"$out"
}
touch "$TMP/victim"
chmod 600 "$TMP/victim"
ln -s "$TMP/victim" "$SOCK"
check "a symlink at the socket path is refused" refused "$SOCK" "exists and is not a socket"
check "the symlink is still there" test -L "$SOCK"
check "its target keeps mode and group" test "$(stat -c %a:%G "$TMP/victim")" = "600:root"
rm "$SOCK"
check_not "nor is a table left behind" rtr nft list table inet ipautofw

# socket directories others could swap the socket in
mkdir -m 0777 "$TMP/open" "$TMP/sticky"
chmod 1777 "$TMP/sticky"
check "a world-writable socket directory is refused" refused "$TMP/open/c.sock" "is writable by others"
check "a sticky one too" refused "$TMP/sticky/c.sock" "is writable by others"
mkdir -m 0775 "$TMP/group"
check "a group-writable one too" refused "$TMP/group/c.sock" "is writable by others"
mkdir -m 0755 "$TMP/theirs"
chown 65534 "$TMP/theirs"
check "one owned by another user too" refused "$TMP/theirs/c.sock" "must belong to uid 0"
check_not "no socket was made in any of them" sh -c "ls '$TMP'/open/* '$TMP'/sticky/* '$TMP'/group/* '$TMP'/theirs/* 2>/dev/null | grep -q ."
finish
