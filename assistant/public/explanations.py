"""Plain-language words the residents' pages use for 287(g) facts.

The names and meanings come from assistant.vocabulary, shared with the models and the SMS.
"""

from django.utils.translation import gettext_lazy as _

from assistant.vocabulary import GUIDE_SECTION_TITLES, MODEL_MEANINGS, MODEL_NAMES

MODEL_EXPLANATIONS = {code: (MODEL_NAMES[code], MODEL_MEANINGS[code]) for code in MODEL_NAMES}

SCOPE_LABELS = {
    "statewide": _("state agency: works everywhere in the state"),
    "county": _("county agency: works in this city too"),
}


def model_label(code: str) -> str:
    """Return the plain name of a 287(g) model in the current language."""
    entry = MODEL_EXPLANATIONS.get(code)
    return str(entry[0]) if entry else code


def models_explained(facts) -> list[tuple]:
    """Return (label, meaning) for each model among ``facts``, in first-seen order."""
    seen = []
    for fact in facts:
        if fact.enforcement_model in MODEL_EXPLANATIONS and fact.enforcement_model not in seen:
            seen.append(fact.enforcement_model)
    return [MODEL_EXPLANATIONS[code] for code in seen]


def guide_section_title(key: str) -> str:
    """Return the heading of a guide section in the current language."""
    title = GUIDE_SECTION_TITLES.get(key)
    return str(title) if title else key
