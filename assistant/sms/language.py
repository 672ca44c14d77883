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
LANGID_MIN_CONFIDENCE = 0.6


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
}
# Checked in this order: STOP first, so no other meaning can shadow it.
_KEYWORD_ORDER = ("stop", "delete", "help", "language", "subscribe", "menu", "start")


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


# Greetings and words common in a first message, per language, where the statistical model
# is weak (one or two words). A word listed for two languages counts for neither.
_GREETINGS = {
    "en": "hello|hi|hey|help|need|please|thanks|thank you|police|good morning|i",
    "es": "hola|buenos|buenas|dias|tardes|ayuda|necesito|quiero|gracias|por favor|policia|"
    "informacion|ayudame|que|tengo|estoy",
    "pt-br": "ola|oi|bom|boa|dia|tarde|preciso|ajuda|obrigado|obrigada|quero|policia|voce|"
    "estou|tenho",
    "fr": "bonjour|bonsoir|salut|besoin|aide|merci|svp|je|j|ai|suis|s il vous plait|police",
    "ht": "bonjou|bonswa|mwen|bezwen|ed|mesi|kijan|sak pase|souple|polis|ou|nou|konnen",
    "tl": "salamat|po|kumusta|kamusta|magandang|umaga|hapon|tulong|kailangan|ako|ko|ng|"
    "pulis|paano|opo",
    "vi": "xin chao|chao|cam on|giup|toi|can",
}


@lru_cache(maxsize=1)
def _greeting_table() -> dict[str, set[str]]:
    table: dict[str, set[str]] = {}
    for code, words in _GREETINGS.items():
        for word in words.split("|"):
            table.setdefault(fold(word), set()).add(code)
    return {word: codes for word, codes in table.items() if len(codes) == 1}


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
_VIETNAMESE_LETTERS = set("ăâđêôơưĂÂĐÊÔƠƯ")


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
        if any(ch in _PERSIAN_LETTERS for ch in text) or fold(text) in {"سلام", "درود"}:
            return Detection("fa", "script")
        if "ة" in text or "ى" in text or fold(text) in {"مرحبا", "السلام عليكم", "اهلا"}:
            return Detection("ar", "script")
        return _statistical(text, allowed={"ar", "fa"})
    if any(ch in _VIETNAMESE_LETTERS for ch in text) or any(
        0x1EA0 <= ord(ch) <= 0x1EF9 for ch in text
    ):
        return Detection("vi", "script")
    words = fold(text).split()
    if not any(ch.isalpha() for ch in text):
        return Detection("", "no words")
    votes: dict[str, int] = {}
    table = _greeting_table()
    for index, word in enumerate(words):
        pair = " ".join(words[index : index + 2])
        for candidate in (pair, word):
            for code in table.get(candidate, ()):
                votes[code] = votes.get(code, 0) + 1
    if votes:
        ranked = sorted(votes.items(), key=lambda item: -item[1])
        if len(ranked) == 1 or ranked[0][1] > ranked[1][1]:
            return Detection(ranked[0][0], "words")
    return _statistical(text)


def _statistical(text: str, allowed: set[str] | None = None) -> Detection:
    ranking = _identifier().rank(text)
    for code, probability in ranking:
        ours = _LANGID_CODES.get(code)
        if allowed and ours not in allowed:
            continue
        if probability >= LANGID_MIN_CONFIDENCE or allowed:
            return Detection(ours, "statistical")
        break
    return Detection("", "unsure")


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
