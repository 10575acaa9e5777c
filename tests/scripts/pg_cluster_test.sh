#!/usr/bin/env bash
# scripts/pg-cluster: create once, restart keeping data and port, secrets private, loopback
# password logins only, clean stop and destroy with no process left behind.
set -euo pipefail
pgc=$1
root=$(mktemp -d /tmp/vdi-pgc-test.XXXXXX)
trap '"$pgc" destroy "$root" >/dev/null 2>&1 || true; rm -rf "$root"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
psql_dsn() { /usr/lib/postgresql/15/bin/psql "$1" -XtAq -v ON_ERROR_STOP=1 -c "$2"; }

dsn=$("$pgc" start "$root")
[[ $dsn == postgresql://vdi:*@127.0.0.1:*/vdi ]] || fail "unexpected DSN shape"
[[ $(stat -c %a "$root/db.dsn") == 600 ]] || fail "db.dsn is readable by others"
"$pgc" status "$root" || fail "status says stopped after start"
psql_dsn "$dsn" "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('survives restarts')"
[[ $("$pgc" start "$root") == "$dsn" ]] || fail "a second start changed the DSN"

# the server listens on loopback only and wants the password over TCP
port=$(cat "$root/port")
ss -Hltn "( sport = :$port )" | grep -q "127.0.0.1:$port" || fail "not listening on 127.0.0.1:$port"
if ss -Hltn "( sport = :$port )" | grep -vq "127.0.0.1:$port"; then fail "listening beyond loopback"; fi
wrong=${dsn/vdi:*@/vdi:wrong@}
if psql_dsn "$wrong" "SELECT 1" 2>/dev/null; then fail "a wrong password was accepted"; fi

"$pgc" stop "$root"
if "$pgc" status "$root"; then fail "status says running after stop"; fi
"$pgc" check-gone "$root" || fail "processes left after stop"

dsn2=$("$pgc" start "$root")
[[ $dsn2 == "$dsn" ]] || echo "note: port changed on restart (the old one was taken)"
[[ $(psql_dsn "$dsn2" "SELECT v FROM kept") == "survives restarts" ]] || fail "data lost across restart"

"$pgc" destroy "$root"
"$pgc" check-gone "$root" || fail "processes left after destroy"
[[ ! -e $root/pg ]] || fail "destroy left the data directory"
echo "pg-cluster: all checks passed"
