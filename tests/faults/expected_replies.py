"""Make the fault suite's private database ready, then print the replies each script must get.

Run by the fault suite with the stack's environment (``python -m tests.faults.expected_replies``)
so that it reads the private database the workers answer from: the replies come from the same
data and the same PUBLIC_BASE_URL. It reads a JSON list of scripts (each a list of texts one
resident sends) on stdin and prints a JSON list: for each script, the replies the conversation
gives to its texts answered one after another, the way tests/sms/test_inbound_worker.py
computes them.

The database is a copy of the test database, which earlier tests may have emptied: places
are loaded again when there are none (what migration 0002 loads).
"""

import json
import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from assistant.places.models import Place  # noqa: E402
from assistant.places.services import places_load  # noqa: E402
from assistant.sms.conversation import State, converse  # noqa: E402
from assistant.sms.lookup import DbLookup  # noqa: E402


def replies_to(texts: list[str]) -> list[str]:
    """Return the replies to ``texts``, answered one after another by a new resident."""
    state, replies = State(), []
    for body in texts:
        turn = converse(state=state, text=body, lookup=DbLookup())
        state = turn.state
        replies += [reply for reply in turn.replies if reply]
    return replies


def main() -> None:
    if not Place.objects.exists():
        places_load()
    scripts = json.load(sys.stdin)
    json.dump([replies_to(texts) for texts in scripts], sys.stdout)


if __name__ == "__main__":
    main()
