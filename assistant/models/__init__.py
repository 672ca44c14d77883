from assistant.models.agencies import Agency, Agreement
from assistant.models.alerts import Alert, AlertDelivery, AlertText, Subscription
from assistant.models.content import (
    Guide,
    HelpOrganization,
    PolicyNote,
    Source,
    TranslationRecord,
    TranslatorLanguage,
)
from assistant.models.conversations import Conversation, InboundMessage
from assistant.models.imports import ImportSnapshot, UnmatchedRow
from assistant.models.interface_translation import InterfaceTranslationReview
from assistant.models.messaging import OutboundMessage
from assistant.models.places import Place, ZipCodeArea
from assistant.models.residents import OptOut
from assistant.models.review import ReviewFlag

__all__ = [
    "Agency",
    "Agreement",
    "Alert",
    "AlertDelivery",
    "AlertText",
    "Conversation",
    "Guide",
    "HelpOrganization",
    "ImportSnapshot",
    "InboundMessage",
    "InterfaceTranslationReview",
    "OptOut",
    "OutboundMessage",
    "Place",
    "PolicyNote",
    "ReviewFlag",
    "Source",
    "TranslationRecord",
    "Subscription",
    "TranslatorLanguage",
    "UnmatchedRow",
    "ZipCodeArea",
]
