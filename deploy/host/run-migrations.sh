#!/usr/bin/env bash
# Apply a release's migrations (the deploy's migration step on a host).
#
#   easysks-run-migrations [--release DIR] [--secrets DIR] [--dry-run]
#
# Runs DIR/bin/easysks-migrate up against DIR/sql/migrations, then seed with
# the catalogue in DIR/data/sks (DIR defaults to
# /opt/easysks/current; easysks-migrate@VERSION.service passes
# /opt/easysks/releases/VERSION so a release can be migrated before hosts run
# it). easysks-migrate takes a PostgreSQL advisory lock: two runners never race.
#
# The owner's connection comes from the secrets directory (default
# $RUNTIME_DIRECTORY/secrets, filled by easysks-fetch-secrets):
#   MIGRATE_DATABASE_URL   a libpq URI of the schema owner, used as is; or
#   DB_MASTER_SECRET       the RDS-managed master secret (JSON username/password)
#                          combined with the host, port, database and TLS
#                          settings of DATABASE_URL.
# The composed URI goes into a 0400 file read through MIGRATE_DATABASE_URL_FILE;
# it is never printed.
set -euo pipefail
set +x

release=/opt/easysks/current
secrets=${RUNTIME_DIRECTORY:-/run/easysks-migrate}/secrets
args=(up)

usage() {
    echo "usage: easysks-run-migrations [--release DIR] [--secrets DIR] [--dry-run]" >&2
    exit 2
}
while [ $# -gt 0 ]; do
    case $1 in
    --release) release=${2:?}; shift 2 ;;
    --secrets) secrets=${2:?}; shift 2 ;;
    --dry-run) args+=(--dry-run); shift ;;
    *) usage ;;
    esac
done

[ -x "$release/bin/easysks-migrate" ] || { echo "easysks-run-migrations: no release at $release" >&2; exit 1; }

url_file=
if [ -s "$secrets/MIGRATE_DATABASE_URL" ]; then
    url_file=$secrets/MIGRATE_DATABASE_URL
elif [ -s "$secrets/DB_MASTER_SECRET" ] && [ -s "$secrets/DATABASE_URL" ]; then
    url_file=$secrets/.migrate-url
    (umask 077 && python3 - "$secrets/DB_MASTER_SECRET" "$secrets/DATABASE_URL" >"$url_file") <<'PY'
import json, sys
from urllib.parse import quote, urlsplit, urlunsplit
master = json.load(open(sys.argv[1]))
app = urlsplit(open(sys.argv[2]).read().strip())
if app.scheme not in ("postgres", "postgresql") or not app.hostname:
    sys.exit("DATABASE_URL must be a postgresql:// URI with a host to combine with DB_MASTER_SECRET")
host = app.hostname if ":" not in app.hostname else "[%s]" % app.hostname
netloc = "%s:%s@%s" % (quote(master["username"], safe=""), quote(master["password"], safe=""), host)
if app.port:
    netloc += ":%d" % app.port
print(urlunsplit((app.scheme, netloc, app.path, app.query, "")))
PY
    chmod 0400 "$url_file"
else
    echo "easysks-run-migrations: no MIGRATE_DATABASE_URL, nor DB_MASTER_SECRET with DATABASE_URL, in $secrets" >&2
    exit 1
fi

echo "easysks-run-migrations: release $(cat "$release/VERSION" 2>/dev/null || echo "$release")" >&2
unset MIGRATE_DATABASE_URL DATABASE_URL DATABASE_URL_FILE
export MIGRATE_DATABASE_URL_FILE=$url_file
"$release/bin/easysks-migrate" --dir "$release/sql/migrations" "${args[@]}"
# The question catalogue shipped with the release (idempotent; nothing to do
# when it did not change).
[ "${args[*]}" = up ] || exit 0
exec "$release/bin/easysks-migrate" --dir "$release/sql/migrations" seed --data "$release/data/sks"
