#!/usr/bin/env bash
# A throwaway PostgreSQL server for the test suite.
#
#   scripts/pg.sh start   initdb a cluster in a temporary directory, start it on a free loopback
#                         port, create database mamori_test, print its SQLAlchemy URL
#   scripts/pg.sh url     print the URL of the running server
#   scripts/pg.sh stop    stop the server and delete its directory
#
# MAMORI_PG_DIR chooses the directory (default: $TMPDIR/mamori-pg-<uid>); scripts/test.sh gives
# each run its own. Messages go to stderr; stdout carries only the URL.
set -euo pipefail

STATE_DIR=${MAMORI_PG_DIR:-${TMPDIR:-/tmp}/mamori-pg-$(id -u)}
DATA_DIR=$STATE_DIR/data
URL_FILE=$STATE_DIR/url
LOG_FILE=$STATE_DIR/server.log
DB_NAME=mamori_test
DB_USER=postgres
# PostgreSQL refuses to run as root; as root we run it as this system user.
RUN_AS=postgres

say() { echo "pg.sh: $*" >&2; }
die() { say "$*"; exit 1; }

is_root() { [ "$(id -u)" -eq 0 ]; }

# Run a PostgreSQL program as the user that owns the cluster.
as_owner() {
    if is_root; then
        runuser -u "$RUN_AS" -- "$@"
    else
        "$@"
    fi
}

find_bindir() {
    local initdb_path dir
    if initdb_path=$(command -v initdb 2>/dev/null) && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(readlink -f "$initdb_path")"
        return 0
    fi
    # Debian and Ubuntu keep the server programs out of PATH, one directory per major version.
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
            echo "$dir"
            return 0
        fi
    done
    return 1
}

ensure_server_installed() {
    local bindir
    if bindir=$(find_bindir); then
        echo "$bindir"
        return 0
    fi
    is_root || die "PostgreSQL server programs (initdb, pg_ctl) not found; install PostgreSQL"
    command -v apt-get >/dev/null 2>&1 \
        || die "PostgreSQL server programs not found and no apt-get to install them"
    say "installing PostgreSQL with apt-get"
    apt-get update -qq >&2 || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2 \
        || die "apt-get install postgresql failed"
    find_bindir || die "PostgreSQL installed but initdb/pg_ctl still not found"
}

ensure_run_as_user() {
    is_root || return 0
    id "$RUN_AS" >/dev/null 2>&1 && return 0
    say "creating system user $RUN_AS to run PostgreSQL"
    useradd --system --no-create-home --shell /usr/sbin/nologin "$RUN_AS" \
        || die "could not create system user $RUN_AS"
}

free_port() {
    local py
    for py in python3 python; do
        if command -v "$py" >/dev/null 2>&1; then
            "$py" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
            return 0
        fi
    done
    die "python3 is needed to pick a free port"
}

running() {
    [ -f "$URL_FILE" ] && [ -f "$DATA_DIR/postmaster.pid" ]
}

cmd_start() {
    if running; then
        cat "$URL_FILE"
        return 0
    fi
    local bindir port url
    bindir=$(ensure_server_installed)
    ensure_run_as_user
    mkdir -p "$STATE_DIR"
    chmod 700 "$STATE_DIR"
    if is_root; then chown "$RUN_AS" "$STATE_DIR"; fi
    rm -rf "$DATA_DIR"

    as_owner "$bindir/initdb" -D "$DATA_DIR" -U "$DB_USER" --auth=trust -E UTF8 --locale=C \
        --no-sync >"$STATE_DIR/initdb.log" 2>&1 \
        || { cat "$STATE_DIR/initdb.log" >&2; die "initdb failed in $DATA_DIR"; }

    port=$(free_port)
    # Loopback only, and the Unix socket in our own directory, not the system's.
    as_owner "$bindir/pg_ctl" -D "$DATA_DIR" -l "$LOG_FILE" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k '$STATE_DIR'" start >/dev/null \
        || { tail -n 20 "$LOG_FILE" >&2 2>/dev/null; die "PostgreSQL did not start"; }

    as_owner "$bindir/createdb" -h 127.0.0.1 -p "$port" -U "$DB_USER" "$DB_NAME" \
        || die "could not create database $DB_NAME"

    url="postgresql+psycopg://$DB_USER@127.0.0.1:$port/$DB_NAME"
    echo "$bindir" >"$STATE_DIR/bindir"
    echo "$url" >"$URL_FILE"
    say "$("$bindir/postgres" --version) listening on 127.0.0.1:$port, files in $STATE_DIR"
    echo "$url"
}

cmd_url() {
    running || die "no PostgreSQL running in $STATE_DIR (run: scripts/pg.sh start)"
    cat "$URL_FILE"
}

cmd_stop() {
    if [ -f "$DATA_DIR/postmaster.pid" ] && [ -f "$STATE_DIR/bindir" ]; then
        as_owner "$(cat "$STATE_DIR/bindir")/pg_ctl" -D "$DATA_DIR" -m fast -w stop >/dev/null \
            || say "pg_ctl stop failed; see $LOG_FILE"
    fi
    rm -rf "$STATE_DIR"
}

case "${1:-}" in
    start) cmd_start ;;
    url) cmd_url ;;
    stop) cmd_stop ;;
    *) die "usage: scripts/pg.sh start|url|stop" ;;
esac
