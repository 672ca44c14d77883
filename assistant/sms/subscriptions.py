"""Writes for alert subscriptions: a resident's SUBSCRIBE, STOP, UNSUBSCRIBE and DELETE."""

from django.db import transaction

from assistant.privacy import phone_hash
from assistant.sms.models import Subscription


@transaction.atomic
def subscription_create(*, number: str, place_id: int, language: str) -> Subscription:
    """Subscribe ``number`` to the alerts of place ``place_id``; a second call changes nothing.

    The language of an existing subscription is updated: alerts go in the language the
    resident last chose.
    """
    hashed = phone_hash(number)
    subscription = Subscription.objects.filter(phone_hash=hashed, place_id=place_id).first()
    if subscription is not None:
        if language and subscription.language != language:
            subscription.language = language
            subscription.save(update_fields=["language"])
        return subscription
    subscription = Subscription(place_id=place_id, language=language or "en")
    subscription.set_number(number)
    subscription.save()
    return subscription


@transaction.atomic
def subscriptions_end(*, hashed: str) -> int:
    """Delete every subscription of the number with keyed hash ``hashed``; return how many."""
    deleted, _by_model = Subscription.objects.filter(phone_hash=hashed).delete()
    return deleted


def subscribed_place_ids(*, hashed: str) -> tuple[int, ...]:
    """Return the places the number with keyed hash ``hashed`` gets alerts for."""
    return tuple(
        Subscription.objects.filter(phone_hash=hashed)
        .order_by("pk")
        .values_list("place_id", flat=True)
    )
