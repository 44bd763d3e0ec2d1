"""Personal data in visitors' messages -> neutral placeholders (pure Python, no Rasa import).

    redact("ring mig på 070-123 45 67") -> Redaction(text="ring mig på [telefonnummer borttaget]",
                                                   kinds=["phone"], counts={"phone": 1})

Used by every input channel before a UserMessage is built (bot/glue/patches/privacy.py), so nothing
unredacted reaches Rasa's processor, the tracker store or the logs, and by `python -m bot purge`
(--dry-run counts, --redact rewrites stored events). Kinds, detected in this order on non-overlapping spans:

- email: local@domain.tld (Unicode letters allowed).
- phone: Swedish numbers in national form starting with 0 (area code 0 + 1-3 digits, then an optional
  dash or space, then a 5-8 digit subscriber number with optional spaces; 8-10 digits in all: "070-123 45 67",
  "08-123 456 78", "0480-123 45", "0701234567") or international form +46 / 0046 (optional "(0)", 7-9
  digits after 46). A run of digits that goes on after the match (a list of codes), letters right after
  the digits (a hexadecimal id), or a dash and more of a word (a UUID's first group), is not a phone number.
- personnummer (and samordningsnummer: day + 60): YYMMDD or YYYYMMDD, optional -, + or a space, and four
  digits, accepted only when the date exists and the Luhn check digit is right (the `personnummer`
  package), so years, amounts ("180 000"), postcodes ("123 45"), kommun codes ("0180") and
  organisation numbers (month + 20) are left alone; neither is a decimal number ("1711610210.701698"). An unseparated 10-digit mobile-looking number
  ("07x...") counts as a phone number.
- address: a street name ending in -gatan/-vägen/-gränd/... followed by a house number ("Storgatan 12B").

Known public contact details of the centres (registry general_contact e-mail and phone) are kept.
Placeholders contain no digits and no "@", so redact() is idempotent.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Set, Tuple

from personnummer import personnummer as _pnr

from bot.lang import detect_language

KINDS = ("email", "phone", "personnummer", "address")

PLACEHOLDERS: Dict[str, Dict[str, str]] = {
    "personnummer": {"sv": "[personnummer borttaget]", "en": "[personal identity number removed]"},
    "phone": {"sv": "[telefonnummer borttaget]", "en": "[phone number removed]"},
    "email": {"sv": "[e-post borttagen]", "en": "[e-mail removed]"},
    "address": {"sv": "[adress borttagen]", "en": "[address removed]"},
}
# Names of the kinds inside the notice sentence.
KIND_WORDS: Dict[str, Dict[str, str]] = {
    "personnummer": {"sv": "ett personnummer", "en": "a personal identity number"},
    "phone": {"sv": "ett telefonnummer", "en": "a phone number"},
    "email": {"sv": "en e-postadress", "en": "an e-mail address"},
    "address": {"sv": "en adress", "en": "an address"},
}

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}(?![\w-])")
_SEP = r"(?:\s*[-\u2013]\s*|\s)?"
_SUBSCRIBER = r"\d(?:\s?\d){4,7}"
_PHONE = re.compile(
    r"(?<![\w+\-])(?:"
    r"(?P<intl>(?:\+|00)46\s?(?:\(0\)\s?)?[1-9]\d{0,2}" + _SEP + _SUBSCRIBER + r")"
    r"|(?P<nat>0[1-9]\d{0,2}" + _SEP + _SUBSCRIBER + r")"
    r")(?![\s\-]?\d)(?![^\W\d_])(?!-\w)"
)
_PNR = re.compile(r"(?<![\w+\-])(?P<date>\d{8}|\d{6})(?P<sep>[-+]|\s)?(?P<last>\d{4})(?![\w\-])(?![.,]\d)")
_STREET_SUFFIX = r"(?:gatan|gata|vägen|väg|gränd|gränden|allén|allé|stigen|torget|backen|backe|leden|platsen|stråket)"
_ADDRESS = re.compile(r"(?<!\w)[A-ZÅÄÖa-zåäöéü][a-zåäöéü]+" + _STREET_SUFFIX +
                      r"\s+\d{1,4}(?:\s?[A-Za-z](?![\wåäö]))?(?![\d,.]?\d)")
_MOBILE = re.compile(r"07[02369]\d{7}")


@dataclass
class Redaction:
    text: str
    kinds: List[str] = field(default_factory=list)        # kinds found, in order of first appearance
    counts: Dict[str, int] = field(default_factory=dict)  # kind -> number of replacements

    @property
    def changed(self) -> bool:
        return bool(self.kinds)


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def valid_personnummer(candidate: str) -> bool:
    """Date exists and Luhn digit is right (samordningsnummer too). Spaces count as '-'."""
    value = re.sub(r"\s", "-", candidate.strip())
    try:
        return bool(_pnr.valid(value))
    except Exception:  # noqa: BLE001 - the package raises on odd input
        return False


def _phone_ok(match: "re.Match[str]") -> bool:
    digits = _digits(match.group(0))
    if match.group("intl"):
        national = digits[4:] if digits.startswith("0046") else digits[2:]
        if national.startswith("0"):  # "(0)"
            national = national[1:]
        return 7 <= len(national) <= 9
    return 8 <= len(digits) <= 10


_public_cache: Optional[Tuple[Set[str], Set[str]]] = None


def public_contacts() -> Tuple[Set[str], Set[str]]:
    """(e-mail addresses casefolded, phone numbers as national digits) published for the centres."""
    global _public_cache
    if _public_cache is None:
        emails: Set[str] = set()
        phones: Set[str] = set()
        try:
            from bot.registry import get_registry

            for centre in get_registry().centres:
                contact = getattr(centre, "general_contact", None)
                if contact is None:
                    continue
                if getattr(contact, "email", None):
                    emails.add(str(contact.email).strip().casefold())
                if getattr(contact, "phone", None):
                    phones.add(_national(str(contact.phone)))
        except Exception:  # noqa: BLE001 - no registry: nothing is exempt
            pass
        _public_cache = (emails, phones)
    return _public_cache


def _national(phone: str) -> str:
    digits = _digits(phone)
    if phone.strip().startswith("+46") or digits.startswith("0046"):
        digits = digits[4:] if digits.startswith("0046") else digits[2:]
        digits = "0" + digits.lstrip("0")
    return digits


def find(text: str, keep_public: bool = True) -> List[Tuple[int, int, str]]:
    """Non-overlapping (start, end, kind) spans of personal data, left to right."""
    if not text:
        return []
    emails, phones = public_contacts() if keep_public else (set(), set())
    spans: List[Tuple[int, int, str]] = []

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e, _ in spans)

    for m in _EMAIL.finditer(text):
        if m.group(0).casefold() not in emails:
            spans.append((m.start(), m.end(), "email"))
    for m in _PNR.finditer(text):
        if not free(m.start(), m.end()) or not valid_personnummer(m.group(0)):
            continue
        if not m.group("sep") and _MOBILE.fullmatch(m.group(0)):
            continue  # an unseparated 07x number: left to the phone rule
        spans.append((m.start(), m.end(), "personnummer"))
    for m in _PHONE.finditer(text):
        if free(m.start(), m.end()) and _phone_ok(m) and _national(m.group(0)) not in phones:
            spans.append((m.start(), m.end(), "phone"))
    for m in _ADDRESS.finditer(text):
        if free(m.start(), m.end()):
            spans.append((m.start(), m.end(), "address"))
    return sorted(spans)


def redact(text: Optional[str], lang: Optional[str] = None, keep_public: bool = True) -> Redaction:
    """Replace personal data with placeholders in the message's language (lang or detected; default sv)."""
    if not text:
        return Redaction(text or "")
    spans = find(text, keep_public)
    if not spans:
        return Redaction(text)
    lang = lang if lang in ("sv", "en") else (detect_language(text) or "sv")
    out: List[str] = []
    last = 0
    kinds: List[str] = []
    counts: Dict[str, int] = {}
    for start, end, kind in spans:
        out.append(text[last:start])
        out.append(PLACEHOLDERS[kind][lang])
        last = end
        if kind not in kinds:
            kinds.append(kind)
        counts[kind] = counts.get(kind, 0) + 1
    out.append(text[last:])
    return Redaction("".join(out), kinds, counts)


def notice(kinds: Iterable[str], lang: Optional[str]) -> str:
    """What the bot tells the visitor (once per conversation) after removing personal data."""
    lang = "en" if lang == "en" else "sv"
    words = [KIND_WORDS[k][lang] for k in KIND_WORDS if k in set(kinds)]
    if not words:
        words = ["personal data"] if lang == "en" else ["personuppgifter"]
    joiner = " and " if lang == "en" else " och "
    listed = words[0] if len(words) == 1 else ", ".join(words[:-1]) + joiner + words[-1]
    if lang == "en":
        return (f"I removed {listed} from your message: please don't write personal data here. "
                "To reach a person, use the centre's contact details.")
    return (f"Jag tog bort {listed} ur ditt meddelande: skriv gärna inga personuppgifter här. "
            "Vill du nå en person, använd centrets kontaktuppgifter.")
