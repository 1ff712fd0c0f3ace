#!/bin/sh
# Create every bucket of BUCKETS on an S3-compatible endpoint, then verify each one exists.
# Environment: S3_ENDPOINT, S3_REGION (default us-east-1), BUCKETS (space separated),
# AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, READY_TIMEOUT (seconds, default 300).
# Requests are signed with AWS Signature V4 (curl --aws-sigv4); the keys reach curl on stdin.
set -eu
. "$(dirname "$0")/lib.sh"

# s3 METHOD PATH: print the HTTP status of a signed request.
s3() {
    printf 'user = "%s:%s"\n' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" | curl -sS \
        --max-time 15 -K - --aws-sigv4 "aws:amz:${S3_REGION:-us-east-1}:s3" \
        -X "$1" -o /dev/null -w '%{http_code}' "$S3_ENDPOINT/$2"
}

deadline=$(( $(date +%s) + ${READY_TIMEOUT:-300} ))
until code=$(s3 GET "" 2>/dev/null) && [ "$code" = 200 ]; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
        log "error: object storage $S3_ENDPOINT not ready within ${READY_TIMEOUT:-300} s (last HTTP ${code:-none})"
        exit 1
    fi
    sleep "${POLL_INTERVAL:-2}"
done

for bucket in $BUCKETS; do
    code=$(s3 PUT "$bucket") || code=none
    case "$code" in
        200) log "bucket '$bucket' created" ;;
        409) log "bucket '$bucket' already exists" ;;
        *) log "error: creating bucket '$bucket' answered HTTP $code"; exit 1 ;;
    esac
done
for bucket in $BUCKETS; do
    code=$(s3 HEAD "$bucket") || code=none
    if [ "$code" != 200 ]; then
        log "error: bucket '$bucket' missing after creation (HTTP $code)"
        exit 1
    fi
    log "bucket '$bucket' verified"
done
