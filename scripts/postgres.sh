# Sourced by test.sh and bench.sh: a throwaway PostgreSQL cluster (initdb in a temp folder,
# loopback only, fsync off), removed on exit. Sets PG_URL.

PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
PG_DIR=$(mktemp -d /tmp/microcat-pg.XXXXXX)
PG_PORT=${PG_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
PG_USER=microcat
PG_URL="postgres://$PG_USER@127.0.0.1:$PG_PORT/postgres"

as_pg() {
  # PostgreSQL refuses to run as root: run its tools as the postgres system user then.
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

stop_postgres() {
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
}

start_postgres() {
  [ "$(id -u)" -eq 0 ] && chown postgres: "$PG_DIR"
  as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -U "$PG_USER" --auth=trust -E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log"
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR -c fsync=off -c max_connections=300" start >/dev/null
  echo "postgres: throwaway cluster on 127.0.0.1:$PG_PORT"
}
