#!/bin/sh
# Before `helm upgrade --install`: bring a release stuck in pending-install, pending-upgrade,
# pending-rollback or failed back to a state Helm can upgrade from.
#   pending-install (never deployed)        → uninstall (the next install starts clean)
#   pending-upgrade / pending-rollback      → roll back to the last deployed revision
#   failed with a deployed revision before  → roll back to it; failed first install → uninstall
#   deployed / no release                   → nothing to do
# Usage: helm-recover.sh RELEASE NAMESPACE   (HELM: the helm binary, default helm)
set -eu
release=$1
namespace=$2
helm=${HELM:-helm}

log() {
    printf '%s\n' "$*" >&2
}

# The status of the newest revision, "" when the release does not exist.
status=$("$helm" history "$release" -n "$namespace" --max 1 -o json 2>/dev/null \
    | sed -n 's/.*"status":"\([a-z-]*\)".*/\1/p' | tail -n 1) || status=""

# The newest revision whose status is deployed or superseded (a good one to return to).
last_good() {
    "$helm" history "$release" -n "$namespace" -o json \
        | tr '}' '\n' \
        | sed -n 's/.*"revision":\([0-9]*\).*"status":"\(deployed\|superseded\)".*/\1/p' \
        | tail -n 1
}

case "$status" in
    "" | deployed)
        log "release $release: ${status:-not installed}, nothing to recover"
        ;;
    pending-install)
        log "release $release stuck in pending-install: uninstalling"
        "$helm" uninstall "$release" -n "$namespace" --wait
        ;;
    pending-upgrade | pending-rollback | failed)
        revision=$(last_good)
        if [ -n "$revision" ]; then
            log "release $release is $status: rolling back to revision $revision"
            "$helm" rollback "$release" "$revision" -n "$namespace" --wait
        else
            log "release $release is $status with no deployed revision: uninstalling"
            "$helm" uninstall "$release" -n "$namespace" --wait
        fi
        ;;
    *)
        log "release $release: status $status, nothing to recover"
        ;;
esac
