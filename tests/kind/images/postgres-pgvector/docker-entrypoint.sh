#!/bin/sh
# Entrypoint of the Postgres + pgvector image built for the kind test bed (written here; it
# follows the documented behaviour of the official postgres image, which the pgvector role's
# standalone Deployment relies on):
#   - arguments starting with "-" are postgres options: `postgres <args>`
#   - on an empty $PGDATA: initdb with superuser $POSTGRES_USER (default postgres) and password
#     $POSTGRES_PASSWORD (required), scram-sha-256 for TCP, trust on the local socket; then,
#     with a server listening only on the socket, $POSTGRES_DB is created (when it is not
#     "postgres") and /docker-entrypoint-initdb.d/*.sql and *.sh run once, stopping at the
#     first error
#   - then postgres runs in the foreground, listening on every address
set -eu
if [ "${1#-}" != "$1" ]; then set -- postgres "$@"; fi
if [ "$1" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
  : "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set for the first start}"
  user="${POSTGRES_USER:-postgres}"
  db="${POSTGRES_DB:-$user}"
  mkdir -p "$PGDATA"; chmod 0700 "$PGDATA"
  pwfile="$(mktemp)"; printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
  initdb --username="$user" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 -D "$PGDATA"
  rm -f "$pwfile"
  printf '\nhost all all all scram-sha-256\n' >> "$PGDATA/pg_hba.conf"
  pg_ctl -D "$PGDATA" -w -o "-c listen_addresses='' -c unix_socket_directories=/var/run/postgresql" start
  if [ "$db" != postgres ]; then
    psql -v ON_ERROR_STOP=1 -h /var/run/postgresql -U "$user" -d postgres -c "CREATE DATABASE \"$db\""
  fi
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sql) echo "running $f"; psql -v ON_ERROR_STOP=1 -h /var/run/postgresql -U "$user" -d "$db" -f "$f" ;;
      *.sh) echo "running $f"; . "$f" ;;
      *) [ -e "$f" ] && echo "ignoring $f" ;;
    esac
  done
  pg_ctl -D "$PGDATA" -m fast -w stop
  echo "database initialised; starting postgres"
fi
if [ "$1" = postgres ]; then
  shift
  exec postgres -c listen_addresses='*' -c unix_socket_directories=/var/run/postgresql "$@"
fi
exec "$@"
