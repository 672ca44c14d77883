#!/usr/bin/env bash
# Time the import of ICE's real lists (issue 15: the ~826-row July list after May's < 5 s, the
# whole bundled history < 60 s, the first import of May's list fast), in one process.
# Uses DATABASE_URL when set (PostgreSQL); else a throwaway SQLite file. It migrates what it
# needs, and empties agencies (and their facts), agreements, imports and flags before each series.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
export DEBUG=${DEBUG:-true}
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-config.settings}
if [ -z "${DATABASE_URL:-}" ]; then
  tmp=$(mktemp -d)
  export DATABASE_URL="sqlite:///$tmp/bench.sqlite3"
  echo "DATABASE_URL not set: using SQLite ($DATABASE_URL)"
fi
$PY manage.py migrate --no-input >/dev/null
$PY manage.py load_places >/dev/null
$PY bench/import_287g.py
