#!/bin/bash
# The version comes from meson.build alone: ipautofwd --version prints it
# and nothing else (OpenWrt's CI compares it to PKG_VERSION), the Debian
# changelog's latest entry (its upstream part) and the OpenWrt Makefile's
# PKG_VERSION agree with it.
set -u
IPAUTOFWD=${1:?path to ipautofwd}
want=${2:?the project version}
top=$(cd "$(dirname "$0")/.." && pwd)
failed=0
check() {	# check WHAT GOT
	if [ "$2" = "$want" ]; then
		echo "ok - $1: $2"
	else
		echo "FAIL - $1: '$2', meson.build says '$want'"
		failed=$((failed + 1))
	fi
}
check "ipautofwd --version" "$("$IPAUTOFWD" --version)"
# (tests/package/build.sh rebuilds the same source as a newer version: its
# entry on top says so, and the one below it is the repository's)
entry=1
sed -n '3p' "$top/debian/changelog" | grep -q "Test build: the same source as a newer version" && entry=2
deb=$(grep '^ipautofw (' "$top/debian/changelog" | sed -n "${entry}s/^ipautofw (\([^)]*\)).*/\1/p")
check "debian/changelog" "${deb%-*}"
check "openwrt/Makefile PKG_VERSION" "$(sed -n 's/^PKG_VERSION:=//p' "$top/openwrt/Makefile")"
echo "$((3 - failed)) passed, $failed failed"
[ "$failed" = 0 ]
