#!/usr/bin/env bash
# make run: the simulated clock in this terminal. State lives in run/.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p run/clock
echo "Starting the simulated clock (log: run/clock/timeclockd.log). Ctrl-C quits."
exec bin/timeclockd --board sim --state-dir run/clock --sim-socket run/clock/sim.sock \
	--roster-file scripts/demo-roster.json "$@"
