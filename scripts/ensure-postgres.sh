#!/usr/bin/env bash
# Make sure a local PostgreSQL answers on 127.0.0.1:5432; start the Debian cluster if not.
set -uo pipefail
ready() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
ready && exit 0
if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    for _ in $(seq 1 30); do ready && exit 0; sleep 1; done
fi
exit 1
