#!/bin/bash
# The dry run against the kernel: every golden ruleset (tests/golden/*.nft,
# what `ipautofwd --dry-run` prints) loads with `nft -c -f` and `nft -f`
# and lists back byte for byte, and the table the daemon really creates
# from the same configuration lists the same, but for the table's owner
# flags and element timeouts (not the timeouts of the kernel path's adds).
. "$(dirname "$0")/lib.sh"
GOLDEN=$(cd "$(dirname "$0")/../golden" && pwd)
rtr ip link set lo up

# nft names protocols from /etc/protocols; on a system without it, it prints
# their numbers, and so must the golden it is compared with
if getent protocols tcp >/dev/null 2>&1; then
	as_listed() { cat "$1"; }
else
	as_listed() { sed -e 's/\btcp\b/6/g' -e 's/\budp\b/17/g' "$1"; }
fi

# what only a running daemon's table shows
normalize() {
	sed -e '1s/ # progname .*$//' -e '2{/^\tflags /{N;d}}' \
		-e 's/ timeout [0-9a-z]* expires [0-9a-z]*//g'
}

# lists_as GOLDEN [normalize]: nft list table inet ipautofw is GOLDEN
lists_as() {
	as_listed "$1" >"$TMP/expected"
	rtr nft list table inet ipautofw >"$TMP/listed" || return 1
	[ -n "${2:-}" ] && normalize <"$TMP/listed" >"$TMP/listed.n" && mv "$TMP/listed.n" "$TMP/listed"
	cmp -s "$TMP/listed" "$TMP/expected" && return 0
	diff "$TMP/expected" "$TMP/listed"
	return 1
}

for g in "$GOLDEN"/*.nft; do
	name=$(basename "$g" .nft)
	check "$name: nft -c -f accepts it" rtr nft -c -f "$g"
	check "$name: nft -f loads it" rtr nft -f "$g"
	check "$name: and lists it back byte for byte" lists_as "$g"
	rtr nft delete table inet ipautofw
	rm -f "$CONF"/*.conf
	cp "$GOLDEN/$name.conf" "$CONF/"
	start_daemon
	check "$name: the daemon's own table lists the same" lists_as "$g" normalize
	check "$name: the daemon stops cleanly" stop_daemon
done
finish
