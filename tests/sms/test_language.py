"""The resident's language, from the first message, and keywords in every language."""

import pytest

from assistant.sms.language import LANGUAGE_CODES, detect_language, keyword, keywords_for

FIRST_MESSAGES = {
    "en": ["hello I need help", "hi, is the police working with ICE?"],
    "es": ["hola necesito ayuda", "buenas tardes, quiero información"],
    "zh-hans": ["你好", "我需要帮助"],
    "vi": ["xin chào", "tôi cần giúp đỡ"],
    "tl": ["salamat po", "kailangan ko ng tulong"],
    "ko": ["안녕하세요", "도와주세요"],
    "ar": ["مرحبا", "أحتاج مساعدة من فضلك"],
    "ht": ["bonjou", "mwen bezwen èd"],
    "pt-br": ["olá preciso de ajuda", "oi, bom dia"],
    "fr": ["bonjour j'ai besoin d'aide", "salut, merci"],
    "ru": ["здравствуйте", "мне нужна помощь"],
    "fa": ["سلام", "من کمک می‌خواهم"],
}


@pytest.mark.parametrize(
    ("language", "text"),
    [(language, text) for language, texts in FIRST_MESSAGES.items() for text in texts],
)
def test_first_message_language_is_detected_in_all_twelve_languages(language, text):
    assert detect_language(text).language == language


def test_every_language_is_tested():
    assert set(FIRST_MESSAGES) == set(LANGUAGE_CODES)


@pytest.mark.parametrize("text", ["11040", "", "   ", "👍👍", "?!", "こんにちは"])
def test_detection_is_unsure_without_words_in_our_languages(text):
    assert not detect_language(text).sure


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("HELP", "help"),
        ("ayuda", "help"),
        ("Aide!", "help"),
        ("帮助", "help"),
        ("ПОМОЩЬ", "help"),
        ("LANGUAGE", "language"),
        ("idioma", "language"),
        ("Langue", "language"),
        ("언어", "language"),
        ("STOP", "stop"),
        ("stopall", "stop"),
        ("Unsubscribe", "stop"),
        ("revoke", "stop"),
        ("optout", "stop"),
        ("ARRÊT", "stop"),
        ("parar", "stop"),
        ("停止", "stop"),
        ("DELETE", "delete"),
        ("borrar", "delete"),
        ("Supprimer", "delete"),
        ("XÓA", "delete"),
        ("start", "start"),
        ("UNSTOP", "start"),
        ("yes", "start"),
        ("hola necesito ayuda", ""),
        ("stop the police", ""),
    ],
)
def test_keywords_are_whole_messages_in_any_case_and_accents_optional(text, expected):
    assert keyword(text) == expected


@pytest.mark.parametrize("language", LANGUAGE_CODES)
def test_every_language_has_its_own_help_stop_delete_and_language_words(language):
    for name in ("help", "stop", "delete", "language"):
        words = keywords_for(name, language)
        assert words, f"no {name} keyword in {language}"
        assert all(keyword(word) == name for word in words)
