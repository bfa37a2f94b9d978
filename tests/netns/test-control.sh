#!/bin/bash
# The control plane: every ipautofw command of the 1996 README verbatim,
# every ipautofwctl command with and without -j, exit codes, an
# unprivileged user refused for changes, and clients that send garbage or
# never finish while triggers keep being served.
. "$(dirname "$0")/lib.sh"
: "${IPAUTOFW:?}" "${CTLPOKE:?}"
topo_up
conf files <<'C'
rule game forward 27015-27030/udp to 192.168.7.3
C
start_daemon --socket-group nogroup
export IPAUTOFW_SOCKET=$SOCK
json_ok() { jq -e . >/dev/null; }

# ---- the 1996 README, verbatim (with our path for /sbin/ipautofw)
out=$("$IPAUTOFW" --help); rc=$?
check "ipautofw --help prints the usage (exit 0)" sh -c "test $rc = 0 && grep -q -- '-A -r PROTO LOW HIGH' <<'E'
$out
E"
out=$("$IPAUTOFW"); rc=$?
check "ipautofw without arguments prints the usage" test "$rc" = 0
check "usage lists -A -r -c" grep -q -- "-A -r PROTO LOW HIGH -c PROTO PORT" <<<"$out"
check "ipautofw -F" "$IPAUTOFW" -F
check "ipautofw -A -r udp 6970 7170 -c tcp 7070" "$IPAUTOFW" -A -r udp 6970 7170 -c tcp 7070
check "ipautofw -A -r tcp 6000 6100 -c tcp 23" "$IPAUTOFW" -A -r tcp 6000 6100 -c tcp 23
check "ipautofw -A -r tcp 6000 6100 -c udp 177" "$IPAUTOFW" -A -r tcp 6000 6100 -c udp 177
check "ipautofw -A -r tcp 6000 6100 -c tcp 6000" "$IPAUTOFW" -A -r tcp 6000 6100 -c tcp 6000
check "ipautofw -A -r udp 1024 2048 -c tcp 7070" "$IPAUTOFW" -A -r udp 1024 2048 -c tcp 7070
check "the X recipe is one rule with three control ports" sh -c "'$IPAUTOFWCTL' -j rules | jq -e 'any(.[]; .name == \"autofw-tcp-6000-6100\" and .triggers == [\"23/tcp\", \"177/udp\", \"6000/tcp\"] and .source == \"runtime\")'"
trigger "$LAN1" tcp 7070
check "tcp 7070 opens RealAudio" wait_for ra has_forwarding autofw-udp-6970-7170 192.168.7.2
check "and RealAudio for Linux" has_forwarding autofw-udp-1024-2048 192.168.7.2
check "udp 7000 reaches the host" reaches "$LAN1" udp 7000
check "udp 1500 reaches the host" reaches "$LAN1" udp 1500
trigger "$LAN2" udp 177
check "udp 177 opens the X range for LAN2" wait_for x has_forwarding autofw-tcp-6000-6100 192.168.7.3
check "tcp 6010 reaches LAN2" reaches "$LAN2" tcp 6010
check "ipautofw -L lists" sh -c "'$IPAUTOFW' -L | grep -q 'autofw-tcp-6000-6100 .*192.168.7.3'"
check "ipautofw -D removes one control port" "$IPAUTOFW" -D -r tcp 6000 6100 -c udp 177
check "two control ports left" sh -c "'$IPAUTOFWCTL' -j rules | jq -e 'any(.[]; .name == \"autofw-tcp-6000-6100\" and .triggers == [\"23/tcp\", \"6000/tcp\"])'"
check "its forwarding survived (same range)" has_forwarding autofw-tcp-6000-6100 192.168.7.3
check_not "-D of a control port that is not there fails" "$IPAUTOFW" -D -r tcp 6000 6100 -c udp 999
check "-h: fixed host" "$IPAUTOFW" -A -r tcp 8080 8080 -h 192.168.7.3 -u -v
check "-h forwards without a trigger" reaches "$LAN2" tcp 8080
check "-p: single port redirection" "$IPAUTOFW" -A -p udp 8000 192.168.7.2:9000
check "udp 8000 arrives at 192.168.7.2 port 9000" reaches "$LAN1" udp 8000:9000
check "-D -p removes it" "$IPAUTOFW" -D -p udp 8000 192.168.7.2:9000
check "redirection gone" blocked "$LAN1" udp 8000:9000
check_not "-c with -h is refused" "$IPAUTOFW" -A -r tcp 1 2 -c tcp 3 -h 192.168.7.2
"$IPAUTOFW" -A -r udp 1 2 -c icmp 3 2>/dev/null; rc=$?
check "a bad protocol is a usage error (exit 2)" test "$rc" = 2
check "ipautofw -F removes every runtime rule" "$IPAUTOFW" -F
check "only the file rule is left" sh -c "'$IPAUTOFWCTL' -j rules | jq -e 'length == 1 and .[0].name == \"game\"'"
check "and the runtime forwardings are gone" blocked "$LAN1" udp 7000

# ---- ipautofwctl, every command, human and JSON
check "add" ctl add ra trigger 7070/tcp forward 6970-7170/udp timeout 2m
out=$(ctl add bad trigger 7070/tcp forward 6971/udp 2>&1); rc=$?
check "add with an overlap fails (exit 1)" test "$rc" = 1
check "add errors carry the column in the line" grep -q "^add:1:30: error: forward 6971/udp overlaps forward 6970-7170/udp of rule 'ra' (runtime)" <<<"$out"
check "add errors show a caret" grep -q '^                             ^$' <<<"$out"
out=$(ctl add nl trigger 3/tcp "forward 4/tcp
rule two trigger 5/tcp forward 6/tcp" 2>&1); rc=$?
check "a newline inside an add word is a usage error (exit 2)" test "$rc" = 2
check "pointing at its column" grep -q "^add:1:31: error: control character 0x0a in word 4" <<<"$out"
check_not "and adds no rule" sh -c "'$IPAUTOFWCTL' -j rules | jq -e 'any(.[]; .name == \"nl\" or .name == \"two\")'"
out=$(ctl add hash trigger 3/tcp forward 4/tcp '#' exclusive 2>&1); rc=$?
check "a '#' in an add word is a usage error (exit 2)" test "$rc" = 2
check "pointing at it" grep -q "^add:1:34: error: '#' in word 6" <<<"$out"
long=$(seq -s, -f '%g/tcp' 20001 22400)
check "a 24 KB rule is added" ctl add long trigger "$long" forward 3000/udp
check "and kept whole" sh -c "'$IPAUTOFWCTL' -j rules | jq -e 'any(.[]; .name == \"long\" and (.triggers | length) == 2400)'"
check "reload works after it" ctl reload
check "so does the next add" ctl add next trigger 4/tcp forward 3001/udp
check "and del" sh -c "'$IPAUTOFWCTL' del long && '$IPAUTOFWCTL' del next"
out=$(ctl add dup forward 1/tcp to 192.168.7.2 2>&1)
check "add of a new static rule" test $? = 0
out=$(ctl add game forward 2/tcp to 192.168.7.2 2>&1); rc=$?
check "add of a name taken by a file rule fails" test "$rc" = 1
check "naming the file" grep -q "duplicate rule name 'game' (first defined at .*files.conf:1:6)" <<<"$out"
trigger "$LAN1" tcp 7070
check "runtime rule triggers" wait_for ra2 has_forwarding ra 192.168.7.2
for cmd in list rules status; do
	check "$cmd" ctl "$cmd"
	check "$cmd -j is JSON" sh -c "'$IPAUTOFWCTL' -j $cmd | jq -e . >/dev/null"
done
# options after the command, as systemctl takes them
check "list -j is JSON" sh -c "'$IPAUTOFWCTL' list -j | jq -e 'type == \"array\" and length >= 1'"
check "status --json is JSON" sh -c "'$IPAUTOFWCTL' status --json | jq -e '.triggers_seen >= 1'"
check "rules -s PATH --json, the socket after the command" \
	sh -c "IPAUTOFW_SOCKET=$TMP/none.sock '$IPAUTOFWCTL' rules -s '$SOCK' --json | jq -e 'length == 3'"
check "--socket=PATH and a bundled -js PATH" \
	sh -c "IPAUTOFW_SOCKET=$TMP/none.sock '$IPAUTOFWCTL' --socket='$SOCK' list >/dev/null &&
		IPAUTOFW_SOCKET=$TMP/none.sock '$IPAUTOFWCTL' list -js '$SOCK' | jq -e 'type == \"array\"'"
out=$(ctl list --frob 2>&1); rc=$?
check "an unknown option after the command is a usage error (exit 2)" test "$rc" = 2
check "naming the option, one line" test "$out" = "ipautofwctl: unknown option '--frob'; try 'ipautofwctl help'"
check "list footer" sh -c "'$IPAUTOFWCTL' list | tail -1 | grep -Eq '^[0-9]+ forwardings?, 3 rules$'"
check "rules shows runtime source" sh -c "'$IPAUTOFWCTL' rules | grep -q '# runtime'"
check "status counts triggers" sh -c "'$IPAUTOFWCTL' -j status | jq -e '.triggers_seen >= 3 and .latency_samples >= 1'"
check "flush HOST" sh -c "'$IPAUTOFWCTL' flush 192.168.7.2 | grep -q '^1 forwarding closed'"
check_not "flushed" has_forwarding ra 192.168.7.2
check "the flushed forward no longer reaches" blocked "$LAN1" udp 7000
check "static forwardings survive a flush" sh -c "'$IPAUTOFWCTL' -j list | jq -e 'any(.[]; .rule == \"game\")'"
trigger "$LAN1" tcp 7070
wait_for ra3 has_forwarding ra 192.168.7.2
check "flush NAME" sh -c "'$IPAUTOFWCTL' flush ra | grep -q '^1 forwarding closed'"
check "flush (all)" ctl flush
out=$(ctl flush nosuchthing 2>&1); rc=$?
check "flush of an unknown name fails" test "$rc" = 1
check "saying why" grep -q "neither a rule nor a host" <<<"$out"
check "del" ctl del ra
out=$(ctl del game 2>&1); rc=$?
check "del of a file rule fails" test "$rc" = 1
check "saying where it comes from" grep -q "comes from .*files.conf:1; remove it there and reload" <<<"$out"
ctl del nosuch 2>/dev/null; rc=$?
check "del of an unknown rule exits 1" test "$rc" = 1
check "reload keeps runtime rules" sh -c "'$IPAUTOFWCTL' reload && '$IPAUTOFWCTL' -j rules | jq -e 'any(.[]; .name == \"dup\")'"
ctl bogus 2>/dev/null; rc=$?
check "unknown command exits 2" test "$rc" = 2
ctl del 2>/dev/null; rc=$?
check "missing argument exits 2" test "$rc" = 2
out=$(ctl bogus 2>&1)
check "an unknown command is one line" test "$(wc -l <<<"$out")" = 1
check "pointing at help" grep -qx "ipautofwctl: unknown command 'bogus'; try 'ipautofwctl help'" <<<"$out"
out=$(ctl stauts 2>&1)
check "a misspelt command gets a guess" grep -q "unknown command 'stauts' (did you mean 'status'?)" <<<"$out"
check "help lists every command" sh -c "'$IPAUTOFWCTL' help | grep -c '^  [a-z]' | grep -qx 15"
check "help per command" sh -c "'$IPAUTOFWCTL' help flush | grep -q 'static ones stay'"
check "--help after a command" sh -c "'$IPAUTOFWCTL' add --help | grep -q 'column'"

# ---- permissions: group members may read, only root may change
nobody() { setpriv --reuid=65534 --regid=65534 --groups=65534 "$@"; }
check "a nogroup member may list" nobody "$IPAUTOFWCTL" list
out=$(nobody "$IPAUTOFWCTL" add x trigger 1/tcp forward 2/tcp 2>&1); rc=$?
check "an unprivileged add is refused (exit 1)" test "$rc" = 1
check "with a clear message" grep -q "permission denied: add needs root" <<<"$out"
check_not "and nothing was added" sh -c "'$IPAUTOFWCTL' -j rules | jq -e 'any(.[]; .name == \"x\")'"
out=$(setpriv --reuid=65534 --regid=1 --clear-groups "$IPAUTOFWCTL" list 2>&1); rc=$?
check "outside the group the socket is closed (exit 1)" test "$rc" = 1
check "permission denied names the socket's group" \
	grep -q "permission denied on $SOCK: the read commands are for root and members of group 'nogroup' (adduser USER nogroup" <<<"$out"

# ---- bad clients; triggers keep being served throughout
check "garbage gets a usage error" sh -c "'$CTLPOKE' '$SOCK' garbage | grep -q 'status 2: malformed request'"
check "an oversized request is refused" sh -c "'$CTLPOKE' '$SOCK' oversize | grep -q 'request too large'"
check "unframed bytes are refused" sh -c "'$CTLPOKE' '$SOCK' binary | grep -q '^status 2'"
"$CTLPOKE" "$SOCK" hold 100 6000 >"$TMP/hold.out" &
hold=$!
check "100 clients connected and stuck" wait_for held grep -q "^100 clients connected" "$TMP/hold.out"
check "with 100 clients stuck mid-request, list still answers" ctl list
ctl add ra trigger 7070/tcp forward 6970-7170/udp >/dev/null 2>&1 || true
trigger "$LAN2" tcp 7070
check "and triggers are still served" wait_for busy has_forwarding ra 192.168.7.3
wait "$hold"
check "the daemon closed every idle client itself" grep -q "^100 of 100 idle clients closed" "$TMP/hold.out"
cat "$TMP/hold.out"
check "daemon alive" kill -0 "$DAEMON_PID"

# ---- control bytes in a request come back escaped, never raw
out=$(ctl flush $'\e[2J\e]0;pwned\a' 2>&1)
check "a flush of an escape sequence names it escaped" grep -qF "'\\x1b[2J\\x1b]0;pwned\\x07' is neither a rule nor a host address" <<<"$out"
out=$(ctl add $'x\x1b[31m' trigger 1/tcp forward 2/tcp 2>&1)
check "an add with one: the error escapes it" grep -qxF "x\\x1b[31m trigger 1/tcp forward 2/tcp" <<<"$out"
out=$(ctl $'st\x1bat' 2>&1)
check "ipautofwctl itself escapes an unknown command" grep -qF "unknown command 'st\\x1bat'" <<<"$out"
check "no raw control byte in any of it, nor in the log" sh -c "! grep -q \$'\\x1b' '$TMP/daemon.log'"

unset IPAUTOFW_SOCKET
check "IPAUTOFW_SOCKET is honoured (not running elsewhere: exit 3)" sh -c "IPAUTOFW_SOCKET=$TMP/none.sock '$IPAUTOFWCTL' list; test \$? = 3"
out=$(IPAUTOFW_SOCKET=$TMP/none.sock "$IPAUTOFWCTL" list 2>&1)
check "not running says how to start it" grep -q "Start it with 'systemctl start ipautofw'" <<<"$out"
check "and where its log is" grep -q "'journalctl -u ipautofw'" <<<"$out"
check "and which socket it tried" grep -qF "no daemon at $TMP/none.sock" <<<"$out"
out=$(IPAUTOFW_SOCKET=$TMP/none.sock "$IPAUTOFWCTL" monitor 2>&1); rc=$?
check "monitor too (exit 3)" sh -c "test $rc = 3 && grep -q 'systemctl start ipautofw' <<'E'
$out
E"
finish
