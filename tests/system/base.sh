#!/bin/bash
# The Debian 12 root file system the system suite boots: made once with
# debootstrap from the apt sources this machine uses, cached under
# $IAF_SYSTEM_CACHE (/var/cache/ipautofw-test), keyed by a hash of this
# script, the package list and the sources, built in a temporary directory
# and renamed into place only when complete. Prints the base's path.
#
#   bash tests/system/base.sh            build if needed, print the path
#   IAF_SYSTEM_PACKAGES="..." bash ...   another package set (another base)
#
# Exit 77 (with the reason) where no such base can be made: not root, not
# Debian 12, no debootstrap. Every test boots a throwaway overlay of it; the
# base itself is never written after it is built.
set -euo pipefail

CACHE=${IAF_SYSTEM_CACHE:-/var/cache/ipautofw-test}
SUITE=bookworm
# One base for every system test (ipautofw itself, the Debian package,
# firewalld, ufw), so CI downloads once. firewalld and ufw are installed
# side by side (they coexist as packages) but disabled and masked: a test
# that wants one unmasks and starts it.
PACKAGES=${IAF_SYSTEM_PACKAGES:-"systemd systemd-sysv dbus libpam-systemd netbase iproute2
nftables libnftnl11 libmnl0 libnetfilter-log1 procps jq conntrack firewalld ufw"}
# units no test wants running unless it asks for them
MASK="firewalld.service ufw.service apt-daily.timer apt-daily-upgrade.timer"

skip() {
	echo "SKIP: $*" >&2
	exit 77
}

[ "$(id -u)" = 0 ] || skip "building the system test base needs root"
command -v debootstrap >/dev/null || skip "debootstrap is not installed (scripts/deps.sh installs it)"
# shellcheck disable=SC1091
codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
[ "$codename" = "$SUITE" ] || skip "the host is not Debian 12 ($SUITE): the base must match the built binaries"

# "URI SUITE" for every enabled deb source of this suite (and its -updates,
# -security) with component main, from one-line .list and deb822 .sources files
apt_sources() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk -v s="$SUITE" '
			$1 == "deb" {
				i = 2
				if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
				uri = $i; suite = $(i + 1); main = 0
				for (j = i + 2; j <= NF; j++) if ($j == "main") main = 1
				if (main && (suite == s || index(suite, s "-") == 1)) print uri, suite
			}' "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk -v s="$SUITE" '
			function flush(   i, j, nu, ns, u, su) {
				if (types ~ /(^| )deb( |$)/ && comps ~ /(^| )main( |$)/ && enabled != "no") {
					nu = split(uris, u, " "); ns = split(suites, su, " ")
					for (i = 1; i <= nu; i++) for (j = 1; j <= ns; j++)
						if (su[j] == s || index(su[j], s "-") == 1) print u[i], su[j]
				}
				types = uris = suites = comps = enabled = ""
			}
			/^[ \t]*#/ { next }
			/^[ \t]*$/ { flush(); next }
			{
				key = tolower($1); sub(/:$/, "", key); $1 = ""; sub(/^ +/, "")
				if (key == "types") types = $0
				else if (key == "uris") uris = $0
				else if (key == "suites") suites = $0
				else if (key == "components") comps = $0
				else if (key == "enabled") enabled = tolower($0)
			}
			END { flush() }' "$f"
	done
}

sources=$(apt_sources | awk '!seen[$0]++')
mirror=$(echo "$sources" | awk -v s="$SUITE" '$2 == s { print $1; exit }')
[ -n "$mirror" ] || skip "no apt source for $SUITE main in /etc/apt/sources.list*"
arch=$(dpkg --print-architecture)
# shellcheck disable=SC2086
key=$( (cat "$0"; echo $PACKAGES; echo "$sources"; echo "$arch") | sha256sum | cut -c1-16)
base="$CACHE/base-$key"

mkdir -p "$CACHE"
chmod 700 "$CACHE"
exec 9>"$CACHE/lock"
flock 9
if [ -d "$base" ]; then
	touch "$base"
	echo "$base"
	exit 0
fi

# we hold the lock: any build.* left is from a build that was killed;
# bases nobody used for 30 days go too
find "$CACHE" -mindepth 1 -maxdepth 1 \( -name 'build.*' -o \( -name 'base-*' -mtime +30 \) \) \
	-exec rm -rf --one-file-system {} +

tmp=$(mktemp -d "$CACHE/build.XXXXXX")
trap 'rm -rf --one-file-system "$tmp"' EXIT
root="$tmp/root"
log="$tmp/log"
start=$(date +%s)
echo "system test base: building $base from $mirror ($SUITE, $arch); log in $log while it runs" >&2
# a private mount namespace: whatever debootstrap or apt mounts (proc, sys,
# dev) goes away with them, even when killed
# shellcheck disable=SC2086
if ! unshare --mount --propagation private bash -euc '
	root=$1 mirror=$2 suite=$3 sources=$4 packages=$5 mask=$6
	debootstrap --variant=minbase "$suite" "$root" "$mirror"
	echo "$sources" | while read -r uri s; do echo "deb $uri $s main"; done >"$root/etc/apt/sources.list"
	# nothing starts services while packages are installed
	printf "#!/bin/sh\nexit 101\n" >"$root/usr/sbin/policy-rc.d"
	chmod 755 "$root/usr/sbin/policy-rc.d"
	mount -t proc proc "$root/proc"
	mount --rbind /dev "$root/dev"
	mount -t sysfs sysfs "$root/sys"
	export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8
	chroot "$root" apt-get update -q
	chroot "$root" apt-get install -y -q --no-install-recommends $packages
	chroot "$root" apt-get clean
	rm -rf "$root"/var/lib/apt/lists/* "$root/usr/sbin/policy-rc.d"
	for u in $mask; do
		[ -e "$root/lib/systemd/system/$u" ] || continue
		chroot "$root" systemctl disable "$u" 2>/dev/null || true
		chroot "$root" systemctl mask "$u"
	done
	echo iaf-test >"$root/etc/hostname"
	# the packages as installed, for whoever wonders what a base holds
	chroot "$root" dpkg-query -W -f="\${Package} \${Version}\n" >"$root/etc/ipautofw-test-base"
' bash "$root" "$mirror" "$SUITE" "$sources" "$PACKAGES" "$MASK" >"$log" 2>&1; then
	tail -40 "$log" >&2
	echo "system test base: build failed" >&2
	exit 1
fi
mv "$root" "$base"
echo "system test base: built in $(($(date +%s) - start)) s, $(du -sm "$base" | cut -f1) MB" >&2
echo "$base"
