for t in "$@"; do
	s=$(date +%s)
	if bash tests/netns/test-$t.sh > /tmp/t-$t.log 2>&1; then r=PASS; else r="FAIL($?)"; grep -E "^FAIL" /tmp/t-$t.log | head -5; fi
	echo "RESULT $t $r $(( $(date +%s) - s ))s"
	case $r in FAIL*) tail -25 /tmp/t-$t.log ;; esac
done
