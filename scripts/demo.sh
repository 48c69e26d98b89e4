#!/usr/bin/env bash
# Set up (once) and start the app on embedded SQLite with a synthetic demo clinic.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
exec .venv/bin/ntz serve --demo "$@"
