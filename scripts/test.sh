#!/usr/bin/env bash
# Set up (once) and run every check: lint, format, types, layer contracts, tests.
# Needs Python >= 3.11; PostgreSQL tests use NTZ_TEST_PG_URL or 127.0.0.1:5432 (user postgres).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/setup.sh
source scripts/setup.sh
scripts/ensure-postgres.sh || echo "PostgreSQL not reachable: its tests will be reported as skipped"
.venv/bin/ruff check src tests benchmarks
.venv/bin/ruff format --check src tests benchmarks
.venv/bin/mypy
.venv/bin/lint-imports
.venv/bin/pytest "$@"
