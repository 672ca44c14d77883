"""Demo content for trying the site: five places, with real public sources.

Every text says it is demo content; every translation is marked unreviewed (an AI wrote
them). Loading is idempotent: what exists already (by place, key or ICE name) is left alone,
so running it twice changes nothing and never overwrites an organizer's edits.
"""

import datetime
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from modeltranslation.utils import build_localized_fieldname

from assistant.content.models import (
    Guide,
    HelpOrganization,
    PolicyNote,
    Source,
    TranslationRecord,
    VettedContent,
)
from assistant.content.publication import public_content_changed
from assistant.content.services import translations_track
from assistant.ice_import.models import ImportSnapshot
from assistant.places.models import Agency, Agreement, Place

ICE_287G = (
    "https://www.ice.gov/identify-and-arrest/287g",
    "Delegation of Immigration Authority Section 287(g) Immigration and Nationality Act — "
    "U.S. Immigration and Customs Enforcement",
)
ICE_LIST_DATE = datetime.date(2025, 5, 16)
USCIS_U_T = (
    "https://www.uscis.gov/humanitarian/victims-of-human-trafficking-and-other-crimes",
    "Victims of Human Trafficking and Other Crimes — U.S. Citizenship and Immigration Services",
)
LEP_GOV = ("https://www.lep.gov/", "LEP.gov — Limited English Proficiency (federal government)")
ACLU_RIGHTS = (
    "https://www.aclu.org/know-your-rights/immigrants-rights",
    "Know Your Rights: Immigrants' Rights — American Civil Liberties Union",
)

DEMO_EN = "This is demo content: check it before you rely on it. "
DEMO_ES = "Este es contenido de demostración: verifíquelo antes de confiar en él. "

COMMON_EN = {
    "interpreters": (
        "You can ask for an interpreter in your language, for free. Police that receive "
        "federal money must help people who do not speak English well. On the phone, say the "
        "name of your language in English, for example “Spanish”."
    ),
    "visa_certification": (
        "If you are the victim of certain crimes and you help the police, you may be able to "
        "get a U visa. Victims of human trafficking may get a T visa. A police agency, a "
        "prosecutor or a judge signs the certification form (Form I-918 Supplement B for a "
        "U visa). Ask a lawyer to help you."
    ),
    "your_rights": (
        "You have the right to stay silent. You do not have to say where you were born or "
        "what your immigration status is. Do not open your door to ICE unless they show a "
        "warrant signed by a judge. Do not sign papers you do not understand. Ask for a lawyer."
    ),
}
COMMON_ES = {
    "interpreters": (
        "Puede pedir un intérprete en su idioma, gratis. La policía que recibe dinero federal "
        "debe ayudar a las personas que no hablan bien inglés. Por teléfono, diga el nombre de "
        "su idioma en inglés, por ejemplo “Spanish”."
    ),
    "visa_certification": (
        "Si usted es víctima de ciertos delitos y ayuda a la policía, puede obtener una visa U. "
        "Las víctimas de trata de personas pueden obtener una visa T. Una agencia de policía, "
        "un fiscal o un juez firma el formulario de certificación (Formulario I-918 Suplemento "
        "B para la visa U). Pida ayuda a un abogado."
    ),
    "your_rights": (
        "Tiene derecho a guardar silencio. No tiene que decir dónde nació ni cuál es su estatus "
        "migratorio. No abra la puerta a ICE a menos que le muestren una orden firmada por un "
        "juez. No firme papeles que no entienda. Pida un abogado."
    ),
}
COMMON_SOURCES = [
    ("interpreters", *LEP_GOV),
    ("visa_certification", *USCIS_U_T),
    ("your_rights", *ACLU_RIGHTS),
    ("meaning_here", *ICE_287G),
]


@dataclass(frozen=True)
class DemoReport:
    created: int


def _place(state_code: str, name: str) -> Place:
    return Place.objects.get(state__abbreviation=state_code, name=name)


def _city(state_code: str, name: str, county_name: str) -> tuple[Place, bool]:
    state = Place.objects.get(kind=Place.Kind.STATE, abbreviation=state_code)
    return Place.objects.get_or_create(
        kind=Place.Kind.CITY,
        state=state,
        slug=slugify(name),
        defaults={"name": name, "county": _place(state_code, county_name)},
    )


AGREEMENTS = [
    # (state, county, ICE's agency name, kind, model, signed on)
    ("NY", "Nassau County", "Nassau County Police Department", Agency.Kind.POLICE,
     Agreement.EnforcementModel.TASK_FORCE, datetime.date(2025, 3, 10)),
    ("NY", "Nassau County", "Nassau County Sheriff's Office", Agency.Kind.SHERIFF,
     Agreement.EnforcementModel.WARRANT_SERVICE, datetime.date(2025, 2, 28)),
    ("FL", "Miami-Dade County", "Miami Dade Sheriff's Office", Agency.Kind.SHERIFF,
     Agreement.EnforcementModel.TASK_FORCE, datetime.date(2025, 2, 26)),
    ("FL", "Miami-Dade County", "Miami Dade Corrections and Rehabilitation", Agency.Kind.JAIL,
     Agreement.EnforcementModel.WARRANT_SERVICE, datetime.date(2025, 2, 26)),
]  # fmt: skip


def _guides():
    return [
        {
            "place": ("NY", "Nassau County"),
            "online_report_url": "",
            "en": {
                "meaning_here": DEMO_EN
                + (
                    "Two Nassau County agencies work with ICE under 287(g). The Nassau County "
                    "Police Department signed a Task Force Model agreement on March 10, 2025: "
                    "its officers can ask about immigration status and arrest people for ICE "
                    "during their police work. The Nassau County Sheriff's Office signed a "
                    "Warrant Service Officer agreement on February 28, 2025: its officers can "
                    "serve ICE warrants on people held in the county jail."
                ),
                "reporting": (
                    "In an emergency, call 911. For a crime that is not an emergency, contact "
                    "the Nassau County Police Department through its website."
                ),
                "immigration_status_policy": (
                    "We have not found a public statement from the Nassau County Police "
                    "Department about asking victims or witnesses for their immigration "
                    "status. Its officers can act for ICE. If you are worried, talk to a "
                    "lawyer or a local organization before you report."
                ),
            },
            "es": {
                "meaning_here": DEMO_ES
                + (
                    "Dos agencias del condado de Nassau trabajan con ICE bajo el programa "
                    "287(g). El Departamento de Policía del Condado de Nassau firmó un acuerdo "
                    "del Modelo de Fuerza de Tarea el 10 de marzo de 2025: sus agentes pueden "
                    "preguntar por el estatus migratorio y arrestar personas para ICE durante "
                    "su trabajo policial. La Oficina del Sheriff del Condado de Nassau firmó un "
                    "acuerdo de Oficial de Servicio de Órdenes el 28 de febrero de 2025: sus "
                    "agentes pueden entregar órdenes de ICE a personas detenidas en la cárcel "
                    "del condado."
                ),
                "reporting": (
                    "En una emergencia, llame al 911. Para un delito que no es una emergencia, "
                    "comuníquese con el Departamento de Policía del Condado de Nassau por su "
                    "sitio web."
                ),
                "immigration_status_policy": (
                    "No hemos encontrado una declaración pública del Departamento de Policía "
                    "del Condado de Nassau sobre si pregunta el estatus migratorio a víctimas o "
                    "testigos. Sus agentes pueden actuar para ICE. Si le preocupa, hable con un "
                    "abogado o una organización local antes de hacer la denuncia."
                ),
            },
            "sources": [
                ("reporting", "https://www.pdcn.org/", "Nassau County Police Department"),
                ("immigration_status_policy", *ICE_287G),
            ],
        },
        {
            "place": ("NY", "New York City"),
            "online_report_url": "",
            "en": {
                "meaning_here": DEMO_EN
                + (
                    "No New York City agency was in ICE's 287(g) list of May 16, 2025. City "
                    "laws limit how the NYPD and the city jails help ICE. Read the notes below "
                    "about these laws and about ICE at Rikers Island."
                ),
                "reporting": (
                    "In an emergency, call 911. For city services and questions that are not "
                    "emergencies, call 311."
                ),
                "immigration_status_policy": (
                    "New York City workers, including the police, generally do not ask about "
                    "immigration status unless it is needed for their work."
                ),
            },
            "es": {
                "meaning_here": DEMO_ES
                + (
                    "Ninguna agencia de la Ciudad de Nueva York estaba en la lista 287(g) de "
                    "ICE del 16 de mayo de 2025. Las leyes de la ciudad limitan cómo el NYPD y "
                    "las cárceles de la ciudad ayudan a ICE. Lea abajo las notas sobre estas "
                    "leyes y sobre ICE en la isla de Rikers."
                ),
                "reporting": (
                    "En una emergencia, llame al 911. Para servicios de la ciudad y preguntas "
                    "que no son emergencias, llame al 311."
                ),
                "immigration_status_policy": (
                    "Los empleados de la Ciudad de Nueva York, incluida la policía, en general "
                    "no preguntan por el estatus migratorio a menos que lo necesiten para su "
                    "trabajo."
                ),
            },
            "sources": [
                (
                    "immigration_status_policy",
                    "https://www.nyc.gov/site/immigrants/index.page",
                    "Mayor's Office of Immigrant Affairs — City of New York",
                ),
                ("reporting", "https://portal.311.nyc.gov/", "NYC311 — City of New York"),
            ],
        },
        {
            "place": ("FL", "Miami-Dade County"),
            "online_report_url": "",
            "en": {
                "meaning_here": DEMO_EN
                + (
                    "Two Miami-Dade County agencies work with ICE under 287(g). Miami-Dade "
                    "Sheriff's Office signed a Task Force Model agreement on February 26, 2025: "
                    "its deputies can ask about immigration status and arrest people for ICE "
                    "during their police work. Miami-Dade Corrections and Rehabilitation "
                    "signed a Warrant Service Officer agreement the same day. Florida law "
                    "requires county jails to work with ICE."
                ),
                "reporting": (
                    "In an emergency, call 911. For other crimes, contact the Miami-Dade "
                    "Sheriff's Office through the county's website."
                ),
                "immigration_status_policy": (
                    "Deputies here can act for ICE. If you are worried, talk to a lawyer or a "
                    "local organization before you report."
                ),
            },
            "es": {
                "meaning_here": DEMO_ES
                + (
                    "Dos agencias del condado de Miami-Dade trabajan con ICE bajo el programa "
                    "287(g). La Oficina del Sheriff de Miami-Dade firmó un acuerdo del Modelo "
                    "de Fuerza de Tarea el 26 de febrero de 2025: sus agentes pueden preguntar "
                    "por el estatus migratorio y arrestar personas para ICE durante su trabajo "
                    "policial. Miami-Dade Corrections and Rehabilitation firmó un acuerdo de "
                    "Oficial de Servicio de Órdenes el mismo día. La ley de Florida obliga a las "
                    "cárceles de los condados a trabajar con ICE."
                ),
                "reporting": (
                    "En una emergencia, llame al 911. Para otros delitos, comuníquese con la "
                    "Oficina del Sheriff de Miami-Dade por el sitio web del condado."
                ),
                "immigration_status_policy": (
                    "Los agentes aquí pueden actuar para ICE. Si le preocupa, hable con un "
                    "abogado o una organización local antes de hacer la denuncia."
                ),
            },
            "sources": [
                ("reporting", "https://www.miamidade.gov/", "Miami-Dade County"),
                ("immigration_status_policy", *ICE_287G),
            ],
        },
        {
            "place": ("NM", "Santa Fe County"),
            "online_report_url": "",
            "en": {
                "meaning_here": DEMO_EN
                + (
                    "No Santa Fe County agency was in ICE's 287(g) list of May 16, 2025. Local "
                    "police here have said publicly that they are not ICE agents."
                ),
                "reporting": (
                    "In an emergency, call 911. For other crimes, contact the Santa Fe County "
                    "Sheriff's Office or, inside the city, the Santa Fe Police Department."
                ),
                "immigration_status_policy": (
                    "Local police have said publicly that they do not enforce immigration law. "
                    "(Demo: link that statement here before publishing a real guide.)"
                ),
            },
            "es": {
                "meaning_here": DEMO_ES
                + (
                    "Ninguna agencia del condado de Santa Fe estaba en la lista 287(g) de ICE "
                    "del 16 de mayo de 2025. La policía local ha dicho en público que no son "
                    "agentes de ICE."
                ),
                "reporting": (
                    "En una emergencia, llame al 911. Para otros delitos, comuníquese con la "
                    "Oficina del Sheriff del Condado de Santa Fe o, dentro de la ciudad, con el "
                    "Departamento de Policía de Santa Fe."
                ),
                "immigration_status_policy": (
                    "La policía local ha dicho en público que no hace cumplir las leyes de "
                    "inmigración. (Demostración: enlace esa declaración aquí antes de publicar "
                    "una guía real.)"
                ),
            },
            "sources": [
                ("reporting", "https://www.santafecountynm.gov/", "Santa Fe County, New Mexico"),
                ("immigration_status_policy", "https://www.santafenm.gov/", "City of Santa Fe"),
            ],
        },
        {
            "place": ("CT", "Hartford"),
            "online_report_url": "",
            "en": {
                "meaning_here": DEMO_EN
                + (
                    "No Hartford agency was in ICE's 287(g) list of May 16, 2025. Connecticut's "
                    "Trust Act limits when police and jails may hold someone for ICE."
                ),
                "reporting": (
                    "In an emergency, call 911. For other crimes, contact the Hartford Police "
                    "Department through the city's website."
                ),
                "immigration_status_policy": (
                    "Under the Trust Act, police may not keep you in jail only because ICE "
                    "asks them to, except in the cases the law lists."
                ),
            },
            "es": {
                "meaning_here": DEMO_ES
                + (
                    "Ninguna agencia de Hartford estaba en la lista 287(g) de ICE del 16 de mayo "
                    "de 2025. La Ley Trust de Connecticut limita cuándo la policía y las "
                    "cárceles pueden retener a alguien para ICE."
                ),
                "reporting": (
                    "En una emergencia, llame al 911. Para otros delitos, comuníquese con el "
                    "Departamento de Policía de Hartford por el sitio web de la ciudad."
                ),
                "immigration_status_policy": (
                    "Según la Ley Trust, la policía no puede mantenerlo en la cárcel solo "
                    "porque ICE se lo pide, salvo en los casos que la ley enumera."
                ),
            },
            "sources": [
                ("reporting", "https://www.hartfordct.gov/", "City of Hartford, Connecticut"),
                ("immigration_status_policy", *CT_TRUST_ACT),
            ],
        },
    ]


CT_TRUST_ACT = (
    "https://www.cga.ct.gov/current/pub/chap_961.htm#sec_54-192h",
    "Connecticut General Statutes § 54-192h (Trust Act) — Connecticut General Assembly",
)
FL_908_11 = (
    "http://www.leg.state.fl.us/statutes/index.cfm?App_mode=Display_Statute"
    "&URL=0900-0999/0908/Sections/0908.11.html",
    "Florida Statutes § 908.11, Immigration enforcement assistance agreements",
)
CA_SB54 = (
    "https://leginfo.legislature.ca.gov/faces/billNavClient.xhtml?bill_id=201720180SB54",
    "SB-54 Law enforcement: sharing data (California Values Act) — California Legislative "
    "Information",
)
NYC_BOROUGHS = ["New York County", "Kings County", "Queens County", "Bronx County",
                "Richmond County"]  # fmt: skip

NOTES = [
    {
        "key": "fl-908-11",
        "places": [("FL", None)],
        "en": (
            "Florida law: jails must work with ICE",
            DEMO_EN + "Florida law requires every sheriff or agency that runs a county jail "
            "to have a 287(g) agreement with ICE (Florida Statutes, section 908.11). So in "
            "every Florida county, the jail works with ICE.",
        ),
        "es": (
            "Ley de Florida: las cárceles deben trabajar con ICE",
            DEMO_ES + "La ley de Florida obliga a cada sheriff o agencia que opera una cárcel "
            "de condado a tener un acuerdo 287(g) con ICE (Estatutos de Florida, sección "
            "908.11). Por eso, en cada condado de Florida la cárcel trabaja con ICE.",
        ),
        "sources": [FL_908_11],
    },
    {
        "key": "ct-trust-act",
        "places": [("CT", None)],
        "en": (
            "Connecticut's Trust Act",
            DEMO_EN + "Connecticut's Trust Act limits when police and jails may hold someone "
            "for ICE. In most cases they may not keep you only because ICE asks; the law lists "
            "the exceptions, such as a warrant signed by a judge.",
        ),
        "es": (
            "La Ley Trust de Connecticut",
            DEMO_ES + "La Ley Trust de Connecticut limita cuándo la policía y las cárceles "
            "pueden retener a alguien para ICE. En la mayoría de los casos no pueden retenerlo "
            "solo porque ICE lo pide; la ley enumera las excepciones, como una orden firmada "
            "por un juez.",
        ),
        "sources": [CT_TRUST_ACT],
    },
    {
        "key": "ca-sb54",
        "places": [("CA", None)],
        "en": (
            "California Values Act (SB 54)",
            DEMO_EN + "California's law SB 54 (2017) limits how local police and sheriffs "
            "help immigration agents. In general they may not ask about your immigration "
            "status or arrest you for immigration reasons.",
        ),
        "es": (
            "Ley de Valores de California (SB 54)",
            DEMO_ES + "La ley SB 54 de California (2017) limita cómo la policía local y los "
            "sheriffs ayudan a los agentes de inmigración. En general no pueden preguntar por "
            "su estatus migratorio ni arrestarlo por razones de inmigración.",
        ),
        "sources": [CA_SB54],
    },
    {
        "key": "nyc-sanctuary-laws",
        "places": [("NY", "New York City")] + [("NY", name) for name in NYC_BOROUGHS],
        "en": (
            "New York City limits help to ICE",
            DEMO_EN + "New York City laws limit when the NYPD and the city jails honor ICE's "
            "requests to hold someone. City workers generally do not ask about immigration "
            "status unless they need it for their work.",
        ),
        "es": (
            "La Ciudad de Nueva York limita la ayuda a ICE",
            DEMO_ES + "Las leyes de la Ciudad de Nueva York limitan cuándo el NYPD y las "
            "cárceles de la ciudad aceptan las solicitudes de ICE de retener a alguien. Los "
            "empleados de la ciudad en general no preguntan por el estatus migratorio a menos "
            "que lo necesiten para su trabajo.",
        ),
        "sources": [
            (
                "https://codelibrary.amlegal.com/codes/newyorkcity/latest/overview",
                "New York City Administrative Code (§§ 9-131 and 14-154) — American Legal "
                "Publishing",
            ),
            (
                "https://www.nyc.gov/site/immigrants/index.page",
                "Mayor's Office of Immigrant Affairs — City of New York",
            ),
        ],
    },
    {
        "key": "nyc-ice-rikers",
        "places": [("NY", "New York City")] + [("NY", name) for name in NYC_BOROUGHS],
        "en": (
            "ICE and Rikers Island",
            DEMO_EN + "In April 2025 the Mayor signed an executive order to let ICE work on "
            "Rikers Island again. It was challenged in court. Check the latest news before "
            "you rely on this. (Demo: link the order and the court decision before "
            "publishing a real note.)",
        ),
        "es": (
            "ICE y la isla de Rikers",
            DEMO_ES + "En abril de 2025 el alcalde firmó una orden ejecutiva para permitir que "
            "ICE vuelva a trabajar en la isla de Rikers. La orden fue impugnada en los "
            "tribunales. Consulte las noticias más recientes antes de confiar en esto. "
            "(Demostración: enlace la orden y la decisión judicial antes de publicar una nota "
            "real.)",
        ),
        "sources": [
            ("https://www.nyc.gov/site/doc/index.page", "New York City Department of Correction"),
        ],
    },
]

ORGANIZATIONS = [
    {
        "key": "ny-office-for-new-americans",
        "name": "New York State Office for New Americans hotline",
        "phone": "1-800-566-7636",
        "website": "https://dos.ny.gov/",
        "languages_spoken": "en,es",
        "places": [("NY", None)],
        "en": (DEMO_EN + "Free, confidential help by phone for immigrants, in many languages.", ""),
        "es": (
            DEMO_ES + "Ayuda gratis y confidencial por teléfono para inmigrantes, en muchos "
            "idiomas.",
            "",
        ),
        "sources": [("https://dos.ny.gov/", "New York Department of State")],
    },
    {
        "key": "nyc-actionnyc",
        "name": "ActionNYC",
        "phone": "311",
        "website": "https://www.nyc.gov/site/immigrants/index.page",
        "languages_spoken": "en,es",
        "places": [("NY", "New York City")] + [("NY", name) for name in NYC_BOROUGHS],
        "en": (
            DEMO_EN + "Free, safe immigration legal help from the City. Call 311 and say "
            "“ActionNYC”.",
            "",
        ),
        "es": (
            DEMO_ES + "Ayuda legal de inmigración gratis y segura de la Ciudad. Llame al 311 y "
            "diga “ActionNYC”.",
            "",
        ),
        "sources": [
            (
                "https://www.nyc.gov/site/immigrants/index.page",
                "Mayor's Office of Immigrant Affairs — City of New York",
            )
        ],
    },
]


def _resolve(state_code: str, name: str | None) -> Place:
    if name is None:
        return Place.objects.get(kind=Place.Kind.STATE, abbreviation=state_code)
    return Place.objects.get(state__abbreviation=state_code, name=name)


def _publish_demo(obj: VettedContent, now) -> None:
    obj.status = VettedContent.Status.PUBLISHED
    obj.is_demo = True
    obj.published_at = now
    obj.save()
    translations_track(obj=obj, previous=None)
    ct = ContentType.objects.get_for_model(type(obj))
    TranslationRecord.objects.filter(content_type=ct, object_id=obj.pk).update(
        machine_translated=True
    )


@transaction.atomic
def demo_content_load(*, today: datetime.date | None = None) -> DemoReport:
    """Create the demo places, agencies, agreements, guides, notes and organizations.

    Only what is missing is created; nothing that exists is changed.
    """
    today = today or timezone.localdate()
    now = timezone.now()
    created = 0
    for state_code, name, county in [
        ("CT", "Hartford", "Hartford County"),
        ("NY", "New York City", "New York County"),
    ]:
        created += _city(state_code, name, county)[1]

    # On top of an imported ICE list (`make run` imports the bundled one first) the demo adds
    # guides, notes and help only: its agreements are for tests and would be invented there.
    agreements = [] if ImportSnapshot.objects.exists() else AGREEMENTS
    for state_code, county, ice_name, kind, model, signed in agreements:
        county_place = _place(state_code, county)
        agency, made = Agency.objects.get_or_create(
            state=county_place.state,
            ice_name=ice_name,
            defaults={"name": ice_name, "kind": kind, "place": county_place},
        )
        created += made
        _agreement, made = Agreement.objects.get_or_create(
            agency=agency,
            enforcement_model=model,
            defaults={
                "status": Agreement.Status.ACTIVE,
                "signed_on": signed,
                "source_url": ICE_287G[0],
                "source_title": ICE_287G[1],
                "first_seen_on": ICE_LIST_DATE,
                "last_seen_on": ICE_LIST_DATE,
                "changed_on": ICE_LIST_DATE,
            },
        )
        created += made

    for spec in _guides():
        place = _resolve(*spec["place"])
        if Guide.objects.filter(place=place).exists():
            continue
        guide = Guide(
            place=place,
            online_report_url=spec["online_report_url"],
            last_verified_on=today,
            review_due_on=today + datetime.timedelta(days=90),
        )
        texts = {"en": {**COMMON_EN, **spec["en"]}, "es": {**COMMON_ES, **spec["es"]}}
        for language, fields in texts.items():
            for field_name, text in fields.items():
                setattr(guide, build_localized_fieldname(field_name, language), text)
        _publish_demo(guide, now)
        for section, url, title in [*spec["sources"], *COMMON_SOURCES]:
            Source.objects.create(
                guide=guide, section=section, url=url, title=title, accessed_on=today
            )
        created += 1

    for spec in NOTES:
        if PolicyNote.objects.filter(key=spec["key"]).exists():
            continue
        note = PolicyNote(key=spec["key"])
        for language in ("en", "es"):
            title, body = spec[language]
            setattr(note, build_localized_fieldname("title", language), title)
            setattr(note, build_localized_fieldname("body", language), body)
        _publish_demo(note, now)
        note.places.set([_resolve(*p) for p in spec["places"]])
        for url, title in spec["sources"]:
            Source.objects.create(policy_note=note, url=url, title=title, accessed_on=today)
        created += 1

    for spec in ORGANIZATIONS:
        if HelpOrganization.objects.filter(key=spec["key"]).exists():
            continue
        org = HelpOrganization(
            key=spec["key"],
            name=spec["name"],
            phone=spec["phone"],
            website=spec["website"],
            languages_spoken=spec["languages_spoken"],
        )
        for language in ("en", "es"):
            description, hours = spec[language]
            setattr(org, build_localized_fieldname("description", language), description)
            setattr(org, build_localized_fieldname("hours", language), hours)
        _publish_demo(org, now)
        org.places.set([_resolve(*p) for p in spec["places"]])
        for url, title in spec["sources"]:
            Source.objects.create(help_organization=org, url=url, title=title, accessed_on=today)
        created += 1

    if created:
        public_content_changed()
    return DemoReport(created=created)
