#!/bin/sh
# Create the floe catalog in Polaris, then verify it exists; exit 1 on any failure.
# Environment: POLARIS_URL, POLARIS_MANAGEMENT_URL, POLARIS_CLIENT_ID, POLARIS_CLIENT_SECRET,
# CATALOG_NAME, CATALOG_BODY (the JSON of POST /api/management/v1/catalogs),
# READY_TIMEOUT (seconds, default 300), POLARIS_REALM (default POLARIS).
set -eu
. "$(dirname "$0")/lib.sh"

wait_ready "$POLARIS_MANAGEMENT_URL/q/health/ready" "${READY_TIMEOUT:-300}" || exit 1
token=$(polaris_token "$POLARIS_URL" "$POLARIS_CLIENT_ID" "$POLARIS_CLIENT_SECRET") || exit 1

out=$(polaris_api "$token" POST "$POLARIS_URL/api/management/v1/catalogs" \
    -H 'Content-Type: application/json' --data "$CATALOG_BODY") || {
    log "error: POST $POLARIS_URL/api/management/v1/catalogs failed"
    exit 1
}
code=$(printf '%s\n' "$out" | tail -n 1)
case "$code" in
    201) log "catalog '$CATALOG_NAME' created" ;;
    409) log "catalog '$CATALOG_NAME' already exists" ;;
    *)
        log "error: creating catalog '$CATALOG_NAME' answered HTTP $code: $(printf '%s\n' "$out" | sed '$d')"
        exit 1
        ;;
esac

if ! catalog_exists "$token" "$POLARIS_URL" "$CATALOG_NAME"; then
    log "error: catalog '$CATALOG_NAME' cannot be read back after creation"
    exit 1
fi
log "catalog '$CATALOG_NAME' verified"
