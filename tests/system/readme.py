#!/usr/bin/env python3
"""The README's code blocks, for the test that runs its quick start.

Every fenced block must follow (on the line before it, blank lines aside)
one of these markers:

    <!-- readme-test: ID -->         commands a test runs, found by ID
    <!-- illustration: WHY -->       not run here; WHY says where it is tested
    <!-- output -->                  what a command prints

  readme.py check README          list the blocks without a marker; exit 1 if any
  readme.py block README ID       print the commands of block ID
  readme.py output README N       print the Nth output block (from 1)
"""
import re
import sys

MARK = re.compile(r'^\s*<!--\s*(readme-test:\s*(\S+)|illustration:\s*\S.*|output)\s*-->\s*$')


def blocks(path):
    lines = open(path, encoding='utf-8').read().split('\n')
    out = []
    i = 0
    while i < len(lines):
        m = re.match(r'^(\s*)```', lines[i])
        if not m:
            i += 1
            continue
        indent = m.group(1)
        start = i
        j = i + 1
        while j < len(lines) and not re.match(r'^\s*```\s*$', lines[j]):
            j += 1
        body = [l[len(indent):] if l.startswith(indent) else l for l in lines[i + 1:j]]
        k = start - 1
        while k >= 0 and not lines[k].strip():
            k -= 1
        mark = MARK.match(lines[k]) if k >= 0 else None
        kind = test_id = None
        if mark:
            if mark.group(2):
                kind, test_id = 'test', mark.group(2)
            elif mark.group(1) == 'output':
                kind = 'output'
            else:
                kind = 'illustration'
        out.append((start + 1, kind, test_id, '\n'.join(body) + '\n'))
        i = j + 1
    return out


def main():
    cmd, path = sys.argv[1], sys.argv[2]
    bs = blocks(path)
    if cmd == 'check':
        bad = [line for line, kind, _, _ in bs if kind is None]
        for line in bad:
            print('%s:%d: a code block without a readme-test, illustration or output marker'
                  % (path, line))
        return 1 if bad or not bs else 0
    if cmd == 'block':
        found = [b for _, kind, tid, b in bs if kind == 'test' and tid == sys.argv[3]]
        if len(found) != 1:
            print('%s: %d blocks marked readme-test: %s' % (path, len(found), sys.argv[3]),
                  file=sys.stderr)
            return 1
        sys.stdout.write(found[0])
        return 0
    if cmd == 'output':
        found = [b for _, kind, _, b in bs if kind == 'output']
        n = int(sys.argv[3])
        if n > len(found):
            return 1
        sys.stdout.write(found[n - 1])
        return 0
    print(__doc__, file=sys.stderr)
    return 2


sys.exit(main())
