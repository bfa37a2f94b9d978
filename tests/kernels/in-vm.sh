#!/bin/bash
# Inside a kernel matrix VM (tests/kernels/suite runs it through
# tests/kernels/run): runs each named test in turn, each bounded, and
# reports it on a line of its own that starts with $IAF_SUITE_MARK:
#
#   MARK result NAME pass|fail|skip STATUS SECONDS
#
# NAME is a netns test (semantics runs tests/netns/test-semantics.sh) or
# demo (bash lab/demo, with the build IPAUTOFW_BUILD names). A failed test's output is printed before its line;
# a passed one's is not. PER_TEST_TIMEOUT (seconds, default 300) bounds each.
set -u
: "${IAF_SUITE_MARK:?}"
per=${PER_TEST_TIMEOUT:-300}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "Linux $(uname -r)"
for name in "$@"; do
	case $name in
	demo) cmd=(bash lab/demo) ;;
	*) cmd=(bash "tests/netns/test-$name.sh") ;;
	esac
	start=$(date +%s%N)
	rc=0
	timeout -k 5 "$per" "${cmd[@]}" </dev/null >"$out" 2>&1 || rc=$?
	secs=$((($(date +%s%N) - start) / 1000000000))
	case $rc in
	0) verdict=pass ;;
	77) verdict=skip ;;
	*) verdict=fail ;;
	esac
	if [ "$verdict" != pass ]; then
		echo "--- $name ($verdict, status $rc$([ "$rc" = 124 ] && echo ", killed after $per s"))"
		cat "$out"
	fi
	echo "$IAF_SUITE_MARK result $name $verdict $rc $secs"
done
