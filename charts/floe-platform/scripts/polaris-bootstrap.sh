#!/bin/sh
# Create the floe catalog in Polaris and the principal the data products log in with, then
# verify both; exit 1 on any failure. Every create is idempotent (201 created, 409 exists).
#
# The runner principal: created, its credentials reset to the ones of its Secret (Polaris's
# POST /principals/<name>/reset, Polaris >= 1.2), given a principal role of the same name,
# which is given a catalog role of the same name on the catalog, which is granted
# RUNNER_PRIVILEGE on the catalog. Verified by reading each back and by a token request with
# the runner's own credentials — what a product's run does first.
#
# Environment: POLARIS_URL, POLARIS_MANAGEMENT_URL, POLARIS_CLIENT_ID, POLARIS_CLIENT_SECRET
# (the root principal), CATALOG_NAME, CATALOG_BODY (the JSON of POST
# /api/management/v1/catalogs), RUNNER_PRINCIPAL, RUNNER_CLIENT_ID, RUNNER_CLIENT_SECRET,
# RUNNER_PRIVILEGE (default CATALOG_MANAGE_CONTENT), READY_TIMEOUT (seconds, default 300),
# POLARIS_REALM (default POLARIS).
set -eu
. "$(dirname "$0")/lib.sh"

MGMT="$POLARIS_URL/api/management/v1"
RUNNER_PRIVILEGE=${RUNNER_PRIVILEGE:-CATALOG_MANAGE_CONTENT}
umask 077
body_file=$(mktemp)
trap 'rm -f "$body_file"' EXIT

# send METHOD PATH JSON: call the management API with JSON read from a private file (never on
# a command line); sets $code and $answer (the body).
send() {
    printf '%s' "$3" > "$body_file"
    out=$(polaris_api "$token" "$1" "$MGMT$2" -H 'Content-Type: application/json' \
        --data "@$body_file") || {
        : > "$body_file"
        log "error: $1 $MGMT$2 failed"
        exit 1
    }
    : > "$body_file"
    code=$(printf '%s\n' "$out" | tail -n 1)
    answer=$(printf '%s\n' "$out" | sed '$d')
}

# ensure WHAT METHOD PATH JSON: create WHAT; 201 (or 200/204) and 409 are success.
ensure() {
    send "$2" "$3" "$4"
    case "$code" in
        200 | 201 | 204) log "$1 created" ;;
        409) log "$1 already exists" ;;
        *)
            log "error: creating $1 answered HTTP $code: $answer"
            exit 1
            ;;
    esac
}

# holds WHAT PATH TEXT: GET PATH answers 200 with TEXT (a "key":"value" pair) in its body.
holds() {
    out=$(polaris_api "$token" GET "$MGMT$2") || out=000
    code=$(printf '%s\n' "$out" | tail -n 1)
    if [ "$code" = 200 ] && printf '%s' "$out" | tr -d ' \n' | grep -qF "$3"; then
        return 0
    fi
    log "error: $1 cannot be read back (GET $MGMT$2: HTTP $code)"
    exit 1
}

wait_ready "$POLARIS_MANAGEMENT_URL/q/health/ready" "${READY_TIMEOUT:-300}" || exit 1
token=$(polaris_token "$POLARIS_URL" "$POLARIS_CLIENT_ID" "$POLARIS_CLIENT_SECRET") || exit 1

ensure "catalog '$CATALOG_NAME'" POST /catalogs "$CATALOG_BODY"
if ! catalog_exists "$token" "$POLARIS_URL" "$CATALOG_NAME"; then
    log "error: catalog '$CATALOG_NAME' cannot be read back after creation"
    exit 1
fi
log "catalog '$CATALOG_NAME' verified"

p=$RUNNER_PRINCIPAL
ensure "principal '$p'" POST /principals \
    "{\"principal\":{\"name\":\"$p\",\"properties\":{}},\"credentialRotationRequired\":false}"
send POST "/principals/$p/reset" \
    "{\"clientId\":\"$RUNNER_CLIENT_ID\",\"clientSecret\":\"$RUNNER_CLIENT_SECRET\"}"
answer=""  # it holds the credentials: never logged
if [ "$code" != 200 ]; then
    log "error: setting the credentials of principal '$p' answered HTTP $code"
    exit 1
fi
log "principal '$p' has the credentials of its Secret"
ensure "principal role '$p'" POST /principal-roles "{\"principalRole\":{\"name\":\"$p\"}}"
ensure "principal role '$p' of principal '$p'" PUT "/principals/$p/principal-roles" \
    "{\"principalRole\":{\"name\":\"$p\"}}"
ensure "catalog role '$p' of catalog '$CATALOG_NAME'" POST "/catalogs/$CATALOG_NAME/catalog-roles" \
    "{\"catalogRole\":{\"name\":\"$p\"}}"
ensure "catalog role '$p' of principal role '$p'" PUT \
    "/principal-roles/$p/catalog-roles/$CATALOG_NAME" "{\"catalogRole\":{\"name\":\"$p\"}}"
ensure "grant $RUNNER_PRIVILEGE to catalog role '$p'" PUT \
    "/catalogs/$CATALOG_NAME/catalog-roles/$p/grants" \
    "{\"grant\":{\"type\":\"catalog\",\"privilege\":\"$RUNNER_PRIVILEGE\"}}"

holds "principal '$p'" "/principals/$p" "\"name\":\"$p\""
holds "principal role '$p' of principal '$p'" "/principals/$p/principal-roles" "\"name\":\"$p\""
holds "catalog role '$p' of principal role '$p'" \
    "/principal-roles/$p/catalog-roles/$CATALOG_NAME" "\"name\":\"$p\""
holds "grant $RUNNER_PRIVILEGE of catalog role '$p'" \
    "/catalogs/$CATALOG_NAME/catalog-roles/$p/grants" "\"privilege\":\"$RUNNER_PRIVILEGE\""
if ! polaris_token "$POLARIS_URL" "$RUNNER_CLIENT_ID" "$RUNNER_CLIENT_SECRET" > /dev/null; then
    log "error: principal '$p' cannot log in with the credentials of its Secret"
    exit 1
fi
log "principal '$p' verified: it logs in and holds $RUNNER_PRIVILEGE on catalog '$CATALOG_NAME'"
