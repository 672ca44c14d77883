from assistant.models.agencies import Agency, Agreement
from assistant.models.messaging import OutboundMessage
from assistant.models.places import Place, ZipCodeArea
from assistant.models.residents import OptOut
from assistant.models.review import ReviewFlag

__all__ = ["Agency", "Agreement", "OptOut", "OutboundMessage", "Place", "ReviewFlag", "ZipCodeArea"]
