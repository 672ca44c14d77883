"""What the voice line says, defined once: the synthesised text of each prompt (from the
interface catalogs) and the prompts organizers record for languages Twilio cannot speak.

The recording labels reuse the SMS texts where they say the same thing, so a translator sees
one sentence once.
"""

from django.utils.translation import gettext_lazy as _

from assistant.sms.conversation import CRIME, MEANING_NONE, RIGHTS
from assistant.sms.lookup import HELP_TITLE
from assistant.vocabulary import (
    JAIL_ENFORCEMENT,
    MODEL_SHORT_MEANINGS,
    TASK_FORCE,
    WARRANT_SERVICE,
)

LANGUAGE_OPTION = _("For English, press %(digit)s.")
MORE_LANGUAGES = _("For more languages, press 9.")
WELCOME = _(
    "Know Your Police. We tell you if police near you work with ICE. This call is not recorded."
)
ASK_ZIP = _("Type your 5-digit ZIP code.")
ZIP_UNKNOWN = _("We do not know that ZIP code.")
AGENCIES = _("Working with ICE: %(agencies)s.")
LIST_DATE = _("This is from ICE's list of %(date)s.")
NO_LIST = _("We do not have ICE's list yet, so we cannot tell you if police here work with ICE.")
ANSWER_NO = _("No: police here have no 287(g) agreement with ICE.")
MENU = _(
    "Press 1 to hear how to report a crime. Press 2 for your rights. Press 3 for local help. "
    "Press star to hear it again. Press 0 for another ZIP code."
)
NO_HELP = _("We have no local help listed for this place yet. In an emergency, call 911.")
FALLBACK_NOTICE = _("This is not recorded in your language yet. You will hear it in Spanish.")
NO_INPUT = _("We did not hear a key. Goodbye.")

# The prompts and answers recorded per language: key → what the recording must say.
RECORDED = {
    "language_option": LANGUAGE_OPTION,
    "welcome": WELCOME,
    "ask_zip": ASK_ZIP,
    "zip_unknown": ZIP_UNKNOWN,
    f"yes_{JAIL_ENFORCEMENT}": MODEL_SHORT_MEANINGS[JAIL_ENFORCEMENT],
    f"yes_{TASK_FORCE}": MODEL_SHORT_MEANINGS[TASK_FORCE],
    f"yes_{WARRANT_SERVICE}": MODEL_SHORT_MEANINGS[WARRANT_SERVICE],
    "no": ANSWER_NO,
    "no_list": NO_LIST,
    "menu": MENU,
    "crime": CRIME,
    "rights": RIGHTS,
    "help": HELP_TITLE,
    "no_help": NO_HELP,
    "fallback": FALLBACK_NOTICE,
    "no_input": NO_INPUT,
}
# Said after "no" when city police inside the county have an agreement.
NO_MEANING = MEANING_NONE
