"""Say once per process how the embedded SQLite database is set up (see DATABASES)."""

import logging

from django.db.backends.signals import connection_created
from django.dispatch import receiver

logger = logging.getLogger(__name__)
_logged = False


@receiver(connection_created, dispatch_uid="config.sqlite.sqlite_setup_logged")
def sqlite_setup_logged(sender, connection, **kwargs):
    """Log the journal mode, transaction mode and busy timeout of the first SQLite connection."""
    global _logged
    if _logged or connection.vendor != "sqlite":
        return
    _logged = True
    options = connection.settings_dict.get("OPTIONS", {})
    journal = connection.connection.execute("PRAGMA journal_mode").fetchone()[0]
    logger.info(
        "SQLite (embedded default): journal_mode=%s, %s transactions, busy timeout %s s; "
        "concurrent texts wait for the write lock instead of failing with 'database is locked'.",
        journal,
        options.get("transaction_mode", "DEFERRED"),
        options.get("timeout", 5),
    )
