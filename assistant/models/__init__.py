from assistant.models.agencies import Agency, Agreement
from assistant.models.content import (
    Guide,
    HelpOrganization,
    PolicyNote,
    Source,
    TranslationRecord,
    TranslatorLanguage,
)
from assistant.models.places import Place, ZipCodeArea
from assistant.models.residents import OptOut
from assistant.models.review import ReviewFlag

__all__ = [
    "Agency",
    "Agreement",
    "Guide",
    "HelpOrganization",
    "OptOut",
    "Place",
    "PolicyNote",
    "ReviewFlag",
    "Source",
    "TranslationRecord",
    "TranslatorLanguage",
    "ZipCodeArea",
]
