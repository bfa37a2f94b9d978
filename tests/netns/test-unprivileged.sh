#!/bin/bash
# The daemon as the systemd unit runs it: not root, only CAP_NET_ADMIN
# (ambient and bounding set). Table, NFLOG, triggers and the control
# socket all work; root still gets its changes through the socket.
. "$(dirname "$0")/lib.sh"
topo_up
conf ra <<'C'
rule realaudio trigger 7070/tcp forward 6970-7170/udp
C
mkdir "$TMP/run"
chown 65534:65534 "$TMP/run"
SOCK="$TMP/run/control.sock"
DAEMON_WRAP=(setpriv --reuid=65534 --regid=65534 --clear-groups
	--inh-caps=-all,+net_admin --ambient-caps=-all,+net_admin --bounding-set=-all,+net_admin)
start_daemon
check "runs as uid 65534" sh -c "grep -q '^Uid:.*65534' /proc/$DAEMON_PID/status"
check "with CAP_NET_ADMIN only" sh -c "grep -q '^CapEff:.*0000000000001000$' /proc/$DAEMON_PID/status"
check "created its table" rtr nft list table inet ipautofw
trigger "$LAN1" tcp 7070
check "trigger opens the forwarding" wait_for fwd has_forwarding realaudio 192.168.7.2
check "and it forwards" reaches "$LAN1" udp 7000
check "root may still change rules through the socket" ctl add x trigger 1/tcp forward 2/tcp
check "SIGTERM exits 0" stop_daemon
check_not "and removes the table" rtr nft list table inet ipautofw
finish
