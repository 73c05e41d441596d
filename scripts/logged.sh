#!/usr/bin/env bash
# logged.sh NAME COMMAND...: runs a test command with its output shown as it
# comes and kept in a log; when the command fails, scripts/test-digest.sh
# repeats each failed test's output at the end (CI shows the end of a long
# log) and the log stays in /tmp for a closer look.
set -uo pipefail
name=$1
shift
log=$(mktemp "${TMPDIR:-/tmp}/timeclock-$name-XXXXXX.log")
"$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
if [ "$rc" -ne 0 ]; then
	"$(dirname "$0")/test-digest.sh" "$log"
	echo "==== $name failed (exit $rc); its whole output: $log"
else
	rm -f "$log"
fi
exit "$rc"
