#!/usr/bin/env bash
# The pooler test (packages/server/test/pg-pooler.test.ts) runs Debian's PgBouncer in transaction
# mode. Installs it when missing and we may (root with apt-get); otherwise says what to do.
set -euo pipefail
PGBOUNCER="${PAYRAIL_TEST_PGBOUNCER:-/usr/sbin/pgbouncer}"
if [ -x "$PGBOUNCER" ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's pgbouncer for the pooler test…" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null
  exit 0
fi
echo "The pooler test needs PgBouncer at $PGBOUNCER: install it (sudo apt-get install pgbouncer) or set PAYRAIL_TEST_PGBOUNCER." >&2
exit 1
