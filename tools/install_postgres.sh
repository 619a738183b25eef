#!/usr/bin/env bash
# Install Debian's PostgreSQL server for the durable-run tests where we can (root + apt). Never fails
# the build: the Postgres tests skip (and say why) where no server is installed. The tests start
# their own throwaway server (initdb in a temporary folder, as an unprivileged user); the package's
# own cluster is not used.
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && exit 0
command -v initdb >/dev/null 2>&1 && exit 0
[ "$(id -u)" = "0" ] || exit 0
command -v apt-get >/dev/null 2>&1 || exit 0
echo "installing postgresql for the durable-run tests (skipped tests otherwise)..."
(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) 2>&1 | tail -2 || true
exit 0
