#!/bin/bash
# The project built with musl (Debian's musl-gcc) into build-musl: every
# program static, linked with the libraries tests/musl/deps.sh builds from
# Debian's source packages. Exit 77 when those cannot be had.
set -euo pipefail
cd "$(dirname "$0")/../.."
rc=0
prefix=$(bash tests/musl/deps.sh) || rc=$?
[ "$rc" = 0 ] || exit "$rc"
if [ ! -f build-musl/build.ninja ]; then
	CC="musl-gcc -isystem $prefix/kinc" PKG_CONFIG_LIBDIR="$prefix/lib/pkgconfig" PKG_CONFIG_PATH='' \
		meson setup build-musl --prefix=/usr -Dman-pages=disabled -Dprefer_static=true \
		-Dc_link_args=-static >/dev/null
fi
meson compile -C build-musl >/dev/null
# musl's and static: what runs on any Linux router
file -L build-musl/daemon/ipautofwd | grep -q 'statically linked'
echo "build-musl: $(du -h build-musl/daemon/ipautofwd | cut -f1) static ipautofwd"
