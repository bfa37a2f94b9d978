#!/bin/bash
# meson install --destdir as a Debian package would (prefix /usr): the tree,
# the man pages rendered with every groff warning as an error, the unit
# verified and scored, the examples valid, the completion loadable.
set -u
SRC=${1:?source dir}
TMP=$(mktemp -d /tmp/iaf-install.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
FAILS=0
CHECKS=0
ok() { CHECKS=$((CHECKS + 1)); echo "ok - $*"; }
fail() { CHECKS=$((CHECKS + 1)); FAILS=$((FAILS + 1)); echo "FAIL - $*"; }
check() { local w=$1; shift; if "$@"; then ok "$w"; else fail "$w"; fi; }

meson setup "$TMP/build" "$SRC" --prefix=/usr -Dman-pages=enabled >"$TMP/setup.log" 2>&1 ||
	{ cat "$TMP/setup.log"; exit 1; }
meson compile -C "$TMP/build" >"$TMP/compile.log" 2>&1 || { cat "$TMP/compile.log"; exit 1; }
DESTDIR="$TMP/root" meson install -C "$TMP/build" --no-rebuild >"$TMP/install.log" 2>&1 ||
	{ cat "$TMP/install.log"; exit 1; }
R="$TMP/root"
unitdir=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null || echo /lib/systemd/system)
compdir=$(pkg-config --variable=completionsdir bash-completion 2>/dev/null ||
	echo /usr/share/bash-completion/completions)

for f in /usr/sbin/ipautofwd /usr/sbin/ipautofwctl \
	"$unitdir/ipautofw.service" /usr/lib/sysusers.d/ipautofw.conf /usr/lib/tmpfiles.d/ipautofw.conf \
	/usr/share/man/man8/ipautofwd.8 /usr/share/man/man8/ipautofwctl.8 /usr/share/man/man5/ipautofw.conf.5 \
	/usr/share/man/man7/ipautofw.7 /usr/share/doc/ipautofw/README.md /usr/share/doc/ipautofw/docs/firewalls.md \
	"$compdir/ipautofwctl"; do
	check "installed $f" test -f "$R$f"
done
check "ipautofw is ipautofwctl" test "$(readlink "$R/usr/sbin/ipautofw")" = ipautofwctl
check "man ipautofw is the overview, ipautofw(7), not a second ipautofwctl(8)" \
	test ! -e "$R/usr/share/man/man8/ipautofw.8" -a ! -L "$R/usr/share/man/man8/ipautofw.8"
check "/etc/ipautofw.d exists and is empty" sh -c "test -d '$R/etc/ipautofw.d' && test -z \"\$(ls -A '$R/etc/ipautofw.d')\""
EX=$R/usr/share/doc/ipautofw/examples
for app in realaudio realaudio-linux internet-phone streamworks powwow webphone x-sessions \
	games voip irc streaming ipv6-pinhole; do
	check "example $app" test -f "$EX/$app.conf"
	out=$("$R/usr/sbin/ipautofwd" --check "$EX/$app.conf" 2>&1)
	check "ipautofwd --check $app.conf: OK, no warning" grep -qx 'configuration OK: [0-9]* rules\?' <<<"$out"
done
check "every example is installed and checked" test "$(ls "$EX" | wc -l)" = 12
check "no example is enabled" sh -c "! ls '$R/etc/ipautofw.d/'*.conf 2>/dev/null"
# RTSP's range covers RealAudio's: they are alternatives, the others go together
check "the examples but streaming.conf together are a valid configuration" \
	"$R/usr/sbin/ipautofwd" --check $(ls "$EX"/*.conf | grep -v /streaming.conf)
out=$("$R/usr/sbin/ipautofwd" --check "$EX"/realaudio.conf "$EX"/streaming.conf 2>&1)
check "streaming.conf and realaudio.conf overlap, as streaming.conf says" \
	grep -q "streaming.conf:.*overlaps forward 6970-7170/udp of rule 'realaudio'" <<<"$out"
check "the unit runs the installed daemon" grep -q '^ExecStart=/usr/sbin/ipautofwd$' "$R$unitdir/ipautofw.service"

for page in "$R"/usr/share/man/man*/*.[578]; do
	[ -L "$page" ] && continue
	out=$(LC_ALL=C.UTF-8 groff -man -ww -z -Tutf8 "$page" 2>&1)
	check "$(basename "$page") renders without a groff warning" test -z "$out"
	[ -n "$out" ] && echo "$out"
done

if command -v systemd-analyze >/dev/null; then
	# verify checks that commands exist: point them into the install tree
	sed "s|=/usr/sbin/|=$R/usr/sbin/|; s|=+/usr/sbin/|=+$R/usr/sbin/|" \
		"$R$unitdir/ipautofw.service" >"$TMP/ipautofw.service"
	out=$(systemd-analyze verify --man=no "$TMP/ipautofw.service" 2>&1)
	check "systemd-analyze verify is clean" test -z "$out"
	[ -n "$out" ] && echo "$out"
	score=$(systemd-analyze security --offline=yes "$TMP/ipautofw.service" 2>&1 |
		sed -n 's/.*Overall exposure level for ipautofw.service: \([0-9.]*\).*/\1/p')
	echo "systemd-analyze security: $score"
	check "exposure score $score <= 2.0" awk -v s="$score" 'BEGIN { exit !(s != "" && s <= 2.0) }'
else
	echo "systemd-analyze not installed: unit checks skipped"
fi

if [ -f /usr/share/bash-completion/bash_completion ]; then
	check "completion loads and registers both names" bash -c "
		. /usr/share/bash-completion/bash_completion
		. '$R$compdir/ipautofwctl'
		complete -p ipautofwctl && complete -p ipautofw" >/dev/null
	check "completion offers the commands" bash -c "
		. /usr/share/bash-completion/bash_completion
		. '$R$compdir/ipautofwctl'
		COMP_WORDS=(ipautofwctl r); COMP_CWORD=1; COMP_LINE='ipautofwctl r'; COMP_POINT=13
		_ipautofwctl; [[ \" \${COMPREPLY[*]} \" == *' reload '* && \" \${COMPREPLY[*]} \" == *' rules '* ]]"
	check "completion offers options after the command" bash -c "
		. /usr/share/bash-completion/bash_completion
		. '$R$compdir/ipautofwctl'
		COMP_WORDS=(ipautofwctl list -); COMP_CWORD=2; COMP_LINE='ipautofwctl list -'; COMP_POINT=18
		_ipautofwctl; [[ \" \${COMPREPLY[*]} \" == *' -j '* && \" \${COMPREPLY[*]} \" == *' --json '* ]]"
fi
echo "$((CHECKS - FAILS)) passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
