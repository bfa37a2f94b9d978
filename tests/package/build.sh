#!/bin/bash
# Build the Debian package from this source tree the way an administrator
# does in a fresh clone (dpkg-buildpackage -us -uc -b), in a temporary
# copy: the tree itself is never written. Prints the path of the .changes
# file; the .deb files are beside it.
#
#   bash tests/package/build.sh OUTDIR [VERSION]
#
# VERSION (say 0.1.0+1) adds a changelog entry for it to the copy only:
# the same source as a newer package, for the upgrade test. Results are
# kept in OUTDIR under a hash of the sources and VERSION, so a second
# call with nothing changed costs nothing.
set -euo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
out=$1
version=${2:-}
mkdir -p "$out"
out=$(cd "$out" && pwd)

# the files a clone has: tracked, plus new ones not ignored (build dirs are)
files() {
	if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git -C "$src" ls-files -z -co --exclude-standard |
			while IFS= read -r -d '' f; do [ -e "$src/$f" ] && printf '%s\0' "$f"; done
	else
		(cd "$src" && find . -path './build*' -prune -o -type f -printf '%P\0')
	fi
}

key=$( (cd "$src" && files | sort -z | xargs -0 sha256sum; echo "$version") | sha256sum | cut -c1-16)
dir="$out/$key"
exec 9>"$out/.lock"
flock 9
if [ -f "$dir/changes" ]; then
	cat "$dir/changes"
	exit 0
fi
rm -rf "$dir"
mkdir -p "$dir/src"
(cd "$src" && files | tar -c --null -T - -f -) | tar -x -C "$dir/src"
if [ -n "$version" ]; then
	entry=$(mktemp)
	{
		echo "ipautofw ($version) unstable; urgency=medium"
		echo
		echo "  * Test build: the same source as a newer version."
		echo
		echo " -- ipautofw tests <tests@localhost>  $(date -R)"
		echo
		cat "$dir/src/debian/changelog"
	} >"$entry"
	mv "$entry" "$dir/src/debian/changelog"
fi
start=$(date +%s)
export DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:-} parallel=$(nproc)"
if ! (cd "$dir/src" && dpkg-buildpackage -us -uc -b) >"$dir/build.log" 2>&1; then
	tail -40 "$dir/build.log" >&2
	echo "dpkg-buildpackage failed; log in $dir/build.log" >&2
	exit 1
fi
v=$(cd "$dir/src" && dpkg-parsechangelog -S Version)
echo "package $v built in $(($(date +%s) - start)) s" >&2
rm -rf "$dir/src"
changes=$(ls "$dir"/ipautofw_"$v"_*.changes)
echo "$changes" >"$dir/changes"
echo "$changes"
