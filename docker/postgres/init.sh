#!/usr/bin/env bash
# First start of the PostgreSQL container (an empty data volume) only: one database and one role
# per service that owns data, users and bookings. Each role owns its database and that database's
# public schema, and may connect to nothing else: CONNECT is revoked from PUBLIC on every database,
# so a role reaches only the database it owns. The services create their tables themselves
# (versioned migrations at start).
#
# Passwords come from the container's environment (compose.yaml passes USERS_DB_PASSWORD and
# BOOKINGS_DB_PASSWORD from .env, with development defaults). They are handed to psql as variables
# and quoted by psql itself, so any character is safe. Changing them later in .env does not change
# an existing volume: `docker compose down -v` starts over.
set -euo pipefail

: "${USERS_DB_PASSWORD:?USERS_DB_PASSWORD must be set}"
: "${BOOKINGS_DB_PASSWORD:?BOOKINGS_DB_PASSWORD must be set}"

# --no-psqlrc and the superuser from the image's own settings, over the init server's local socket.
sql() { psql -v ON_ERROR_STOP=1 --no-psqlrc --username "${POSTGRES_USER:-postgres}" "$@"; }

# Nobody but the superuser may connect to the maintenance databases.
sql --dbname postgres <<'SQL'
REVOKE CONNECT, TEMPORARY ON DATABASE postgres FROM PUBLIC;
REVOKE CONNECT, TEMPORARY ON DATABASE template1 FROM PUBLIC;
SQL

owner_database() { # NAME PASSWORD
  sql --dbname postgres -v name="$1" -v password="$2" <<'SQL'
CREATE ROLE :"name" LOGIN PASSWORD :'password';
-- UTF-8 whatever the server's own default (names are text from people); C.UTF-8 is in every
-- Debian-based image and sorts by code point, the same in every environment.
CREATE DATABASE :"name" OWNER :"name" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8';
REVOKE ALL ON DATABASE :"name" FROM PUBLIC;
SQL
  sql --dbname "$1" -v name="$1" <<'SQL'
ALTER SCHEMA public OWNER TO :"name";
REVOKE ALL ON SCHEMA public FROM PUBLIC;
SQL
  echo "init: database $1 owned by role $1"
}

owner_database users "$USERS_DB_PASSWORD"
owner_database bookings "$BOOKINGS_DB_PASSWORD"
