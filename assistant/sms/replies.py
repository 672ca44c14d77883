"""The one way the SMS bot sends its replies."""

from assistant.sms.backends import get_backend


def replies_send(*, to: str, bodies: list[str], language: str) -> list[str]:
    """Send each reply body to ``to`` in order and return the provider's sids.

    Until the delivery service (OutboundMessage rows, delivered by Celery) is merged, each
    body goes straight to the configured backend; the merge swaps this body for
    ``assistant.services.delivery.replies_dispatch(to=to, bodies=bodies, language=language)``.
    """
    backend = get_backend()
    return [backend.send(to=to, body=body).sid for body in bodies]
