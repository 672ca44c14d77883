"""Queries as residents type them, with where each must land on the site and by SMS.

A landing is written as:
- ``state:TX``; ``county:36059``; ``city:Houston,TX@48201`` (a city and its county);
- ``choice:N`` (a complete choice of N targets), ``choice:36005,36047`` (exactly those);
- ``suggest:36059`` (a "did you mean" that includes that county or ``Name,ST`` city);
- ``none``.
``SAME`` means the SMS landing is the web one.
"""

SAME = "SAME"
NYC = "city:New York City,NY@36061"  # its police serve all five boroughs

QUERIES = [
    # counties, as typed
    ("nassau county ny", "county:36059", SAME),
    ("Nassau County, NY", "county:36059", SAME),
    ("condado de Nassau", "choice:12089,36059", SAME),
    ("condado de Nassau, Nueva York", "county:36059", SAME),
    ("Nasau County", "suggest:36059", SAME),
    ("Orange County CA", "county:06059", SAME),
    ("Washington County", "choice:31", SAME),
    ("Washington County, Oregon", "county:41067", SAME),
    ("Houston County", "choice:5", SAME),
    ("Duval County FL", "county:12031", SAME),
    ("Pickens County, SC", "county:45077", SAME),
    ("Wade Hampton Census Area", "county:02158", SAME),
    # ZIP codes, alone and in sentences
    ("11501", "county:36059", SAME),
    ("my zip is 11501", "county:36059", SAME),
    ("vivo en el 11501", "county:36059", SAME),
    ("115011234", "county:36059", SAME),
    ("11501-1234", "county:36059", SAME),
    ("11001", "choice:36059,36081", SAME),
    ("١١٥٠١", "none", SAME),
    ("１１５０１", "none", SAME),
    # cities, with and without the state
    ("Houston, TX", "city:Houston,TX@48201", SAME),
    ("Houston", "city:Houston,TX@48201", SAME),
    ("I live in Houston Texas", "city:Houston,TX@48201", SAME),
    ("Miami", "city:Miami,FL@12086", SAME),
    ("Miami FL", "city:Miami,FL@12086", SAME),
    ("Las Vegas", "city:Las Vegas,NV@32003", SAME),
    ("Phoenix", "city:Phoenix,AZ@04013", SAME),
    ("Jacksonville", "city:Jacksonville,FL@12031", SAME),
    ("Boca Raton", "city:Boca Raton,FL@12099", SAME),
    ("boca ratón", "city:Boca Raton,FL@12099", SAME),
    ("Hopewell, VA", "county:51670", SAME),
    ("Los Angeles", "city:Los Angeles,CA@06037", SAME),
    ("Filadelfia", "city:Philadelphia,PA@42101", SAME),
    ("Pheonix", "suggest:Phoenix,AZ", SAME),
    # New York City and its boroughs
    ("NYC", NYC, SAME),
    ("New York City", NYC, SAME),
    ("Nueva York", NYC, SAME),
    ("Brooklyn", "county:36047", SAME),
    ("Manhattan", "county:36061", SAME),
    ("Staten Island", "county:36085", SAME),
    ("The Bronx", "county:36005", SAME),
    # states, in the resident's language
    ("Florida", "state:FL", SAME),
    ("Texas", "state:TX", SAME),
    ("Flórida", "state:FL", SAME),
    ("Carolina del Norte", "state:NC", SAME),
    ("Luisiana", "state:LA", SAME),
    ("Pensilvania", "state:PA", SAME),
    ("德克萨斯州", "state:TX", SAME),
    # two-letter words: a state on the site, never by SMS
    ("TX", "state:TX", "none"),
    ("hi", "state:HI", "none"),
    ("ok", "state:OK", "none"),
    ("me", "state:ME", "none"),
    ("in", "state:IN", "none"),
    ("or", "state:OR", "none"),
    ("pa", "state:PA", "none"),
]
