#!/usr/bin/env bash
# Apply a release's migrations (the deploy's migration step on a host).
#
#   easysks-run-migrations [--release DIR] [--secrets DIR] [--dry-run]
#
# DIR defaults to /opt/easysks/current; easysks-migrate@VERSION.service passes
# /opt/easysks/releases/VERSION so a release can be migrated before hosts run
# it. The steps, in order (each idempotent, each stops the run on failure):
#   1. schema     DIR/bin/easysks-migrate up against DIR/sql/migrations, under
#                 a PostgreSQL advisory lock (two runners never race);
#   2. catalogue  DIR/bin/easysks-migrate seed with the catalogue shipped in
#                 DIR/data/sks (in place; nothing changes when it did not);
#   3. app role   the login role named in DATABASE_URL exists, is a member of
#                 easysks_app (DML only) and has DATABASE_URL's password, so
#                 a new environment needs no manual psql session and
#                 rotating that password is: put-secret-value, migrate, reload.
# --dry-run runs step 1 with --dry-run and skips the others.
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

log() { echo "easysks-run-migrations: $*" >&2; }
log "release $(cat "$release/VERSION" 2>/dev/null || echo "$release")"
unset MIGRATE_DATABASE_URL DATABASE_URL DATABASE_URL_FILE

step_schema() {
    MIGRATE_DATABASE_URL_FILE=$url_file "$release/bin/easysks-migrate" --dir "$release/sql/migrations" "${args[@]}"
}

# The question catalogue shipped with the release, after the schema, with
# the same owner URL (idempotent: a second run changes nothing).
step_seed() {
    MIGRATE_DATABASE_URL_FILE=$url_file "$release/bin/easysks-migrate" --dir "$release/sql/migrations" \
        seed --data "$release/data/sks"
}

# Create or update the application's login role from DATABASE_URL: the
# password goes to the server as a SCRAM verifier (computed here, like psql's
# \password), so neither it nor the statement in the PostgreSQL log (which
# records DDL) contains the clear text.
step_app_role() {
    [ -s "$secrets/DATABASE_URL" ] || { log "no DATABASE_URL: app role not checked"; return 0; }
    local sql
    sql=$(python3 - "$secrets/DATABASE_URL" <<'PY'
import base64, hashlib, hmac, os, sys
from urllib.parse import unquote, urlsplit, parse_qs
url = urlsplit(open(sys.argv[1]).read().strip())
user = unquote(url.username or "") or parse_qs(url.query).get("user", [""])[0]
if not user:
    sys.exit("DATABASE_URL names no user")
password = unquote(url.password or "")
def lit(s):
    return "'" + s.replace("'", "''") + "'"
def ident(s):
    return '"' + s.replace('"', '""') + '"'
print("SET client_min_messages = warning;")
print("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = %s) THEN "
      "CREATE ROLE %s LOGIN; END IF; END $$;" % (lit(user), ident(user)))
print("GRANT easysks_app TO %s;" % ident(user))
# Migration 0003 creates easysks_web without LOGIN (to attach its timeouts).
print("ALTER ROLE %s LOGIN;" % ident(user))
if password:
    salt, iterations = os.urandom(16), 4096
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()
    b64 = lambda b: base64.b64encode(b).decode()
    verifier = "SCRAM-SHA-256$%d:%s$%s:%s" % (iterations, b64(salt), b64(stored_key), b64(server_key))
    print("ALTER ROLE %s LOGIN PASSWORD %s;" % (ident(user), lit(verifier)))
PY
) || return 1
    # The owner's password goes through the environment, never argv.
    local conn pass
    { IFS= read -r conn && IFS= read -r pass; } < <(python3 - "$url_file" <<'PY'
import sys
from urllib.parse import unquote, urlsplit, urlunsplit
u = urlsplit(open(sys.argv[1]).read().strip())
host = u.hostname or ""
netloc = (u.username or "") + "@" + ("[%s]" % host if ":" in host else host) + (":%d" % u.port if u.port else "")
print(urlunsplit((u.scheme, netloc, u.path, u.query, "")))
print(unquote(u.password or ""))
PY
)
    PGPASSWORD=$pass psql "$conn" -qX -v ON_ERROR_STOP=1 >/dev/null <<<"$sql"
    log "app role from DATABASE_URL is in place"
}

step_schema
if [ "${#args[@]}" -gt 1 ]; then exit 0; fi # --dry-run
step_seed
step_app_role
