"""Per-message language detection (Swedish or English) from function words and letters.

Returns None when a message gives no evidence (a place name alone, "ok", a button payload), so the
conversation keeps the language it had.
"""
from __future__ import annotations

import re
from typing import Optional

_WORD = re.compile(r"[a-zåäöéü']+")

SV = frozenset(
    """och att det som en ett är jag du vi ni de han hon man inte på för med till av om kan vill hur var
    vad vem vilka vilken vilket finns får får söka stöd hej tack hejdå mig min mitt mina dig din ditt er
    oss vår jobbar gör göra göras ska skulle har hade eller men så också bor nej ja då här där någon något
    inom mellan hos från efter innan barn unga filmen filmer kortfilm dokumentär långfilm länet kommunen
    visning visa skolbio lärare kurs kurser utrustning låna kontakt kontakta berätta hjälp hjälpa tacka
    bra toppen okej precis absolut menade menar börja om mejl mejla mejladress mejladressen adress
    telefonnummer numret ansökan ansökningar belopp bolag företag förening ägs äger pengar mycket senast
    skicka bifoga manus måste behöver""".split()
)
EN = frozenset(
    """the and to of a an is are you we they he she it not on for with in can could would should will
    what who which where how do does did get got funding support film films short documentary feature
    children young people school screening screenings cinema filming equipment loan courses course contact
    about tell me my your our there here hello hi hey thanks thank bye goodbye please yes no want need
    apply help any anyone works working county live from near make making shoot shooting email phone
    application amount company owned owns much send submit deadline""".split()
)
_SV_LETTERS = re.compile(r"[åäö]")


def detect_language(text: Optional[str]) -> Optional[str]:
    """'sv', 'en', or None when the message does not tell."""
    if not text or text.lstrip().startswith("/"):
        return None
    words = _WORD.findall(text.lower())
    # "i" is Swedish "in"; English "I" is written as a capital.
    sv = sum(w in SV for w in words) + len(re.findall(r"(?:^|\s)i\s", text))
    en = sum(w in EN for w in words) + len(re.findall(r"(?:^|\s)I(?:\s|')", text))
    if sv + en and _SV_LETTERS.search(text.lower()):
        sv += 1  # å/ä/ö tip the balance, but alone they are a place name ("Umeå"), not a language
    if sv == en:
        return None
    if max(sv, en) < 1:
        return None
    return "sv" if sv > en else "en"


def user_texts_newest_first(events, limit: int = 6):
    """Texts of the user's messages, newest first, from Rasa events (UserUttered) or rasa_sdk event dicts."""
    texts = []
    for event in reversed(list(events or [])):
        if isinstance(event, dict):
            if event.get("event") == "user":
                texts.append(event.get("text") or "")
        elif getattr(event, "type_name", None) == "user":
            texts.append(getattr(event, "text", None) or "")
        if len(texts) >= limit:
            break
    return texts


def conversation_language(texts_newest_first, fallback: Optional[str] = None) -> str:
    """The language to answer in: that of the newest user message that tells, else `fallback`, else
    Swedish. A place name or "ok" therefore keeps the language the visitor has been writing in."""
    for i, text in enumerate(texts_newest_first):
        if i >= 6:
            break
        lang = detect_language(text)
        if lang:
            return lang
    return fallback if fallback in ("sv", "en") else "sv"
