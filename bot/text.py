"""Swedish text normalisation for place lookup (pure Python, no Rasa).

- ``fold(s)``: casefold + strip diacritics (å->a, ä->a, ö->o, é->e, ü->u), hyphens/dashes -> space,
  whitespace collapsed. This is the form the place index is keyed on.
- ``casefold_keep(s)``: casefold, keep diacritics, hyphens -> space (used to tell an exact spelling
  from a diacritic-free one).
- ``tokenize(text)``: word tokens with character offsets into the *original* text.
- ``inflection_variants(form)``: candidate base forms for Swedish genitive/definite/compound endings
  ("dalarnas" -> "dalarna", "stockholmsomradet" -> "stockholm").
- ``demonym_forms(word)``: definite and plural forms of a demonym or regional adjective
  ("gotlänning" -> gotlänningen, gotlänningar, gotlänningarna; "skånsk" -> skånska, skånskt); genitive -s is
  handled by ``inflection_variants`` at lookup time.
- ``STOP_WORDS``: Swedish + English function words (spaCy's lists, read without importing spaCy, which
  would pull in heavy dependencies) plus frequent domain words; never fuzzy-matched.
"""
from __future__ import annotations

import importlib.util
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import FrozenSet, Iterable, List, Tuple

# Every hyphen/dash variant we normalise to a plain separator.
DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
_DASH_RE = re.compile("[" + re.escape(DASHES) + "_/]+")
_WS_RE = re.compile(r"\s+")
# Letters/digits, allowing combining marks (decomposed input such as "a\u030a").
_TOKEN_RE = re.compile(r"(?:[^\W_]|[\u0300-\u036f])+")
_SPECIAL = {"ß": "ss", "æ": "ae", "ø": "o", "œ": "oe", "đ": "d", "ł": "l", "þ": "th"}


@lru_cache(maxsize=8192)
def strip_diacritics(s: str) -> str:
    out = []
    for ch in unicodedata.normalize("NFKD", s):
        if unicodedata.combining(ch):
            continue
        out.append(_SPECIAL.get(ch, ch))
    return "".join(out)


def _unify(s: str) -> str:
    s = _DASH_RE.sub(" ", s)
    return _WS_RE.sub(" ", s).strip()


@lru_cache(maxsize=8192)
def casefold_keep(s: str) -> str:
    """Casefold and unify separators, keeping diacritics (NFC)."""
    return _unify(unicodedata.normalize("NFC", s).casefold())


@lru_cache(maxsize=8192)
def fold(s: str) -> str:
    """Casefold, strip diacritics and unify separators: the index key form."""
    return _unify(strip_diacritics(s.casefold()))


def normalise_text(text: str) -> str:
    """Normalised whole text (folded, punctuation other than word characters kept as spaces)."""
    return " ".join(fold(t.text) for t in tokenize(text))


@dataclass(frozen=True)
class Token:
    text: str      # surface text as in the input
    start: int     # offset into the original text
    end: int
    norm: str      # fold(text)
    lower: str     # casefold_keep(text)

    @property
    def is_capitalised(self) -> bool:
        return self.text[:1].isupper()


def tokenize(text: str) -> List[Token]:
    """Word tokens with offsets into ``text``. Hyphenated words are split ("Malung-Sälen" -> 2 tokens)."""
    toks = []
    for m in _TOKEN_RE.finditer(text):
        t = m.group(0)
        toks.append(Token(t, m.start(), m.end(), fold(t), casefold_keep(t)))
    return toks


# Endings of compounds people write after a place name: "Stockholmsområdet", "Umeåregionen",
# "Göteborgstrakten", "Skelleftebygden", "Moraborna". Longest first.
COMPOUND_SUFFIXES: Tuple[str, ...] = (
    "omradena", "omradet", "regionen", "trakterna", "trakten", "bygden", "borna", "kommuns",
    "kommun", "lans", "lan", "staden", "stad",
)


def inflection_variants(form: str) -> List[str]:
    """Candidate base forms of a folded word/phrase (the phrase's last word is inflected).

    Never returns ``form`` itself. Order: most likely first. Exact lookups of ``form`` always come
    first in the caller, so "vasteras" (Västerås, ends in -s already) is never reduced.
    """
    out: List[str] = []
    head, _, last = form.rpartition(" ")
    prefix = head + " " if head else ""

    def add(w: str) -> None:
        if len(w) >= 2 and prefix + w != form and prefix + w not in out:
            out.append(prefix + w)

    # Genitive -s (Dalarnas, Skånes, Göteborgs, Umeås). Names ending in s/x/z take no extra -s.
    if len(last) >= (3 if head else 4) and last.endswith("s"):
        add(last[:-1])
    # Apostrophe-less English possessive is covered above; compounds next.
    for suf in COMPOUND_SUFFIXES:
        if last.endswith(suf) and len(last) - len(suf) >= 3:
            stem = last[: -len(suf)]
            add(stem)
            if stem.endswith("s") and len(stem) > 3:
                add(stem[:-1])          # linking -s: Stockholms|området
            break
    # Inhabitants of a kommun or town: "Kalmarbo", "umebor", "norrköpingsbor", "västeråsare",
    # "göteborgarna", "lundabo". Stems are tried as written, without a linking -s or -a, and with an -a
    # for names ending in å ("ume" -> "umea").
    for suf in DEMONYM_SUFFIXES:
        if last.endswith(suf) and len(last) - len(suf) >= 3:
            stem = last[: -len(suf)]
            add(stem)
            if stem.endswith("s") and len(stem) > 3:
                add(stem[:-1])
            if stem.endswith("a") and len(stem) > 3:
                add(stem[:-1])
            add(stem + "a")
            break
    return out


DEMONYM_SUFFIXES: Tuple[str, ...] = ("bornas", "borna", "bors", "bor", "bon", "bo", "arnas", "arna", "aren",
                                     "ares", "are")


def demonym_forms(word: str) -> List[str]:
    """Definite/plural forms of a demonym (casefolded, diacritics kept); never ``word`` itself.

    -ing/consonant: +en, +ar, +arna (skåning, dalkarl, dalmas); -are: +n, -arna (göteborgare); -bo: +n, +r,
    +rna (uppsalabo); -e: +n, -ar, -arna (jämte, östgöte); -a: +n, -or, -orna (dalkulla); -sk (adjective):
    +a, +t (skånsk, jämtländsk).
    """
    w = casefold_keep(word)
    if not w or " " in w:
        return []
    if w.endswith("sk"):
        forms = [w + "a", w + "t"]
    elif w.endswith("are"):
        forms = [w + "n", w[:-1] + "na"]
    elif w.endswith("bo"):
        forms = [w + "n", w + "r", w + "rna"]
    elif w.endswith("e"):
        forms = [w + "n", w[:-1] + "ar", w[:-1] + "arna"]
    elif w.endswith("a"):
        forms = [w + "n", w[:-1] + "or", w[:-1] + "orna"]
    else:
        forms = [w + "en", w + "ar", w + "arna"]
    return [f for f in forms if f != w]


def _load_spacy_stop_words(lang: str) -> FrozenSet[str]:
    """Read spaCy's stop word list by file path (importing spaCy itself would pull in heavy deps)."""
    try:
        spec = importlib.util.find_spec("spacy")
        if not spec or not spec.submodule_search_locations:
            return frozenset()
        path = Path(list(spec.submodule_search_locations)[0]) / "lang" / lang / "stop_words.py"
        ns: dict = {}
        exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), ns)  # noqa: S102 - trusted site-packages file
        return frozenset(ns.get("STOP_WORDS", ()))
    except Exception:  # pragma: no cover - spaCy missing or changed layout
        return frozenset()


# Frequent words in this bot's domain: never fuzzy-matched against place names.
DOMAIN_WORDS: FrozenSet[str] = frozenset(
    """
    film filmen filmer filmerna filmare filmarna filma filmat kortfilm kortfilmen kortfilmer långfilm långfilmen
    långfilmer dokumentär dokumentären dokumentärer dokumentärfilm stöd stödet stöden bidrag bidraget
    produktion produktionen produktionsstöd stipendium stipendier ansöka ansökan söka söker sökte
    skolbio barn barnen unga ungdom ungdomar ungdomsfilm region regionen regioner regionerna
    länet länen kommun kommunen kommuner kommunerna filmregion filmregionen filmregionerna resurscentrum
    centrum centret konsulent konsulenten konsulenter filmkonsulent talang talanger talangutveckling
    manus manuset regissör regissören producent producenten inspelning inspelningen filmkommission
    utrustning teknik teknikutlån lån låna kurs kurser kursen utbildning visning visningar biograf bio
    festival festivalen kontakt kontakta hej hallå tack hejsan hejdå snälla undrar fråga frågor
    information info mejl mail telefon webbplats hemsida adress adressen vilken vilket vilka
    närmaste närmsta finns hitta hittar hjälp hjälpa behöver vill skulle kunna göra gör gjort
    serie serier tv drama animation animerad fiktion pengar kronor summa belopp deadline
    hello thanks thank please help short feature documentary funding grant grants support school
    children youth cinema screening screenings equipment course courses contact where which
    nearest live living based lives county municipality region centre center office
    bor bodde flyttat flytta jobbar arbetar jobba bo stad staden ort orten byn by landet sverige swedish sweden
    skog skogen sjö sjön hav havet fjäll fjällen kust kusten landsbygd landsbygden stan förort förorten park
    parken skola skolan hus huset hemma gata gatan väg vägen torg torget strand stranden ön öarna norr söder
    väster öster norra södra västra östra marken trädgården köket källaren vinden garaget
    """.split()
)

SV_STOP_WORDS = _load_spacy_stop_words("sv")
EN_STOP_WORDS = _load_spacy_stop_words("en")


def _folded(words: Iterable[str]) -> FrozenSet[str]:
    return frozenset(fold(w) for w in words if w)


# Folded: all words that must never be fuzzy-matched into a place name.
STOP_WORDS: FrozenSet[str] = _folded(SV_STOP_WORDS) | _folded(EN_STOP_WORDS) | _folded(DOMAIN_WORDS)
