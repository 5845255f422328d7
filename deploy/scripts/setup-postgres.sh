#!/bin/sh
# Creates the Temporal persistence and visibility databases if missing and upgrades both schemas to the
# versions shipped in this admin-tools image; idempotent, so it runs on every `docker compose up`.
set -eu
tool() { temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$DB_PORT" -u "$POSTGRES_USER" --pw "$SQL_PASSWORD" "$@"; }
for i in $(seq 1 60); do nc -z "$POSTGRES_SEEDS" "$DB_PORT" && break; sleep 1; done
schemas=/etc/temporal/schema/postgresql/v12
for db in temporal temporal_visibility; do
  dir=temporal; [ "$db" = temporal_visibility ] && dir=visibility
  tool --db "$db" create || true # exists already on a restart
  tool --db "$db" setup-schema -v 0.0 || true # the version table exists already on a restart
  tool --db "$db" update-schema -d "$schemas/$dir/versioned"
done
