#!/usr/bin/env bash
# Print the wall time of importing ICE's real May 2025 list (571 rows) and the re-import.
# Run on a database with no earlier import, e.g. a fresh DATABASE_URL (it is migrated first).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
$PY manage.py migrate --noinput >/dev/null
FIX=tests/fixtures/ice-287g
for run in first re-import; do
  start=$(date +%s.%N)
  $PY manage.py import_287g "$FIX/participatingAgencies05162025am.xlsx" \
    --pending "$FIX/pendingAgencies05152025am.xlsx" >/dev/null
  end=$(date +%s.%N)
  printf '%s import: %.1f s\n' "$run" "$(echo "$end - $start" | bc)"
done
