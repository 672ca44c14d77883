"""Plain-language words the residents' pages use for 287(g) facts.

The labels repeat the model's choices on purpose: residents' pages read them from the
site's own catalog, in short words, with what each model means for a resident.
"""

from django.utils.translation import gettext_lazy as _

from assistant.places.models import Agreement

MODEL_EXPLANATIONS = {
    Agreement.EnforcementModel.JAIL_ENFORCEMENT: (
        _("Jail Enforcement Model"),
        _(
            "Jail officers check the immigration status of people booked into jail. "
            "They can hold people for ICE."
        ),
    ),
    Agreement.EnforcementModel.TASK_FORCE: (
        _("Task Force Model"),
        _(
            "Officers can ask about immigration status and arrest people for ICE during "
            "their daily work, for example at a traffic stop."
        ),
    ),
    Agreement.EnforcementModel.WARRANT_SERVICE: (
        _("Warrant Service Officer"),
        _(
            "Jail officers can serve ICE warrants on people who are already in jail. "
            "They do not question people on the street."
        ),
    ),
}

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


# The headings of a place's guide, by ``Guide`` field, in the order residents read them.
GUIDE_SECTION_TITLES = {
    "meaning_here": _("What 287(g) means here"),
    "reporting": _("How to report a crime"),
    "immigration_status_policy": _("Will they ask about immigration status?"),
    "interpreters": _("Interpreters"),
    "visa_certification": _("U and T visas"),
    "your_rights": _("Your rights"),
}


def guide_section_title(key: str) -> str:
    """Return the heading of a guide section in the current language."""
    title = GUIDE_SECTION_TITLES.get(key)
    return str(title) if title else key
