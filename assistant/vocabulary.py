"""The words the whole service shares, defined once: 287(g) models, guide sections, ZIP codes,
SMS lengths. No Django model is imported here, so every feature can import it.
"""

import re

from django.utils.translation import gettext_lazy as _

# --- 287(g) models ------------------------------------------------------------------------
# The codes stored in Agreement.enforcement_model, with ICE's names for them.
JAIL_ENFORCEMENT, TASK_FORCE, WARRANT_SERVICE = "jail", "task_force", "warrant"
MODEL_NAMES = {
    JAIL_ENFORCEMENT: _("Jail Enforcement Model"),
    TASK_FORCE: _("Task Force Model"),
    WARRANT_SERVICE: _("Warrant Service Officer"),
}
# What each model means for a resident, on the site (room for an example).
MODEL_MEANINGS = {
    JAIL_ENFORCEMENT: _(
        "Jail officers check the immigration status of people booked into jail. "
        "They can hold people for ICE."
    ),
    TASK_FORCE: _(
        "Officers can ask about immigration status and arrest people for ICE during "
        "their daily work, for example at a traffic stop."
    ),
    WARRANT_SERVICE: _(
        "Jail officers can serve ICE warrants on people who are already in jail. "
        "They do not question people on the street."
    ),
}
# The same, shorter, for SMS, where every character costs (see SMS_SEGMENT_CHARACTERS).
MODEL_SHORT_NAMES = {
    JAIL_ENFORCEMENT: _("Jail Enforcement"),
    TASK_FORCE: _("Task Force"),
    WARRANT_SERVICE: _("Warrant Service Officer"),
}
MODEL_SHORT_MEANINGS = {
    JAIL_ENFORCEMENT: _(
        "Jail Enforcement: jail officers can check the immigration status of people they "
        "book into jail and hold them for ICE."
    ),
    TASK_FORCE: _(
        "Task Force: officers can ask about immigration status and arrest people for ICE "
        "during their normal police work."
    ),
    WARRANT_SERVICE: _(
        "Warrant Service Officer: jail officers can serve ICE warrants on people already in "
        "their jail."
    ),
}

# --- a place's guide ----------------------------------------------------------------------
# The headings of a place's guide, by ``Guide`` field, in the order residents read them.
GUIDE_SECTION_TITLES = {
    "meaning_here": _("What 287(g) means here"),
    "reporting": _("How to report a crime"),
    "immigration_status_policy": _("Will they ask about immigration status?"),
    "interpreters": _("Interpreters"),
    "visa_certification": _("U and T visas"),
    "your_rights": _("Your rights"),
}
# The place menu of the SMS conversation: what each number opens, and the guide fields in it.
SECTION_MEANING, SECTION_CRIME, SECTION_RIGHTS, SECTION_HELP = (
    "meaning",
    "reporting",
    "rights",
    "help",
)
SECTIONS = {"1": SECTION_MEANING, "2": SECTION_CRIME, "3": SECTION_RIGHTS, "4": SECTION_HELP}
SECTION_FIELDS = {
    SECTION_MEANING: ("meaning_here",),
    SECTION_CRIME: ("reporting", "immigration_status_policy", "interpreters", "visa_certification"),
    SECTION_RIGHTS: ("your_rights",),
}

# --- ZIP codes ----------------------------------------------------------------------------
# Five digits, optionally the ZIP+4 with or without its dash; group 1 is the five digits.
# ASCII digits only: "\d" also matches "١١٥٠١" and "１１５０１", which are no ZIP code.
ZIP_RE = re.compile(r"^\s*([0-9]{5})(?:-?[0-9]{4})?\s*$")
# A ZIP code inside a sentence ("my zip is 11501", "vivo en el 11501-1234").
ZIP_IN_TEXT_RE = re.compile(r"(?<![0-9])([0-9]{5})(?:[- ]?[0-9]{4})?(?![0-9])")

# --- SMS lengths --------------------------------------------------------------------------
SMS_MAX_TEXT = 1600  # Twilio's own limit for one message
# Characters per segment: (alone in one segment, in each part of a longer message).
SMS_SEGMENT_CHARACTERS = {"GSM-7": (160, 153), "UCS-2": (70, 67)}
