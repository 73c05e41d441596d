#!/usr/bin/env bash
# Writes a Mosquitto 2.0 configuration for the timeclock cloud (TLS with
# client certificates on 59777, secure WebSocket on 59778, the broker's
# certificate and an ACL from the cloud's CA) and the cloud's own client
# certificate, then prints how to run the broker and the cloud with it.
#
#   scripts/mosquitto-conf.sh --data /var/lib/timeclock-cloud [--out DIR]
#       [--mqtt :59777] [--mqtt-ws :59778] [--public-host cloud.example.com]
#       [--user mosquitto] [--create-ca]
#
# It is "timeclock-cloud mosquitto-config" (bin/timeclock-cloud when built,
# else go run); docs/cloud.md ("External broker") explains the result.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -x bin/timeclock-cloud ]; then
	exec bin/timeclock-cloud mosquitto-config "$@"
fi
export PATH=/usr/local/go/bin:$PATH
exec go run ./cmd/timeclock-cloud mosquitto-config "$@"
