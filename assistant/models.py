"""Every model, by feature. Django loads ``assistant.models``; the models live in the features."""

from assistant.alerts.models import Alert, AlertDelivery, AlertText
from assistant.content.models import (
    Guide,
    HelpOrganization,
    InterfaceTranslationReview,
    PolicyNote,
    ReviewFlag,
    Source,
    TranslationRecord,
    TranslatorLanguage,
)
from assistant.delivery.models import EarlyStatus, OptOut, OutboundMessage
from assistant.ice_import.models import (
    AgencyAlias,
    FetchCheck,
    FetchedFile,
    HeldList,
    ImportSnapshot,
    UnmatchedRow,
)
from assistant.places.models import Agency, Agreement, Place, ZipCodeArea
from assistant.sms.models import Conversation, InboundMessage, Subscription
from assistant.trust.models import (
    AgencyFact,
    Forum,
    ForumReminderOptIn,
    ForumReminderSent,
    MistakeReport,
)
from assistant.voice.models import CallCount, VoiceLanguage, VoiceRecording

__all__ = [
    "Agency",
    "AgencyAlias",
    "AgencyFact",
    "Agreement",
    "Alert",
    "AlertDelivery",
    "AlertText",
    "CallCount",
    "Conversation",
    "Forum",
    "ForumReminderOptIn",
    "ForumReminderSent",
    "Guide",
    "HelpOrganization",
    "FetchCheck",
    "FetchedFile",
    "HeldList",
    "ImportSnapshot",
    "InboundMessage",
    "InterfaceTranslationReview",
    "MistakeReport",
    "EarlyStatus",
    "OptOut",
    "OutboundMessage",
    "Place",
    "PolicyNote",
    "ReviewFlag",
    "Source",
    "Subscription",
    "TranslationRecord",
    "TranslatorLanguage",
    "UnmatchedRow",
    "VoiceLanguage",
    "VoiceRecording",
    "ZipCodeArea",
]
