"""The resident's language: detected from the first message, and the keywords of each language.

Detection goes from the surest signal to the weakest: the script (Hangul is Korean, Han is
Chinese, Cyrillic is Russian, letters only Persian uses are Persian, Vietnamese tone marks are
Vietnamese), then a table of greetings and common words (short texts are where statistical
models fail: "bonjou" is one word), then py3langid restricted to our twelve languages. Its
model ships inside the package; nothing is downloaded.
"""

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# Our codes, in the order of the language menu.
LANGUAGE_MENU = [
    ("en", "English"),
    ("es", "Español"),
    ("zh-hans", "中文"),
    ("vi", "Tiếng Việt"),
    ("tl", "Tagalog"),
    ("ko", "한국어"),
    ("ar", "العربية"),
    ("ht", "Kreyòl ayisyen"),
    ("pt-br", "Português"),
    ("fr", "Français"),
    ("ru", "Русский"),
    ("fa", "فارسی"),
]
LANGUAGE_CODES = [code for code, _name in LANGUAGE_MENU]

# Languages whose replies cost UCS-2 whatever we do; the others must stay in GSM-7.
UCS2_LANGUAGES = {"zh-hans", "ko", "ar", "fa", "ru", "vi"}
# GSM-7 languages whose translations carry accents outside GSM-7 (see SMS_KEEP_ACCENTS).
ACCENT_LANGUAGES = ("es", "pt-br", "fr", "ht")

_LANGID_CODES = {
    "en": "en",
    "es": "es",
    "zh": "zh-hans",
    "vi": "vi",
    "tl": "tl",
    "ko": "ko",
    "ar": "ar",
    "ht": "ht",
    "pt": "pt-br",
    "fr": "fr",
    "ru": "ru",
    "fa": "fa",
}
# Below this normalized probability the identifier is guessing.
LANGID_MIN_CONFIDENCE = 0.9


def fold(text: str) -> str:
    """Return ``text`` upper-cased without accents or punctuation, spaces collapsed.

    Keywords and greetings are compared in this form, so "Ayuda", "AYUDA!" and "ayúda" match.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    plain = re.sub(r"[^\w\s]+", " ", plain.upper(), flags=re.UNICODE).replace("_", " ")
    return " ".join(plain.split())


# Keywords, per keyword and language: a message that is exactly one of these (any case,
# accents optional). The English words work whatever the resident's language. The opt-out
# words include those Twilio's Advanced Opt-Out and carriers use (ARRET, PARAR …).
_KEYWORDS = {
    "stop": {
        "en": "STOP|STOPALL|STOP ALL|UNSUBSCRIBE|CANCEL|END|QUIT|REVOKE|OPTOUT|OPT OUT",
        "es": "PARAR|PARE|DETENER|BAJA|CANCELAR",
        "pt-br": "PARAR|SAIR|CANCELAR",
        "fr": "ARRET|ARRETER|DESABONNER",
        "ht": "SISPANN|KANPE",
        "tl": "HINTO|TIGIL",
        "vi": "DỪNG|NGỪNG|HỦY",
        "ko": "중지|수신거부",
        "zh-hans": "停止|退订",
        "ar": "توقف|إيقاف|الغاء",
        "ru": "СТОП|ОТПИСАТЬСЯ",
        "fa": "لغو|توقف",
    },
    "start": {
        "en": "START|UNSTOP|YES",
        "es": "SI|INICIAR",
        "pt-br": "SIM",
        "fr": "OUI",
        "ht": "WI",
        "tl": "OO",
        "vi": "CÓ",
        "ko": "시작",
        "zh-hans": "开始",
        "ar": "ابدأ",
        "ru": "СТАРТ",
        "fa": "شروع",
    },
    "help": {
        "en": "HELP|INFO",
        "es": "AYUDA",
        "pt-br": "AJUDA",
        "fr": "AIDE",
        "ht": "ÈD|ED",
        "tl": "TULONG",
        "vi": "TRỢ GIÚP|GIÚP",
        "ko": "도움말|도움",
        "zh-hans": "帮助",
        "ar": "مساعدة",
        "ru": "ПОМОЩЬ",
        "fa": "کمک",
    },
    "delete": {
        "en": "DELETE",
        "es": "BORRAR",
        "pt-br": "APAGAR",
        "fr": "SUPPRIMER|EFFACER",
        "ht": "EFASE",
        "tl": "BURAHIN",
        "vi": "XÓA",
        "ko": "삭제",
        "zh-hans": "删除",
        "ar": "حذف",
        "ru": "УДАЛИТЬ",
        "fa": "پاک",
    },
    "language": {
        "en": "LANGUAGE|LANG",
        "es": "IDIOMA|LENGUA",
        "pt-br": "IDIOMA|LINGUA",
        "fr": "LANGUE",
        "ht": "LANG",
        "tl": "WIKA",
        "vi": "NGÔN NGỮ",
        "ko": "언어",
        "zh-hans": "语言",
        "ar": "لغة",
        "ru": "ЯЗЫК",
        "fa": "زبان",
    },
    # Alerts for the resident's place (see assistant/services/subscriptions.py).
    "subscribe": {
        "en": "SUBSCRIBE|ALERTS|ALERT",
        "es": "ALERTAS|SUSCRIBIR|SUSCRIBIRME",
        "pt-br": "ALERTAS|ASSINAR|INSCREVER",
        "fr": "ABONNER|ALERTES|ALERTE",
        "ht": "ABONE|ALÈT",
        "tl": "ALERTO|MAG-SUBSCRIBE",
        "vi": "ĐĂNG KÝ|CẢNH BÁO",
        "ko": "구독|알림",
        "zh-hans": "订阅|提醒",
        "ar": "اشتراك|تنبيهات",
        "ru": "ПОДПИСАТЬСЯ|ПОДПИСКА|ОПОВЕЩЕНИЯ",
        "fa": "اشتراک|هشدار",
    },
    "menu": {
        "en": "MENU",
        "es": "MENÚ",
        "fr": "MENU",
        "ht": "MENI",
        "vi": "MENU",
        "ko": "메뉴",
        "zh-hans": "菜单",
        "ar": "القائمة",
        "ru": "МЕНЮ",
        "fa": "منو",
    },
    # Issue 18: the next public meetings, a reminder before them, and reporting a mistake.
    "meetings": {
        "en": "MEETINGS|MEETING|FORUMS",
        "es": "REUNIONES|REUNION",
        "pt-br": "REUNIOES|REUNIAO",
        "fr": "REUNIONS|REUNION",
        "ht": "REYINYON",
        "tl": "PULONG|MGA PULONG",
        "vi": "CUỘC HỌP|HỌP",
        "ko": "회의|모임",
        "zh-hans": "会议|会面",
        "ar": "اجتماعات|اجتماع",
        "ru": "ВСТРЕЧИ|СОБРАНИЯ",
        "fa": "جلسات|جلسه",
    },
    "remind": {
        "en": "REMIND|REMINDER|REMIND ME",
        "es": "RECORDAR|RECORDATORIO",
        "pt-br": "LEMBRAR|LEMBRETE",
        "fr": "RAPPEL|RAPPELER",
        "ht": "RAPEL|FE M SONJE",
        "tl": "PAALALA|IPAALALA",
        "vi": "NHẮC|NHẮC NHỞ",
        "ko": "리마인더|미리알림",
        "zh-hans": "会议提醒|提醒我",
        "ar": "تذكير|ذكرني",
        "ru": "НАПОМНИТЬ|НАПОМИНАНИЕ",
        "fa": "یادآوری",
    },
    "report": {
        "en": "REPORT|MISTAKE|WRONG",
        "es": "REPORTAR|ERROR",
        "pt-br": "RELATAR|ERRO",
        "fr": "SIGNALER|ERREUR",
        "ht": "SIYALE|ERE",
        "tl": "IULAT|MALI",
        "vi": "BÁO LỖI|SAI",
        "ko": "오류|잘못",
        "zh-hans": "报错|纠错",
        "ar": "خطأ|إبلاغ",
        "ru": "ОШИБКА|СООБЩИТЬ",
        "fa": "اشتباه|گزارش",
    },
}
# Checked in this order: STOP first, so no other meaning can shadow it.
_KEYWORD_ORDER = (
    "stop",
    "delete",
    "help",
    "language",
    "subscribe",
    "meetings",
    "remind",
    "report",
    "menu",
    "start",
)


@lru_cache(maxsize=1)
def _keyword_table() -> dict[str, tuple[str, set[str]]]:
    table: dict[str, tuple[str, set[str]]] = {}
    for name in reversed(_KEYWORD_ORDER):
        for code, words in _KEYWORDS[name].items():
            for word in words.split("|"):
                key = fold(word)
                if key in table and table[key][0] == name:
                    table[key][1].add(code)
                else:
                    table[key] = (name, {code})
    return table


def keywords_for(name: str, language: str) -> list[str]:
    """Return the words for keyword ``name`` in ``language`` (for tests and the README)."""
    return _KEYWORDS[name].get(language, "").split("|") if _KEYWORDS[name].get(language) else []


# Words common in a first message, per language: greetings, pronouns, the small words of
# each language, and the words of this help line's subject, written as residents type them
# (no accents: the text is folded before it is compared). Short texts are where statistical
# models fail ("bonjou" is one word, "ki sa sa ye" looks Tagalog to py3langid). A word
# listed for two languages counts for neither: "que" is Spanish, Portuguese and French, so it
# says nothing. English words count for less, because residents of every language mix them
# in ("pls help po", "hi, necesito ayuda"); "ICE" and "ZIP" count for nothing.
_WORDS = {
    "en": "hello|hi|hey|help|need|please|pls|plz|thanks|thank|thank you|good|morning|evening|"
    "afternoon|night|i|im|i m|my|is|are|the|do|does|what|whats|how|who|can|with|work|working|"
    "works|here|it|if|safe|report|crime|want|scared|afraid|number|got|from|church|know|will|"
    "ask|status|rights|house|home|comes|call|without|papers|looking|for|about|sheriff|county|"
    "jail|cops|someone|told|text|this|question|have|was|victim|domestic|outside|on|picked|up|"
    "yesterday|neighbor|town|city|where|there|they|and|or|you|your|of|at|be|should|would|"
    "could|police department|lawyer|attorney|arrested|detained|people|wife|husband",
    "es": "hola|holi|buenos|buenas|buen|dias|tardes|noches|ayuda|ayudenme|ayudeme|ayudame|"
    "necesito|quiero|gracias|informacion|tengo|estoy|aqui|trabaja|trabajan|inmigracion|"
    "migracion|migra|llama|llamo|llamar|miedo|pueden|puede|puedo|esposo|esposa|detenido|"
    "detuvieron|hago|reportar|robo|mi|mis|derechos|cuales|pregunta|decir|soy|ocupo|onda|"
    "codigo|el|del|condado|victima|esto|quisiera|ciudad|con|los|las|una|hay|donde|pasa|"
    "usted|ustedes|tambien|pero|porque|cuando|senor|senora|hijo|hija|ayudar|saber si|"
    "papeles|mande|oiga|ahorita|ahora|hacer|estatus|abogado|yo|les|de",
    "pt-br": "ola|oi|bom|boa|noite|preciso|ajuda|obrigado|obrigada|quero|voce|voces|vc|vcs|"
    "estou|tenho|com|medo|nao|eu|meu|minha|pra|pro|daqui|trabalha|trabalham|ajudar|ligar|"
    "fala|falam|portugues|gente|tudo|direitos|quais|sao|preso|presa|pelo|pela|imigracao|"
    "xerife|cep|advogado|isso|isto|vitima|queria|acontece|uma|um|roubo|posso|chamar|meus|"
    "minhas|tambem|porque|quando|obg|brigado|ta|estao|sim|seu|sua|onde|fazer|em|do|de",
    "fr": "bonjour|bonsoir|salut|coucou|slt|cc|besoin|aide|merci|svp|stp|s il vous plait|je|j|"
    "ai|suis|est|ce|c|qu|vous|etes|avec|travaille|travaillent|ici|pas|papiers|papier|mes|"
    "droits|mon|ma|mari|femme|ete|arrete|par|veux|voudrais|signaler|vol|beaucoup|parlez|"
    "francais|quoi|peur|d|appeler|l|sherif|une|aidez|moi|avocat|peut|demander|nouveau|faire|"
    "vient|chez|victime|conjugale|sans|il|elle|nous|et|au|aux|du|des|les|oui|non|quel|quels|"
    "quelle|comment|pourquoi|dois|peux|sont|renseignement|renseignements|de",
    "ht": "bonjou|bonswa|mwen|m|bezwen|ed|sak pase|sak|pase|kijan|mache|eske|lapolis|isit|"
    "travay|ak|gen|papye|pe|rele|mesi|anpil|ede|souple|tanpri|ki|dwa|arete|vle|fe|yon|rapo|"
    "sekirite|pou|polis|kesyon|kreyol|enfomasyon|avoka|ye|ap|fet|nou|pale|mande|yo|vole|"
    "cherif|imigrasyon|konprann|zanmi|kisa|konnen|kote|paske|tou|li|bay|kounye a|ayisyen",
    "tl": "salamat|po|opo|kumusta|kamusta|magandang|umaga|hapon|gabi|tulong|kailangan|ako|ko|"
    "ng|pulis|paano|ano|ito|gamitin|natatakot|takot|tumawag|ang|ba|dito|nakikipagtulungan|"
    "tanong|pwede|puwede|magtanong|wala|akong|mga|karapatan|hinuli|asawa|gusto|mag|nakaw|"
    "saan|humingi|ligtas|tagalog|nandito|trabaho|lang|pilipino|naman|yung|ung|sana|hindi|"
    "oo|nga|kayo|ninyo|namin|sila|siya|kasi|paki|pakitulungan|mo",
    "vi": "xin chao|chao|cam on|giup|giup do|toi|khong|canh sat|canh|sat|lam viec|lam|viec|"
    "nguoi|cua|hoi|muon|biet|quyen|giay|giay to|tieng|viet|tieng viet|bat|bao cao|cao|pham|"
    "toi pham|an toan|luat su|thong tin|di tru|den|nha|cuop|ban|anh|chi|em|duoc|gi|nay|"
    "voi|o day|co|truong|hop tac|sao|de|alo|vay|nhe|roi|dang|cho toi",
}
# Words that are not evidence of any language: what residents of every language type.
_NO_LANGUAGE = {"ICE", "ZIP", "OK", "SMS", "911", "287G", "287", "G", "INFO", "POLICE", "POLICIA"}
ENGLISH_WEIGHT = 0.25
_ARABIC_WORDS = {
    "fa": "سلام|درود|ممنون|مرسی|خوبید|خوبی|است|دارم|میخوام|کمک|لطفا|چطور|وقت بخیر|بخیر",
    "ar": "مرحبا|اهلا|أهلا|السلام|عليكم|شكرا|أحتاج|احتاج|هل|الشرطة|ليس|لدي|أريد|اريد|عندي|"
    "ممكن|هي|انا|أنا|كيف|هذا|هذه|من فضلك|فضلك|ساعدني|مساعدة|الخير|صباح|مساء",
}


def _word_table(words_by_language: dict[str, str]) -> dict[str, str]:
    table: dict[str, set[str]] = {}
    for code, words in words_by_language.items():
        for word in words.split("|"):
            table.setdefault(fold(word), set()).add(code)
    return {word: codes.pop() for word, codes in table.items() if len(codes) == 1}


@lru_cache(maxsize=1)
def _latin_table() -> dict[str, str]:
    return _word_table(_WORDS)


@lru_cache(maxsize=1)
def _arabic_table() -> dict[str, str]:
    return _word_table(_ARABIC_WORDS)


def _squeezed(word: str) -> str:
    # "holaaa", "helllo", "pleasee": letters typed again for warmth or by mistake.
    return re.sub(r"(.)\1+", r"\1", word)


def _word_votes(text: str, table: dict[str, str]) -> dict[str, float]:
    words = [word for word in fold(text).split() if word not in _NO_LANGUAGE]
    votes: dict[str, float] = {}
    for index, word in enumerate(words):
        pair = " ".join(words[index : index + 2])
        candidates = [pair] if index + 1 < len(words) else []
        candidates.append(word)
        for candidate in candidates:
            code = table.get(candidate) or table.get(_squeezed(candidate))
            if code:
                weight = ENGLISH_WEIGHT if code == "en" else 1.0
                votes[code] = votes.get(code, 0.0) + weight
    return votes


def _winner(votes: dict[str, float]) -> str:
    """Return the language with the most votes, or "" when two are close."""
    if not votes:
        return ""
    ranked = sorted(votes.items(), key=lambda item: -item[1])
    if len(ranked) == 1 or ranked[0][1] - ranked[1][1] >= 0.5:
        return ranked[0][0]
    return ""


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(sorted(_LANGID_CODES))
    return identifier


@dataclass(frozen=True)
class Detection:
    """The language a text seems to be in, and how it was decided ("" when unsure)."""

    language: str
    method: str

    @property
    def sure(self) -> bool:
        return bool(self.language)


_PERSIAN_LETTERS = set("پچژگکی")
# Kaf, yeh, teh marbuta and alef maksura as Arabic writes them; Persian has its own kaf and yeh.
_ARABIC_LETTERS = set("كيةى")
_VIETNAMESE_LETTERS = set("ăđơưĂĐƠƯ")
_LATIN_LANGUAGES = {"en", "es", "pt-br", "fr", "ht", "tl", "vi"}


def _script_language(text: str) -> str:
    counts = {"ko": 0, "zh-hans": 0, "ru": 0, "arabic": 0, "kana": 0}
    for ch in text:
        code = ord(ch)
        if 0xAC00 <= code <= 0xD7AF or 0x1100 <= code <= 0x11FF or 0x3130 <= code <= 0x318F:
            counts["ko"] += 1
        elif 0x3040 <= code <= 0x30FF:
            counts["kana"] += 1
        elif 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF:
            counts["zh-hans"] += 1
        elif 0x0400 <= code <= 0x04FF:
            counts["ru"] += 1
        elif 0x0600 <= code <= 0x06FF or 0xFB50 <= code <= 0xFEFF:
            counts["arabic"] += 1
    if counts["kana"]:
        return ""  # Japanese is not one of our languages: say we are unsure.
    best = max(counts, key=counts.get)
    if not counts[best]:
        return ""
    if best == "arabic":
        return "arabic"
    return best


def detect_language(text: str) -> Detection:
    """Return the language of a resident's message, or an unsure Detection."""
    text = unicodedata.normalize("NFC", text or "")[:500]
    script = _script_language(text)
    if script and script != "arabic":
        return Detection(script, "script")
    if script == "arabic":
        return _arabic_script_language(text)
    # Only Vietnamese has these letters; "â", "ê" and "ô" are French and Portuguese too.
    if any(ch in _VIETNAMESE_LETTERS for ch in text) or any(
        0x1EA0 <= ord(ch) <= 0x1EF9 for ch in text
    ):
        return Detection("vi", "script")
    if not any(ch.isalpha() for ch in text):
        return Detection("", "no words")
    votes = _word_votes(text, _latin_table())
    if votes:
        winner = _winner(votes)
        return Detection(winner, "words" if winner else "unsure")
    return _statistical(text, allowed=_LATIN_LANGUAGES, minimum=LANGID_MIN_CONFIDENCE)


def _arabic_script_language(text: str) -> Detection:
    """Tell Persian from Arabic: letters only one of them uses, then their common words."""
    if any(ch in _PERSIAN_LETTERS for ch in text):
        return Detection("fa", "script")
    if any(ch in _ARABIC_LETTERS for ch in text):
        return Detection("ar", "script")
    winner = _winner(_word_votes(text, _arabic_table()))
    if winner:
        return Detection(winner, "words")
    return _statistical(text, allowed={"ar", "fa"}, minimum=LANGID_MIN_CONFIDENCE)


def _statistical(text: str, *, allowed: set[str], minimum: float) -> Detection:
    """Return py3langid's best guess among ``allowed`` when it is at least ``minimum`` sure.

    The probabilities are renormalized over ``allowed``: a language we do not speak cannot
    win, and cannot hide that two of ours are close either.
    """
    ranking = [(_LANGID_CODES[code], p) for code, p in _identifier().rank(text)]
    ranking = [(code, p) for code, p in ranking if code in allowed]
    total = sum(p for _code, p in ranking) or 1.0
    code, probability = ranking[0]
    if probability / total >= minimum:
        return Detection(code, "statistical")
    return Detection("", "unsure")


# Opt-out words that also end or start a sentence ("STOP please", "stop texting me", "por
# favor pare"). Only words that mean nothing else at either end of a text: "cancel", "end",
# "parar" or "arreter" can end an ordinary question ("la police peut m'arreter ?").
_OPT_OUT_EDGE_WORDS = {
    "en": "STOP|STOPALL|UNSUBSCRIBE|OPTOUT",
    "es": "PARE",
    "pt-br": "PARE",
    "ht": "SISPANN",
    "tl": "HINTO|TIGIL",
    # Not DỪNG: without its accents it is "dung", "use" or "right".
    "vi": "NGỪNG",
    "ru": "СТОП|ОТПИСАТЬСЯ",
}
# Scripts without spaces between words: the word is a prefix or suffix of the text.
_OPT_OUT_EDGE_UNSPACED = {"zh-hans": "停止|退订", "ko": "중지|수신거부"}


@lru_cache(maxsize=1)
def _opt_out_edges() -> tuple[dict[str, str], dict[str, str]]:
    spaced: dict[str, str] = {}
    for code, words in _OPT_OUT_EDGE_WORDS.items():
        for word in words.split("|"):
            # A word two languages share ("pare") says nothing about which one it is.
            spaced[fold(word)] = "" if fold(word) in spaced else code
    unspaced = {
        word: code for code, words in _OPT_OUT_EDGE_UNSPACED.items() for word in words.split("|")
    }
    return spaced, unspaced


def opt_out_language(text: str) -> str | None:
    """Return the language of the STOP word ``text`` starts or ends with ("" for STOP, which
    every language uses), or None when it is no opt-out.

    A whole-message keyword (``keyword()``) also opts out; this adds the sentences carriers
    treat as one: "STOP please", "stop texting me", "por favor pare".
    """
    folded = fold(text or "")
    words = folded.split()
    if not words:
        return None
    spaced, unspaced = _opt_out_edges()
    for word in {words[0], words[-1], "".join(words[:2]), "".join(words[-2:])}:
        if word in spaced:
            return "" if word == "STOP" else spaced[word]
    for word, code in unspaced.items():
        if folded.startswith(word) or folded.endswith(word):
            return code
    return None


def language_named(text: str) -> str:
    """Return the code of the language ``text`` names, in its own name or in English
    ("español", "espanol", "tieng viet", "Spanish"), else ""."""
    return _language_names().get(fold(text or ""), "")


@lru_cache(maxsize=1)
def _language_names() -> dict[str, str]:
    names = {fold(name): code for code, name in LANGUAGE_MENU}
    extra = {
        "en": "ENGLISH|INGLES|ANGLE",
        "es": "SPANISH|ESPANOL|CASTELLANO",
        "zh-hans": "CHINESE|中文|汉语|普通话|国语|MANDARIN",
        "vi": "VIETNAMESE|TIENG VIET",
        "tl": "TAGALOG|FILIPINO",
        "ko": "KOREAN|한국어|한국말",
        "ar": "ARABIC|العربية|عربي",
        "ht": "HAITIAN|CREOLE|KREYOL|KREYOL AYISYEN|HAITIAN CREOLE",
        "pt-br": "PORTUGUESE|PORTUGUES",
        "fr": "FRENCH|FRANCAIS",
        "ru": "RUSSIAN|РУССКИЙ|ПО РУССКИ",
        "fa": "PERSIAN|FARSI|فارسی",
    }
    for code, words in extra.items():
        for word in words.split("|"):
            names[fold(word)] = code
    return names


def keyword(text: str) -> str:
    """Return "stop", "start", "help", "delete", "language", "subscribe" or "menu", else ""."""
    return keyword_and_language(text)[0]


def keyword_and_language(text: str) -> tuple[str, str]:
    """Return the keyword ``text`` is and its language ("" when several languages share it)."""
    found = _keyword_table().get(fold(text or ""))
    if not found:
        return "", ""
    name, languages = found
    return name, next(iter(languages)) if len(languages) == 1 else ""
