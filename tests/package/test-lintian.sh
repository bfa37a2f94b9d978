#!/bin/bash
# The Debian package: built with dpkg-buildpackage from a copy of the
# tree, lintian (Debian 12's) reports no error and no warning on the .deb
# and the .changes, its version is the project's, and it holds what
# `meson install` installs.
set -u
: "${IAF_PKG_OUT:?}"
src=$(cd "$(dirname "$0")/../.." && pwd)
for tool in dpkg-buildpackage lintian dh; do
	command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed (scripts/deps.sh installs it)"; exit 77; }
done
FAILS=0
CHECKS=0
check() {
	local what=$1
	shift
	CHECKS=$((CHECKS + 1))
	if "$@"; then echo "ok - $what"; else FAILS=$((FAILS + 1)); echo "FAIL - $what"; fi
}

changes=$(bash "$src/tests/package/build.sh" "$IAF_PKG_OUT") || { echo "FAIL - the package builds"; exit 1; }
dir=$(dirname "$changes")
deb=$(ls "$dir"/ipautofw_*.deb)
echo "# $deb"
meson_version=$(sed -n "s/^\tversion: '\(.*\)',$/\1/p" "$src/meson.build")
check "the package's version is meson.build's ($meson_version)" \
	test "$(dpkg-deb -f "$deb" Version)" = "$meson_version"
# --fail-on: the exit status says whether any error or warning was reported
lintian --fail-on error,warning --display-info "$changes" >"$dir/lintian.log" 2>&1
rc=$?
sed 's/^/# /' "$dir/lintian.log"
check "lintian: no error, no warning (.deb and .changes)" test "$rc" = 0
check "no error or warning line either" sh -c "! grep -E '^[EW]: ' '$dir/lintian.log'"

dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|' >"$dir/contents"
for f in /usr/sbin/ipautofwd /usr/sbin/ipautofwctl /usr/sbin/ipautofw \
	/lib/systemd/system/ipautofw.service /usr/lib/sysusers.d/ipautofw.conf \
	/usr/lib/tmpfiles.d/ipautofw.conf /usr/share/man/man8/ipautofwd.8.gz \
	/usr/share/man/man8/ipautofwctl.8.gz /usr/share/man/man7/ipautofw.7.gz \
	/usr/share/doc/ipautofw/README.md.gz /usr/share/doc/ipautofw/docs/tests.md.gz \
	/usr/share/man/man5/ipautofw.conf.5.gz /usr/share/doc/ipautofw/examples/realaudio.conf \
	/usr/share/bash-completion/completions/ipautofwctl \
	/usr/share/bash-completion/completions/ipautofw /etc/ipautofw.d/ \
	/usr/share/doc/ipautofw/copyright /lib/systemd/system/ipautofw-metrics.service \
	/lib/systemd/system/ipautofw-metrics.timer; do
	check "holds $f" grep -qx "$f" "$dir/contents"
done
check "every example file of the tree" test "$(grep -c '^/usr/share/doc/ipautofw/examples/.*\.conf$' "$dir/contents")" = \
	"$(ls "$src"/examples/*.conf | wc -l)"
check "Recommends: nftables" test "$(dpkg-deb -f "$deb" Recommends)" = nftables
check "Depends come from the libraries it links" sh -c "dpkg-deb -f '$deb' Depends | grep -q 'libnftnl11'"
ctl=$(mktemp -d)
dpkg-deb -e "$deb" "$ctl"
check "postinst re-executes the daemon on upgrade" grep -q "ipautofwctl reexec" "$ctl/postinst"
check "postinst creates the user before the service starts" sh -c \
	"grep -n -e 'systemd-sysusers' -e 'deb-systemd-invoke start' '$ctl/postinst' | head -1 | grep -q sysusers"
check "nothing stops the daemon on upgrade" sh -c "! grep -q 'deb-systemd-invoke stop' '$ctl/preinst' 2>/dev/null && grep -q '\"\$1\" = remove' '$ctl/prerm'"
check "the metrics timer is not started by the package" sh -c \
	"! grep -q 'deb-systemd-invoke start.*ipautofw-metrics' '$ctl/postinst'"
# (dh_installsystemd --no-enable: enabled again only where the package had enabled it)
check "nor enabled on install" grep -q "if deb-systemd-helper debian-installed 'ipautofw-metrics.timer'" "$ctl/postinst"
check "and stopped on remove" grep -q "deb-systemd-invoke stop ipautofw-metrics.timer" "$ctl/prerm"
rm -rf "$ctl"
echo "$((CHECKS - FAILS)) passed, $FAILS failed"
[ "$FAILS" = 0 ]
