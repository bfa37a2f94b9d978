#!/bin/bash
# The shape of lib/ (STYLE.md 11): no cycle between its modules or its
# folders, each folder using only what its main header's "May use:" line
# names, and no file of lib/ or daemon/ past 600 lines.
#
# A module is a .c/.h pair (lib/engine/fwtable.c and .h are "fwtable"). It
# uses another when one of its files includes the other's header, or when
# its object calls a function (or reads a variable) the other's object
# defines: what `nm` sees in the built library, so a call through a
# declaration in some third header counts too.
#
# usage: layering.sh SOURCE_ROOT LIBIPAUTOFW.A
set -euo pipefail
src=$1
lib=$2
max_lines=600
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "layering: $*" >&2; fail=1; }

cd "$src"
folders=$(sed -n "s/^foreach part : \[\(.*\)\]/\1/p" lib/meson.build | tr -d "',")
[ -n "$folders" ] || { echo "layering: no folder list in lib/meson.build" >&2; exit 1; }

# module -> folder
for d in $folders; do
	for f in lib/$d/*.[ch]; do
		m=$(basename "$f"); echo "${m%.*} $d"
	done
done | sort -u >"$tmp/modules"
dups=$(awk '{ print $1 }' "$tmp/modules" | uniq -d | tr '\n' ' ')
[ -z "$dups" ] || bad "modules in two folders (a name is one module): $dups"
ls lib/*.[ch] >/dev/null 2>&1 && bad "files directly in lib/ (each belongs in a folder): $(ls lib/*.[ch])"

folder_of() { awk -v m="$1" '$1 == m { print $2 }' "$tmp/modules"; }

# edges from #include
for d in $folders; do
	for f in lib/$d/*.[ch]; do
		m=$(basename "$f"); m=${m%.*}
		sed -n 's/^#include "\(.*\)\.h"/\1/p' "$f" | while read -r inc; do
			echo "$m $(basename "$inc") include $f"
		done
	done
done >"$tmp/edges"

# edges from symbols: who defines what, who needs what
nm -A "$lib" 2>/dev/null | awk '
	{ split($1, p, ":"); obj = p[2]; sub(/.*\//, "", obj); sub(/\.c\.o$/, "", obj); sub(/^[^_]*_/, "", obj) }
	$(NF - 1) ~ /^[TDBR]$/ { print "def", obj, $NF }
	$(NF - 1) == "U" { print "use", obj, $NF }' >"$tmp/syms"
awk '$1 == "def" { def[$3] = $2 } $1 == "use" { use[NR] = $2 " " $3 }
	END { for (i in use) { split(use[i], u, " "); if (u[2] in def && def[u[2]] != u[1]) print u[1], def[u[2]], "calls", u[2] } }' \
	"$tmp/syms" >>"$tmp/edges"
[ -s "$tmp/syms" ] || bad "no symbols read from $lib"
# every object must map to a module, or its calls would go unseen
unknown=$(awk '{ print $2 }' "$tmp/syms" | sort -u | while read -r o; do
	grep -q "^$o " "$tmp/modules" || printf '%s ' "$o"
done)
[ -z "$unknown" ] || bad "objects of $lib that are no module of lib/: $unknown"

# module cycles
awk '$1 != $2 { print $1, $2 }' "$tmp/edges" | sort -u >"$tmp/medges"
if ! tsort "$tmp/medges" >/dev/null 2>"$tmp/mloop"; then
	bad "modules in a cycle:"
	sed 's/^tsort: /  /' "$tmp/mloop" >&2
	echo "  the edges among them:" >&2
	loopmods=$(sed -n 's/^tsort: \([a-z0-9_]*\)$/\1/p' "$tmp/mloop" | sort -u | tr '\n' '|')
	awk -v l="|$loopmods" 'index(l, "|" $1 "|") && index(l, "|" $2 "|") && $1 != $2' "$tmp/edges" | sort -u | sed 's/^/    /' >&2
fi

# folder edges against each folder's "May use:"
while read -r a b why what; do
	fa=$(folder_of "$a"); fb=$(folder_of "$b")
	if [ -n "$fa" ] && [ -n "$fb" ] && [ "$fa" != "$fb" ]; then
		echo "$fa $fb $a $b $why $what"
	fi
done <"$tmp/edges" | sort -u >"$tmp/fedges"
for d in $folders; do
	mains=$(grep -l '^ \* May use:' lib/$d/*.h || true)
	if [ "$(echo "$mains" | grep -c .)" != 1 ]; then
		bad "lib/$d: want one main header with a ' * May use:' line, found: ${mains:-none}"
		continue
	fi
	may=$(sed -n 's/^ \* May use: *//p' "$mains" | tr -d '.,' )
	awk -v d="$d" '$1 == d { print }' "$tmp/fedges" | while read -r fa fb a b why what; do
		case " $may " in
		*" $fb "*) ;;
		*) echo "layering: lib/$fa may not use lib/$fb ($mains says: May use: $may): $a $why $what ($b)" >&2; echo x >>"$tmp/fbad" ;;
		esac
	done
done
[ -e "$tmp/fbad" ] && fail=1
awk '{ print $1, $2 }' "$tmp/fedges" | sort -u >"$tmp/fpairs"
tsort "$tmp/fpairs" >/dev/null 2>&1 || bad "folders in a cycle: $(tr '\n' ';' <"$tmp/fpairs")"

# files past the limit
for f in lib/*/*.[ch] daemon/*.[ch]; do
	n=$(wc -l <"$f")
	[ "$n" -le $max_lines ] || bad "$f: $n lines (at most $max_lines: a longer file holds two concerns)"
done

if [ $fail = 0 ]; then
	echo "layering: $(wc -l <"$tmp/modules") modules in $(echo $folders | wc -w) folders, $(wc -l <"$tmp/medges") module edges, no cycle"
fi
exit $fail
