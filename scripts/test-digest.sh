#!/usr/bin/env bash
# test-digest.sh LOG: after a failed `go test` run, repeats what each failed
# test printed, so the end of a long CI log says why it failed (a -v run
# prints a test's errors where they happen, often hundreds of lines before
# the summary). For -v output: each failed test's block from its "=== RUN"
# (or "=== NAME"/"=== CONT") line to the next "===" line; without -v, go
# test already prints errors under "--- FAIL". Parents first, the deepest
# subtests last (nearest the end of the log, where CI's excerpt is), at
# most 30 lines a test.
set -euo pipefail
log=$1
[ -s "$log" ] || exit 0
mapfile -t failed < <(sed -n 's/^ *--- FAIL: \([^ ]*\) .*/\1/p' "$log" | sort -u |
	awk -F/ '{ print NF "\t" $0 }' | sort -n -s -k1,1 | cut -f2-)
echo
echo "==== failure digest: ${#failed[@]} failed test(s) in $log"
for name in "${failed[@]}"; do
	echo "---- $name"
	awk -v name="$name" '
		/^=== (RUN|NAME|CONT|PAUSE) / {
			split($0, f, " +"); inblock = (f[3] == name); if (inblock) { n = 0 }; next
		}
		/^ *--- (PASS|FAIL|SKIP): / { inblock = 0 }
		inblock && n < 30 { print; n++ }
	' "$log"
	# Without -v: the lines under the --- FAIL line.
	awk -v name="$name" '
		$0 ~ "^ *--- FAIL: " name " " { on = 1; n = 0; next }
		on && /^ *(--- |=== |FAIL|ok |PASS)/ { on = 0 }
		on && n < 30 { print; n++ }
	' "$log"
done
