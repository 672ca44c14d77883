"""Fields residents read, translated with django-modeltranslation (one column per language).

modeltranslation's own fallback is off (see settings): ``selectors.content`` falls back in
``CONTENT_FALLBACK_LANGUAGES`` order and says when it does.
"""

from modeltranslation.translator import TranslationOptions, register

from assistant.content.models import Guide, HelpOrganization, PolicyNote
from assistant.trust.models import AgencyFact, Forum


@register(Guide)
class GuideTranslationOptions(TranslationOptions):
    fields = Guide.TEXT_FIELDS


@register(PolicyNote)
class PolicyNoteTranslationOptions(TranslationOptions):
    fields = PolicyNote.TEXT_FIELDS
    required_languages = ("en",)


@register(HelpOrganization)
class HelpOrganizationTranslationOptions(TranslationOptions):
    fields = HelpOrganization.TEXT_FIELDS


# simple-history builds the historical models before this module adds the translated columns;
# registering them too keeps every language's text in the history.
@register(Guide.history.model)
class HistoricalGuideTranslationOptions(TranslationOptions):
    fields = Guide.TEXT_FIELDS


@register(PolicyNote.history.model)
class HistoricalPolicyNoteTranslationOptions(TranslationOptions):
    fields = PolicyNote.TEXT_FIELDS


@register(HelpOrganization.history.model)
class HistoricalHelpOrganizationTranslationOptions(TranslationOptions):
    fields = HelpOrganization.TEXT_FIELDS


@register(AgencyFact)
class AgencyFactTranslationOptions(TranslationOptions):
    fields = AgencyFact.TEXT_FIELDS


@register(AgencyFact.history.model)
class HistoricalAgencyFactTranslationOptions(TranslationOptions):
    fields = AgencyFact.TEXT_FIELDS


@register(Forum)
class ForumTranslationOptions(TranslationOptions):
    fields = ("title", "description", "accessibility")
    required_languages = ("en",)


@register(Forum.history.model)
class HistoricalForumTranslationOptions(TranslationOptions):
    fields = ("title", "description", "accessibility")
