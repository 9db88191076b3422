#!/usr/bin/env bash
# Run the test suite against a real PostgreSQL as well as SQLite.
#
#   scripts/test.sh [pytest args...]
#
# Starts a throwaway server with scripts/pg.sh, exports MAMORI_TEST_PG_URL, runs pytest with the
# given arguments, and stops the server however pytest ends. A server that cannot start fails
# the run: the PostgreSQL tests must not be skipped silently.
set -uo pipefail

cd "$(dirname "$0")/.."

# Each run gets its own cluster directory, so that two runs never share a server.
MAMORI_PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mamori-pg.XXXXXX") || {
    echo "test.sh: cannot create a temporary directory" >&2
    exit 1
}
export MAMORI_PG_DIR

cleanup() { bash scripts/pg.sh stop || true; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if ! MAMORI_TEST_PG_URL=$(bash scripts/pg.sh start); then
    echo "test.sh: could not start PostgreSQL (reason above); the suite must run against it" >&2
    exit 1
fi
export MAMORI_TEST_PG_URL

# loadgroup: tests marked xdist_group("spark") share one worker, hence one Spark session.
.venv/bin/python -m pytest --dist loadgroup "$@"
status=$?
if [ "$status" -eq 5 ]; then
    # pytest's "no tests collected": a filter that matches nothing is a mistake, not a pass.
    echo "test.sh: pytest collected no tests" >&2
fi
exit "$status"
