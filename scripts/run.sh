#!/usr/bin/env bash
# make run: the dev cloud and the simulated clock together. State lives in run/
# (run/cloud: the cloud's data, CA, outbox and output; run/clock: the clock's).
#
# With tmux (scripts/deps.sh run installs it as root) the terminal shows the
# clock on top and the cloud's output below, where the emailed code appears as
# DEV MAIL; inside tmux the cloud's output opens in a new pane of the current
# window. Without tmux the clock takes the terminal and the cloud's output goes
# to run/cloud/cloud.out, which a restart appends to (the DEV MAIL of a code the
# resumed clock waits for stays in view). Quitting the clock (Ctrl-C) stops the cloud too, on
# every exit path.
#
# Variables:
#   NO_CLOUD=1            the clock alone, standalone, as before the cloud existed
#   CLOUD_HTTP_PORT       default 18080 (plain HTTP: reachability and time)
#   CLOUD_HTTPS_PORT      default 18443 (the onboarding API)
#   CLOUD_MQTT_PORT       default 19777
#   CLOUD_MQTT_WS_PORT    default 19778
#   RUN_DIR               default run
#   NO_TMUX=1             do not use tmux even when it is there
#   BIN_DIR               where timeclockd and timeclock-cloud are (default bin)
# Extra arguments go to timeclockd.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
run=${RUN_DIR:-run}
case "$run" in /*) ;; *) run="$root/$run" ;; esac
mkdir -p "$run/clock" "$run/cloud"
bin=${BIN_DIR:-$root/bin}

clock=("$bin/timeclockd" --board sim --state-dir "$run/clock" --sim-socket "$run/clock/sim.sock" --roster-file "$root/scripts/demo-roster.json")

if [ -n "${NO_CLOUD:-}" ]; then
	echo "Starting the simulated clock without a cloud (log: $run/clock/timeclockd.log). Ctrl-C quits."
	exec "${clock[@]}" "$@"
fi

http=${CLOUD_HTTP_PORT:-18080}
https=${CLOUD_HTTPS_PORT:-18443}
mqtt=${CLOUD_MQTT_PORT:-19777}
mqttws=${CLOUD_MQTT_WS_PORT:-19778}
out="$run/cloud/cloud.out"
outbox="$run/cloud/outbox"
touch "$out"
# The earlier output stays: a restarted clock may still wait for the code in
# its DEV MAIL. Only what this run adds counts below (from byte $since on);
# a file grown past 1 MiB keeps its last 2000 lines.
if [ -s "$out" ]; then
	if [ "$(wc -c <"$out")" -gt 1048576 ]; then
		tail -n 2000 "$out" >"$out.tmp" && mv "$out.tmp" "$out"
	fi
	printf '\n--- make run restarted the cloud at %s; earlier mail is above and in %s ---\n' "$(date -u +%FT%TZ)" "$outbox" >>"$out"
fi
since=$(($(wc -c <"$out") + 1))
# (grep without -q reads it all: no SIGPIPE for pipefail to see.)
# (grep without -q reads it all: no SIGPIPE for pipefail to see.)
this_run() { tail -c "+$since" "$out"; }
"$bin/timeclock-cloud" --dev --data "$run/cloud" \
	--http "127.0.0.1:$http" --https "127.0.0.1:$https" \
	--mqtt "127.0.0.1:$mqtt" --mqtt-ws "127.0.0.1:$mqttws" \
	>>"$out" 2>&1 </dev/null &
cloud_pid=$!
tmux_sock=""
pane=""

cleanup() {
	# Every step runs even when one fails: the cloud must always stop.
	set +e
	trap - EXIT INT TERM HUP
	if [ -n "$pane" ]; then tmux kill-pane -t "$pane" 2>/dev/null; fi
	if [ -n "$tmux_sock" ]; then
		tmux -S "$tmux_sock" kill-server 2>/dev/null
		rm -f "$tmux_sock"
	fi
	if kill -0 "$cloud_pid" 2>/dev/null; then
		kill -TERM "$cloud_pid" 2>/dev/null
		wait "$cloud_pid" 2>/dev/null
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# Wait for the cloud to say it is ready (or to fail, showing why).
for _ in $(seq 1 600); do
	this_run | grep -x ready >/dev/null && break
	if ! kill -0 "$cloud_pid" 2>/dev/null; then
		this_run >&2
		echo "make run: the cloud did not start (ports in use? set CLOUD_HTTPS_PORT and friends)" >&2
		exit 1
	fi
	sleep 0.1
done
if ! this_run | grep -x ready >/dev/null; then
	this_run >&2
	echo "make run: the cloud did not get ready within 60 s" >&2
	exit 1
fi
company=$(this_run | sed -n 's/^demo company ID: //p')
echo "Cloud (dev mode) at https://localhost:$https; its output: $out"
echo "demo company ID: $company"
echo "mail (DEV MAIL, the codes) also goes to $outbox"
# The admin pages (Mobile Devices, setup code, security roles) and their logins.
this_run | sed -n -e 's/^admin pages: /admin pages (in a browser): /p' -e '/^admin login: /p' -e '/^user login: /p'

# The clock's network check tries the dev cloud's four ports, not 80/443/59777/59778.
clock+=(--cloud "https://localhost:$https" --cloud-ca "$run/cloud/ca.pem" --cloud-ports "$http,$https,$mqtt,$mqttws")
clock+=("$@")

have_tmux=""
if [ -z "${NO_TMUX:-}" ] && [ -t 0 ] && [ -t 1 ]; then
	scripts/deps.sh run >/dev/null 2>&1 || true
	command -v tmux >/dev/null 2>&1 && have_tmux=1
fi

# Shell-quoted command lines for tmux panes.
q() { printf '%q ' "$@"; }
tail_cmd="$(q tail -n +1 -f "$out")"
# The clock face needs 14 rows; the cloud's output gets the rest.
cloud_rows() {
	local r=$(($1 - 15))
	[ "$r" -lt 5 ] && r=5
	echo "$r"
}

if [ -n "$have_tmux" ] && [ -n "${TMUX:-}" ]; then
	# Inside tmux: the cloud's output in a new pane below, the clock here.
	rows=$(tmux display-message -p -t "${TMUX_PANE:-}" '#{pane_height}' 2>/dev/null || echo 40)
	pane=$(tmux split-window -d -v -t "${TMUX_PANE:-}" -l "$(cloud_rows "$rows")" -P -F '#{pane_id}' "$tail_cmd")
	status=0
	"${clock[@]}" || status=$?
	exit "$status"
elif [ -n "$have_tmux" ]; then
	# A private tmux server: clock on top, cloud output below. When the
	# clock ends it takes the whole server (and so this script's attach)
	# with it; cleanup stops the cloud.
	tmux_sock="$run/tmux.sock"
	t() { tmux -S "$tmux_sock" -f /dev/null "$@"; }
	clock_cmd="$(q "${clock[@]}"); $(q tmux -S "$tmux_sock" kill-server)"
	rows=$(tput lines 2>/dev/null || echo 40)
	t new-session -d -s run -x "$(tput cols 2>/dev/null || echo 100)" -y "$rows" "$clock_cmd"
	t set-option -t run status-left " make run: clock above, cloud output below (DEV MAIL has the code) | demo company ID $company "
	t set-option -t run status-left-length 120
	t set-option -t run status-right ""
	t set-option -t run mouse on
	t split-window -d -v -t run -l "$(cloud_rows "$rows")" "$tail_cmd"
	t attach-session -t run || true
	exit 0
else
	echo "The emailed code appears in the cloud's output as DEV MAIL: read it in another"
	echo "terminal with   tail -f $out"
	echo "Starting the simulated clock (log: $run/clock/timeclockd.log). Ctrl-C quits."
	status=0
	"${clock[@]}" || status=$?
	exit "$status"
fi
