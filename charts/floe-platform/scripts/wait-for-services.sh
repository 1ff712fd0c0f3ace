#!/bin/sh
# Wait until the platform is usable: every URL given as an argument answers 2xx, Polaris is
# ready on its management port, and the floe catalog exists through the API (not merely a
# finished bootstrap Job). Exit 1 at the deadline.
# Environment: POLARIS_URL, POLARIS_MANAGEMENT_URL, POLARIS_CLIENT_ID, POLARIS_CLIENT_SECRET,
# CATALOG_NAME (default floe), TIMEOUT (seconds, default 300).
# Usage: wait-for-services.sh [HEALTH_URL...]
set -eu
. "$(dirname "$0")/lib.sh"

timeout=${TIMEOUT:-300}
deadline=$(( $(date +%s) + timeout ))
remaining() {
    left=$(( deadline - $(date +%s) ))
    [ "$left" -gt 0 ] && printf '%s' "$left" || printf '0'
}

for url in "$@"; do
    wait_ready "$url" "$(remaining)" || exit 1
    log "ready: $url"
done
wait_ready "$POLARIS_MANAGEMENT_URL/q/health/ready" "$(remaining)" || exit 1
log "ready: polaris"

catalog=${CATALOG_NAME:-floe}
token=""
while :; do
    if [ -z "$token" ]; then
        token=$(polaris_token "$POLARIS_URL" "$POLARIS_CLIENT_ID" "$POLARIS_CLIENT_SECRET") || token=""
    fi
    if [ -n "$token" ] && catalog_exists "$token" "$POLARIS_URL" "$catalog"; then
        log "ready: catalog '$catalog'"
        exit 0
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
        log "error: catalog '$catalog' does not exist at $POLARIS_URL after ${timeout} s"
        exit 1
    fi
    sleep "${POLL_INTERVAL:-2}"
done
