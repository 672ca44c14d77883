from django.db import transaction

from assistant.content.models import InterfaceTranslationReview
from assistant.content.publication import public_content_changed

# Organizers in one of these groups may approve an interface translation.
REVIEWER_GROUPS = ("Reviewer", "Translator")


def can_review_interface_translation(user) -> bool:
    """Return whether ``user`` may approve or withdraw an interface translation."""
    if not (user.is_active and user.is_staff):
        return False
    return user.is_superuser or user.groups.filter(name__in=REVIEWER_GROUPS).exists()


@transaction.atomic
def interface_translation_approve(
    *, language: str, reviewer, note: str = ""
) -> InterfaceTranslationReview:
    """Record that ``reviewer`` checked the interface in ``language``; drop its notice."""
    if not can_review_interface_translation(reviewer):
        raise PermissionError("Only a Reviewer or Translator may approve a translation.")
    review, _created = InterfaceTranslationReview.objects.update_or_create(
        language=language, defaults={"reviewed_by": reviewer, "note": note}
    )
    public_content_changed()
    return review


@transaction.atomic
def interface_translation_withdraw(*, language: str) -> None:
    """Mark the interface in ``language`` as not checked by a person again."""
    InterfaceTranslationReview.objects.filter(language=language).delete()
    public_content_changed()
