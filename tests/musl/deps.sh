#!/bin/bash
# libmnl, libnfnetlink, libnftnl and libnetfilter_log built for musl
# (musl-gcc, static only) from the Debian source packages of the versions
# installed, so the musl build links what the glibc build links. Cached
# in /var/cache/ipautofw-test/musl-KEY, KEY a hash of this script and the
# versions; prints the prefix. The system's apt sources are left alone:
# the deb-src lines go to a sources list of our own.
set -euo pipefail
PKGS="libmnl libnfnetlink libnftnl libnetfilter-log"
CACHE=/var/cache/ipautofw-test
versions=$(for p in $PKGS; do dpkg-query -W -f='${source:Package} ${source:Version}\n' "$p-dev"; done)
key=$( { cat "$0"; echo "$versions"; musl-gcc -dumpversion; } | sha256sum | cut -c1-16)
PREFIX=$CACHE/musl-$key
if [ -f "$PREFIX/.done" ]; then
	echo "$PREFIX"
	exit 0
fi
mkdir -p "$CACHE"
rm -rf "$PREFIX" "$PREFIX.work"
work=$PREFIX.work
trap 'rm -rf "$work"; [ -f "$PREFIX/.done" ] || rm -rf "$PREFIX"' EXIT
mkdir -p "$work/apt/lists/partial" "$work/apt/cache/archives/partial" "$work/src" "$PREFIX/include"

# the system's mirror and suite (deb822 or one-line format), as deb-src
# (either file may be missing: debootstrap writes sources.list, Debian 12's installer debian.sources)
mirror=$( { sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true; } | head -1)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)
suite=$(. /etc/os-release && echo "$VERSION_CODENAME")
echo "deb-src ${mirror:-http://deb.debian.org/debian} $suite main" >"$work/apt/sources.list"
apt_opts=(-o "Dir::Etc::sourcelist=$work/apt/sources.list" -o Dir::Etc::sourceparts=/nonexistent
	-o "Dir::State::Lists=$work/apt/lists" -o "Dir::Cache=$work/apt/cache" -o APT::Sandbox::User=root -q)
if ! apt-get "${apt_opts[@]}" update >"$work/apt.log" 2>&1; then
	cat "$work/apt.log" >&2
	exit 77
fi
cd "$work/src"
while read -r src ver; do
	if ! apt-get "${apt_opts[@]}" source "$src=$ver" >"$work/apt.log" 2>&1; then
		grep '^E:' "$work/apt.log" >&2
		echo "cannot fetch the source package $src $ver" >&2
		exit 77
	fi
done <<<"$versions"

# musl has no kernel headers of its own: the system's, read-only
mkdir -p "$PREFIX/kinc"
for d in linux asm-generic; do ln -s "/usr/include/$d" "$PREFIX/kinc/$d"; done
ln -s "/usr/include/$(gcc -dumpmachine)/asm" "$PREFIX/kinc/asm"

# libnfnetlink uses u_int32_t and friends without <sys/types.h>: glibc's
# headers bring it in, musl's do not
export CC="musl-gcc -isystem $PREFIX/kinc" PKG_CONFIG_LIBDIR=$PREFIX/lib/pkgconfig PKG_CONFIG_PATH=''
for src in libmnl libnfnetlink libnftnl libnetfilter-log; do
	dir=$(find . -maxdepth 1 -type d -name "$src-*" | head -1)
	if ! (cd "$dir" && ./configure --prefix="$PREFIX" --enable-static --disable-shared \
		CFLAGS="-O2 -fPIC -D_GNU_SOURCE -include sys/types.h" && make -j2 && make install) \
		>"$work/build.log" 2>&1; then
		tail -30 "$work/build.log" >&2
		exit 1
	fi
done
touch "$PREFIX/.done"
echo "$PREFIX"
