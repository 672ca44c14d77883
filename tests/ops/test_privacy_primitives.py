import pytest

from assistant.content.publication import public_content_changed, public_content_version
from assistant.content.review import review_flag_raise
from assistant.privacy import decrypt, encrypt, normalize_phone, phone_hash
from tests.factories import place


def test_the_same_number_written_differently_hashes_the_same():
    assert normalize_phone("+1 (516) 555-0100") == "+15165550100"
    assert phone_hash("+1 (516) 555-0100") == phone_hash("+15165550100")
    assert "5165550100" not in phone_hash("+15165550100")


@pytest.mark.parametrize(
    "number", ["+1٥١٦٥٥٥٠١٠٠", "+1５１６５５５０１００", "+1516555010०", "+1²"]
)
def test_a_number_in_other_digits_than_ascii_is_no_number(number):
    # Never "+1": dropping the odd digits would make another resident's number of it.
    assert normalize_phone(number) == ""
    assert normalize_phone("whatsapp:" + number) == ""


def test_the_hash_depends_on_the_key():
    assert phone_hash("+15165550100", key="k" * 16) != phone_hash("+15165550100", key="j" * 16)


def test_encryption_round_trips_and_hides_the_number():
    token = encrypt("+15165550100")
    assert "5165550100" not in token
    assert decrypt(token) == "+15165550100"
    with pytest.raises(ValueError):
        decrypt("not a token")


@pytest.mark.django_db
def test_a_second_flag_for_the_same_reason_joins_the_open_one():
    nassau = place("NY", "Nassau County")
    first = review_flag_raise(place=nassau, reason="answer_changed", detail="A")
    second = review_flag_raise(place=nassau, reason="answer_changed", detail="B")
    assert first.pk == second.pk
    second.refresh_from_db()
    assert second.detail == "A\nB"


@pytest.mark.django_db(transaction=True)
def test_content_changes_bump_the_public_version():
    before = public_content_version()
    public_content_changed()  # outside a transaction: runs at once
    assert public_content_version() == before + 1
