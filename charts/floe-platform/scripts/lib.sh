#!/bin/sh
# Shared functions of the floe-platform scripts (POSIX sh + curl; sourced, never run).
# Secrets never appear on a command line: curl reads them from its standard input.

# log MESSAGE...: one line on stderr.
log() {
    printf '%s\n' "$*" >&2
}

# wait_ready URL TIMEOUT_SECONDS: poll URL until it answers 2xx, at most TIMEOUT seconds.
wait_ready() {
    deadline=$(( $(date +%s) + $2 ))
    while :; do
        if curl -fsS -o /dev/null --max-time 5 "$1" 2>/dev/null; then
            return 0
        fi
        if [ "$(date +%s)" -ge "$deadline" ]; then
            log "error: $1 not ready within $2 s"
            return 1
        fi
        sleep "${POLL_INTERVAL:-2}"
    done
}

# polaris_token BASE_URL CLIENT_ID CLIENT_SECRET [SCOPE]: print an OAuth2 access token of
# Polaris (client credentials grant). The one token function of every script.
polaris_token() {
    if ! body=$(printf '%s' "$3" | curl -sS --max-time 15 --fail-with-body \
        -X POST "$1/api/catalog/v1/oauth/tokens" \
        -H "Polaris-Realm: ${POLARIS_REALM:-POLARIS}" \
        -d grant_type=client_credentials \
        --data-urlencode "client_id=$2" \
        --data-urlencode "client_secret@-" \
        --data-urlencode "scope=${4:-PRINCIPAL_ROLE:ALL}"); then
        log "error: token request to $1/api/catalog/v1/oauth/tokens failed for client '$2': $body"
        return 1
    fi
    token=$(printf '%s' "$body" | sed -n 's/.*"access_token"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p')
    if [ -z "$token" ]; then
        log "error: the token response of $1 holds no access_token"
        return 1
    fi
    printf '%s\n' "$token"
}

# polaris_api TOKEN METHOD URL [CURL ARGS...]: call the API with the token as a bearer; print
# the body, then the HTTP status on the last line.
polaris_api() {
    _token=$1 _method=$2 _url=$3
    shift 3
    printf 'Authorization: Bearer %s\n' "$_token" | curl -sS --max-time 15 -H @- \
        -H "Polaris-Realm: ${POLARIS_REALM:-POLARIS}" \
        -X "$_method" -w '\n%{http_code}' "$@" "$_url"
}

# catalog_exists TOKEN BASE_URL NAME: 0 when GET /api/management/v1/catalogs/NAME answers 200
# with that name.
catalog_exists() {
    out=$(polaris_api "$1" GET "$2/api/management/v1/catalogs/$3") || return 1
    code=$(printf '%s\n' "$out" | tail -n 1)
    if [ "$code" = 200 ] && printf '%s' "$out" | grep -q "\"name\"[[:space:]]*:[[:space:]]*\"$3\""; then
        return 0
    fi
    log "catalog '$3' not found at $2 (HTTP $code)"
    return 1
}
