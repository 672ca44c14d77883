from assistant.models.agencies import Agency, Agreement
from assistant.models.places import Place, ZipCodeArea

__all__ = ["Agency", "Agreement", "Place", "ZipCodeArea"]
