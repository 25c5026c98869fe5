#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL cluster:
#   bash .ci/postgres.sh COMMAND [ARGS...]
# Creates a cluster in a temporary directory (initdb), starts it on a loopback port,
# exports DATABASE_URL for COMMAND, and always stops and deletes the cluster afterwards.
# Installs Debian's PostgreSQL with apt when its binaries are missing.
# POSTGRES_SERVER_OPTIONS adds server settings for one run (a benchmark), e.g.
#   POSTGRES_SERVER_OPTIONS="-c shared_buffers=512MB" bash .ci/postgres.sh …
# Unset (CI, make test-postgres): the cluster's defaults (shared_buffers 128MB).
set -euo pipefail

find_bin() {
  local name=$1
  if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return; fi
  ls /usr/lib/postgresql/*/bin/"$name" 2>/dev/null | sort -V | tail -n 1
}

if [ -z "$(find_bin initdb)" ]; then
  echo "PostgreSQL absent : installation avec apt…"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
INITDB=$(find_bin initdb)
PG_CTL=$(find_bin pg_ctl)
CREATEDB=$(find_bin createdb)

PGPORT=${PGPORT:-55432}
WORK=$(mktemp -d /tmp/parcours-pg.XXXXXX)
chmod 755 "$WORK"
as_owner=()
if [ "$(id -u)" = "0" ]; then   # initdb refuses to run as root
  chown postgres:postgres "$WORK"
  as_owner=(runuser -u postgres --)
fi

stop() {
  "${as_owner[@]}" "$PG_CTL" -D "$WORK/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap stop EXIT

"${as_owner[@]}" "$INITDB" -D "$WORK/data" -U parcours --auth=trust -E UTF8 \
  --locale=C.UTF-8 >/dev/null
"${as_owner[@]}" "$PG_CTL" -D "$WORK/data" -l "$WORK/server.log" -w \
  -o "-p $PGPORT -k $WORK -c listen_addresses=127.0.0.1 -c fsync=off \
      -c synchronous_commit=off -c full_page_writes=off ${POSTGRES_SERVER_OPTIONS:-}" \
  start >/dev/null
"${as_owner[@]}" "$CREATEDB" -h 127.0.0.1 -p "$PGPORT" -U parcours parcours

export DATABASE_URL="postgresql://parcours@127.0.0.1:$PGPORT/parcours"
echo "PostgreSQL temporaire prêt : $DATABASE_URL"
"$@"
