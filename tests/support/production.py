"""``manage.py`` in a subprocess with a production environment, for the settings checks."""

import os
import subprocess
import sys

from tests.support.services import ROOT

PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "a-long-random-production-secret-key-for-the-check-0123456789abcdef",
    "ALLOWED_HOSTS": "kyp.example.org",
    "PUBLIC_BASE_URL": "https://kyp.example.org",
    "PHONE_HASH_KEY": "a-long-random-phone-hash-key-0123456789",
    "FIELD_ENCRYPTION_KEY": "x8gU1yB9N2y1lr3c0j5WwS3h0s0YVmR1r2QlTqkZr0E=",
    "DATABASE_URL": "sqlite:////tmp/kyp-check.sqlite3",
    "REDIS_URL": "redis://127.0.0.1:6379/15",
}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run ``manage.py *args`` with ``env`` instead of this process's production settings."""
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )
