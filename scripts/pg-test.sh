#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL server on 127.0.0.1, its URL in
# ORDER_TEST_POSTGRES; the server and its directory are gone afterwards,
# also when the command fails or is interrupted.
#
#   scripts/pg-test.sh cargo test --workspace --all-targets
#
# With ORDER_TEST_POSTGRES already set (postgres://USER@HOST:PORT/DB of a
# server whose database the tests may write to) the command runs against
# that server and nothing is started. If no server can be started the
# script fails: the tests that need one must not pass without it.
set -euo pipefail

if [[ $# -eq 0 ]]; then
    echo "usage: $0 COMMAND [ARG...]" >&2
    exit 2
fi

if [[ -n "${ORDER_TEST_POSTGRES:-}" ]]; then
    echo "pg-test: using the server at ORDER_TEST_POSTGRES" >&2
    exec "$@"
fi

find_bin() {
    local found
    found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [[ -n "$found" && -x "$found/initdb" ]]; then
        echo "$found"
    fi
}

PG_BIN=$(find_bin)
if [[ -z "$PG_BIN" ]]; then
    if [[ $(id -u) -ne 0 ]]; then
        echo "pg-test: PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb);" \
             "install the Debian package postgresql, or set ORDER_TEST_POSTGRES" >&2
        exit 1
    fi
    echo "pg-test: installing PostgreSQL from the Debian packages" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq postgresql >/dev/null
    PG_BIN=$(find_bin)
    if [[ -z "$PG_BIN" ]]; then
        echo "pg-test: installing postgresql gave no initdb" >&2
        exit 1
    fi
fi

# The server refuses to run as root: run it as an unprivileged user.
if [[ $(id -u) -eq 0 ]]; then
    RUN_AS=(setpriv --reuid=nobody --regid=nogroup --clear-groups --)
    if ! getent group nogroup >/dev/null; then
        RUN_AS=(runuser -u nobody --)
    fi
else
    RUN_AS=()
fi

DIR=$(mktemp -d "${TMPDIR:-/tmp}/order-pg.XXXXXX")
chmod 755 "$DIR"
if [[ $(id -u) -eq 0 ]]; then
    chown nobody "$DIR"
fi

pg() { (cd "$DIR" && "${RUN_AS[@]}" "$@"); }

stop() {
    local rc=$?
    if [[ -f "$DIR/data/postmaster.pid" ]]; then
        pg "$PG_BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$DIR"
    exit "$rc"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PORT=""
for _ in $(seq 1 50); do
    candidate=$((20000 + RANDOM % 30000))
    if port_free "$candidate"; then
        PORT=$candidate
        break
    fi
done
if [[ -z "$PORT" ]]; then
    echo "pg-test: found no free port" >&2
    exit 1
fi

pg "$PG_BIN/initdb" -D "$DIR/data" -U postgres --auth=trust -E UTF8 --no-sync >"$DIR/initdb.log" 2>&1 || {
    echo "pg-test: initdb failed:" >&2
    cat "$DIR/initdb.log" >&2
    exit 1
}
# Durability is not under test here (the cluster is thrown away), speed is.
if ! pg "$PG_BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 30 \
    -o "-k $DIR -h 127.0.0.1 -p $PORT -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null; then
    echo "pg-test: the server did not start:" >&2
    cat "$DIR/server.log" >&2 || true
    exit 1
fi

export ORDER_TEST_POSTGRES="postgres://postgres@127.0.0.1:$PORT/postgres"
echo "pg-test: PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') at $ORDER_TEST_POSTGRES" >&2
"$@"
