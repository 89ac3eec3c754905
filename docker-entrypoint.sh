#!/bin/sh
# Apply the migrations, then run the container's command (gunicorn unless told otherwise).
# REGISTRY_MIGRATE_ON_START=0 skips the upgrade (e.g. when a release job runs it once).
set -eu

if [ "${REGISTRY_MIGRATE_ON_START:-1}" = "1" ]; then
    attempt=1
    # the database may still be starting next to us (compose, a fresh cluster): retry a while
    until registry db upgrade; do
        status=$?
        if [ "$status" -eq 78 ]; then
            # a setting that cannot be used (the line above names it): waiting will not help
            exit 78
        fi
        if [ "$attempt" -ge "${REGISTRY_MIGRATE_ATTEMPTS:-30}" ]; then
            echo "docker-entrypoint: migrations failed $attempt times; giving up" >&2
            exit 1
        fi
        echo "docker-entrypoint: database not ready (attempt $attempt); retrying in 2s" >&2
        attempt=$((attempt + 1))
        sleep 2
    done
fi

exec "$@"
