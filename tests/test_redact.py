"""bot/redact.py: personal data detectors (property-based) and measured false positives on the
conversation cases and the NLU sets. No servers."""
from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.redact import PLACEHOLDERS, find, notice, redact, valid_personnummer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "conversations"))
import harness  # noqa: E402


def luhn_digit(nine: str) -> int:
    total = 0
    for i, ch in enumerate(nine):
        v = int(ch) * (2 - i % 2)
        total += v - 9 if v > 9 else v
    return (10 - total % 10) % 10


@st.composite
def personnummer(draw, valid: bool = True):
    day = draw(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2025, 12, 31)))
    coordination = draw(st.booleans())
    serial = draw(st.integers(min_value=1, max_value=999))
    dd = day.day + (60 if coordination else 0)
    nine = f"{day.year % 100:02d}{day.month:02d}{dd:02d}{serial:03d}"
    check = luhn_digit(nine)
    if not valid:
        check = (check + draw(st.integers(min_value=1, max_value=9))) % 10
    form = draw(st.sampled_from(["short-", "short", "long-", "long", "short+"]))
    last = f"{serial:03d}{check}"
    short = nine[:6]
    if form == "short-":
        return f"{short}-{last}"
    if form == "short+":
        return f"{short}+{last}"
    if form == "short":
        return f"{short}{last}"
    if form == "long-":
        return f"{day.year}{short[2:]}-{last}"
    return f"{day.year}{short[2:]}{last}"


SENTENCES = ["mitt personnummer är {} och jag söker stöd för kortfilm",
             "{}", "Hej! Jag ({}) vill söka produktionsstöd i Dalarna.",
             "my personal number is {}, can I apply?"]


@settings(max_examples=300, deadline=None)
@given(personnummer(), st.sampled_from(SENTENCES))
def test_valid_personnummer_is_always_removed(number, sentence):
    text = sentence.format(number)
    result = redact(text)
    assert number not in result.text
    assert re.sub(r"\D", "", number)[-4:] not in re.sub(r"\[[^\]]*\]", "", result.text)
    # an unseparated 10-digit number that looks like a mobile number is removed as a phone number
    assert result.kinds in (["personnummer"], ["phone"])
    if not re.fullmatch(r"07[02369]\d{7}", number):
        assert result.kinds == ["personnummer"]


@settings(max_examples=300, deadline=None)
@given(personnummer(valid=False))
def test_wrong_check_digit_is_left_alone(number):
    if re.fullmatch(r"0\d{9}", number):
        return  # an unseparated 10-digit number starting with 0 is a phone number: not this property
    text = f"ärendenummer {number} gäller ansökan"
    assert not valid_personnummer(number)
    assert redact(text).text == text


@given(st.integers(min_value=1900, max_value=2099))
def test_years_untouched(year):
    for text in (f"år {year}", f"sedan {year} och {year + 1}", f"{year}-05-01", f"{year}-{year + 1}"):
        assert redact(text).text == text


@given(st.integers(min_value=1, max_value=999), st.sampled_from(["000", "500", "250"]))
def test_amounts_untouched(thousands, rest):
    for text in (f"{thousands} {rest} kronor", f"{thousands} {rest} kr", f"upp till {thousands}{rest} kr",
                 f"{thousands} {rest} 000 kronor", f"{thousands},5 miljoner"):
        assert redact(text).text == text


@given(st.integers(min_value=100, max_value=984), st.integers(min_value=0, max_value=99))
def test_postcodes_untouched(head, tail):
    for text in (f"{head} {tail:02d} Umeå", f"postnummer {head}{tail:02d}", f"{head} {tail:02d}"):
        assert redact(text).text == text


@given(st.lists(st.integers(min_value=114, max_value=2584), min_size=1, max_size=4))
def test_kommun_codes_untouched(codes):
    text = "kommunkod " + ", ".join(f"{c:04d}" for c in codes)
    assert redact(text).text == text
    single = f"kommun {codes[0]:04d} i länet"
    assert redact(single).text == single


@given(st.uuids(), st.integers(min_value=1_600_000_000, max_value=1_999_999_999),
       st.integers(min_value=0, max_value=999_999))
def test_ids_and_timestamps_untouched(uid, seconds, micros):
    # Message ids (hex) and Slack thread timestamps are digits, not personal data.
    for text in (uid.hex, str(uid), f"{seconds}.{micros:06d}", f"thread {seconds}.{micros:06d}"):
        assert redact(text).text == text, text
    assert redact("0701234567c1454c63a479143f19ffeb").text == "0701234567c1454c63a479143f19ffeb"
    # a UUID whose first group looks like a number (found by this test: 05319001-a587-...)
    assert redact("05319001-a587-67d6-0958-7ece4d68a2c0").text == "05319001-a587-67d6-0958-7ece4d68a2c0"


@st.composite
def phone(draw):
    kind = draw(st.sampled_from(["mobile", "mobile_plain", "intl", "intl0", "stockholm", "landline"]))
    d = lambda n: "".join(str(draw(st.integers(0, 9))) for _ in range(n))  # noqa: E731
    op = draw(st.sampled_from("02369"))
    if kind == "mobile":
        return f"07{op}-{d(3)} {d(2)} {d(2)}"
    if kind == "mobile_plain":
        return f"07{op}{d(7)}"
    if kind == "intl":
        return f"+46 7{op} {d(3)} {d(2)} {d(2)}"
    if kind == "intl0":
        return f"+46(0)7{op}-{d(3)}{d(4)}"
    if kind == "stockholm":
        return f"08-{d(3)} {d(3)} {d(2)}"
    return f"0{draw(st.integers(11, 99))}{draw(st.integers(0, 9))}-{d(2)} {d(2)} {d(2)}"


@settings(max_examples=300, deadline=None)
@given(phone(), st.sampled_from(["ring mig på {}", "{}", "nummer: {} tack", "call me on {} please"]))
def test_phone_numbers_removed(number, sentence):
    result = redact(sentence.format(number))
    assert result.kinds == ["phone"], (number, result)
    assert not re.search(r"\d", result.text.replace(sentence.format("").strip(), ""))


@given(st.from_regex(r"[a-z][a-z0-9.]{0,15}[a-z0-9]@[a-z]{2,10}\.(se|com|nu|org)", fullmatch=True))
def test_email_removed(address):
    assert redact(f"mejla mig på {address}!").text == f"mejla mig på {PLACEHOLDERS['email']['sv']}!"


@given(st.text(max_size=200))
def test_idempotent_and_total(text):
    once = redact(text).text
    assert redact(once).text == once


def test_examples_and_language():
    assert redact("ring mig på 070-123 45 67").text == "ring mig på [telefonnummer borttaget]"
    assert redact("please call me on 070-123 45 67").text == "please call me on [phone number removed]"
    r = redact("Jag heter Anna, 811218-9876, anna.s@gmail.com, bor på Storgatan 12B, tel 08-123 456 78")
    assert r.kinds == ["personnummer", "email", "address", "phone"]
    assert "9876" not in r.text and "@" not in r.text and "12B" not in r.text
    untouched = ["Vi söker 180 000 kronor för en kortfilm 2025", "org.nr 802000-1234", "postnummer 123 45",
                 "kommun 0180 och 1480", "filmen är 90 minuter, budget 1 500 000 kr", "Storgatan"]
    for text in untouched:
        assert redact(text).text == text, text
    assert "kontaktuppgifter" in notice(["phone"], "sv") and "telefonnummer" in notice(["phone"], "sv")
    assert "contact details" in notice(["email", "phone"], "en")


def test_public_centre_contacts_kept():
    from bot.redact import public_contacts

    emails, _ = public_contacts()
    for address in emails:
        text = f"jag har mejlat {address}"
        assert redact(text).text == text


# --------------------------------------------------------------------------- false positives measured

def _conversation_turns():
    cases, _ = harness.load(harness.case_files())
    return [t for c in cases if isinstance(c, dict) for t in (c.get("turns") or []) if isinstance(t, str)]


def _nlu_examples(path: Path):
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out = []
    for item in data.get("nlu", []):
        for line in (item.get("examples") or "").splitlines():
            line = line.strip()
            if line.startswith("- "):
                out.append(re.sub(r"\[([^\]]+)\](?:\{[^}]*\}|\([^)]*\))", r"\1", line[2:]))
    return out


# Turns that carry personal data on purpose (none today); the test counts every other change.
PERSONAL_ON_PURPOSE: set = set()


def test_conversation_cases_unchanged():
    turns = _conversation_turns()
    assert len(turns) > 500
    changed = [t for t in turns if t not in PERSONAL_ON_PURPOSE and find(t)]
    assert changed == [], f"{len(changed)} of {len(turns)} turns changed: {changed[:10]}"


@pytest.mark.parametrize("path", sorted((ROOT / "tests" / "nlu").glob("*.yml")) + [ROOT / "data" / "nlu.yml"],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_nlu_sets_unchanged(path):
    examples = _nlu_examples(path)
    assert examples
    changed = [t for t in examples if find(t)]
    assert changed == [], f"{len(changed)} of {len(examples)} examples changed: {changed[:10]}"
