from assistant.models.agencies import Agency, Agreement
from assistant.models.interface_translation import InterfaceTranslationReview
from assistant.models.places import Place, ZipCodeArea
from assistant.models.residents import OptOut
from assistant.models.review import ReviewFlag

__all__ = [
    "Agency",
    "Agreement",
    "InterfaceTranslationReview",
    "OptOut",
    "Place",
    "ReviewFlag",
    "ZipCodeArea",
]
