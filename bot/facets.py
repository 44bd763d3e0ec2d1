"""What a question asks of an offer or a centre: its facet (pure Python, no Rasa).

A visitor who names a centre and a topic may want the overview, or only one facet of it:

- ``apply``        how to apply: what to send (synopsis, manus, budget), which form or e-service
- ``amount``       how much money: maximum, typical sums, share of the budget
- ``intake``       when: deadlines, rolling intake, decision times
- ``eligibility``  who may apply: anchoring in the län, a company or producer, age limits
- ``contact``      whom to write to or call
- ``organisation`` what kind of organisation the centre is and who owns it

``find_facets(folded)`` returns the facets a folded message (bot.text.fold) asks, in the order they appear,
with the spans their words take; the understanding step (bot.understanding) masks those spans before it
looks for topic words, so "hur söker man?" or "när är deadline?" do not turn a short-film conversation into
one about production funding. Patterns are tried in FACET_ORDER: a phrase claimed by one facet ("måste man
ha bolag?" is eligibility) is not read again by a later one ("är det ett bolag?" is organisation).
"""
from __future__ import annotations

import re
from typing import List, Sequence, Tuple

FACETS = ("apply", "amount", "intake", "eligibility", "contact", "organisation")
MAX_FACETS = 2   # a message asking more gets the first two (in the order asked)

_SUBJ = r"(?:jag|man|vi|ni|en|du)"
_ORG_NOUN = (r"(?:aktiebolag|bolag|foretag|forening|myndighet|forvaltning|stiftelse|organisation|enhet|"
             r"company|association|agency|authority|foundation|non ?profit|charity|business|public body|"
             r"government (?:body|agency)|society|department)")
_COMPANY = r"(?:ett |en |eget |egen |nagot |nan |a |an |my own |our own )?(?:aktiebolag|produktionsbolag|bolag|foretag|firma|enskild firma|producent|ab|company|production company|producer|business)\b"


def _rx(*patterns: str) -> "re.Pattern[str]":
    return re.compile(r"\b(?:" + "|".join(patterns) + r")")


# "skicka" is about an application unless a mail or message follows it ("vart skickar jag ett mejl?").
_NOT_MAIL = r"\b(?! (?:\w+ ){0,2}(?:mejl|mail|e ?post|sms))"
# (facet, pattern), tried in this order; each match's span is claimed.
FACET_PATTERNS: List[Tuple[str, "re.Pattern[str]"]] = [
    # "måste man ha bolag?", "do I need a company?": eligibility, before "bolag" can mean organisation
    ("eligibility", _rx(
        rf"(?:maste|behover|bor|ska) {_SUBJ} (?:ha|vara|starta|registrera|ordna|skaffa) {_COMPANY}",
        rf"(?:maste|behover) (?:det|man) vara {_COMPANY}", rf"kravs? (?:det )?{_COMPANY}",
        rf"utan (?:att ha )?{_COMPANY}", r"som privatperson", r"privatperson", r"enskild person",
        rf"(?:do|must|should) (?:i|we|you) (?:need|have) (?:to (?:have|be|set up|register) )?{_COMPANY}",
        rf"(?:need|have) to (?:be|have|register) {_COMPANY}", rf"without {_COMPANY}",
        r"as an individual", r"as a private person", r"registered company", r"sole trader")),
    ("organisation", _rx(
        rf"(?:ar|is|are) (?!(?:vi|jag|we|i|man|en|ett|a|an|du|ni|you)\b)(?:\w+ ){{1,5}}"
        rf"(?:ett|en|a|an|nagon sorts?|nagot slags?) (?:\w+ )?{_ORG_NOUN}",
        rf"(?:eller|or) (?:ett|en|a|an) (?:\w+ )?{_ORG_NOUN}",
        r"vem (?:ager|driver|star bakom)", r"vilka (?:ager|driver|star bakom)", r"ags (?:\w+ )?av", r"agd\w* (?:\w+ )?av",
        r"agt (?:\w+ )?av", r"agare\w*", r"huvudman\w*", r"organisationsform\w*", r"driftsform\w*", r"juridisk form",
        r"bolagsform", r"vilken (?:typ|sorts?|slags?) (?:av )?(?:organisation|verksamhet)",
        r"(?:en )?del av regionen", r"regionen sjalv", r"regionens? (?:egen|egna)", r"drivs (?:av|i) regionen",
        r"kommunalt? bolag", r"regionagd\w*", r"regionalt bolag",
        r"(?:regionen|kommunen|staten|landstinget) som (?:driver|ager|star bakom)", r"drivs (?:det|den|de|dom) av",
        r"egen \w*(?:organisation|bolag)", r"i (?:forvaltningen|regionens forvaltning)",
        r"who owns", r"owned by", r"owns (?:it|them|the)", r"owners?\b", r"legal form",
        r"what (?:kind|type|sort) of (?:organi[sz]ation|body|entity|outfit)", r"part of the region",
        r"run by the region", r"who runs", r"private or public", r"public or private",
        r"(?:slags|sorts|typ av|for en) (?:\w+ )?(?:organisation|verksamhetsform|aktor)", r"organiserad\w*",
        rf"{_ORG_NOUN}\w*,? (?:\w+ )?(?:eller|or) (?:\w+ )?(?:{_ORG_NOUN}|region|del av|part of)",
        r"(?:ar det|is it) (?:\w+ ){0,3}direkt\b", r"own (?:organi[sz]ation|company|entity|body)",
        r"part of (?:the )?region", r"separate (?:company|organi[sz]ation|entity|body)",
        rf"(?:which|who|what) (?:one |of them )?is (?:a|an) {_ORG_NOUN}", r"organi[sz]ed\b")),
    ("intake", _rx(
        r"deadlines?\w*", r"sista (?:ansokningsdag\w*|ansokningsdatum\w*|dag\w*|datum\w*)"
        r"(?: (?:for|att) (?:ansokan|ansoka|soka|ansokningar))?",
        r"ansoknings ?(?:dag|tid|period|omgang|datum|stopp)\w*", r"vilka datum", r"datum\w*", r"senast\b", r"hur ofta", r"utlysning\w*",
        r"nar (?:maste|ska|bor|behover) (?:\w+ ){0,3}(?:sokt|ansokt|skickat|lamnat)",
        r"all year", r"year round", r"fixed (?:dates|rounds|deadlines)", r"rounds?\b", r"how often", r"lopande", r"nar som helst", r"hela aret", r"handlaggningstid\w*",
        r"nasta (?:omgang|utlysning|ansokningsomgang|deadline)",
        r"nar (?:kan|ska|maste|far|bor|behover|brukar|ar|gar|kommer|borjar|slutar|galler) (?:\w+ ){0,4}"
        r"(?:soka|ansoka|sokas|skicka in|lamna in|stanger|oppnar|deadline|besked|beslut|svar|ansokan|"
        r"ansokningar|utlysning|omgang|stodet)\w*", r"nar (?:stanger|oppnar|oppnas|stangs)\b",
        rf"hur (?:lang tid|snabbt|fort) (?:\w+ ){{0,6}}(?:beslut|besked|svar|handlagg)\w*",
        rf"hur lange (?:\w+ ){{0,3}}(?:vanta|beslut|besked)\w*",
        r"due date", r"closing date", r"next (?:round|call|deadline|intake)", r"rolling", r"intake",
        r"open call", r"any time of (?:the )?year",
        r"when (?:is|are|can|do|does|should|must|will|would|'?s) (?:\w+ ){0,5}(?:apply|applications?|deadline|"
        r"open|opens|close|closes|due|submit|decid\w*|decision|hear back|intake|round|call)\b",
        r"how long (?:\w+ ){0,4}(?:decision|decide|answer|process|hear back|take)\w*")),
    ("amount", _rx(
        r"hur (?:mycket|mkt|mycke)(?: (?:pengar|stod|kan|far|ger|brukar|ar det|handlar det om))?",
        r"hur stor\w* (?:\w+ )?(?:belopp|summa|summor|stod|bidrag|del|andel|pott)\w*", r"belopp\w*",
        r"hur stor\w* (?:ar|blir) (?:det|den|de|stodet|bidraget|summan)", r"fa i (?:pengar|stod|bidrag)",
        r"i pengar\b", r"vad brukar (?:man|jag|vi|ni) fa",
        r"summa\w*", r"summor", r"maxbelopp\w*", r"max(?:imalt|imal|imum)?\b", r"hogsta",
        r"procent", r"andel(?:en)? av budget\w*", r"kronor", r"kr\b", r"sek\b", r"\d[\d ]* ?(?:kr|sek|kronor)\b",
        r"how much", r"amounts?\b", r"what sum", r"how big (?:\w+ ){0,3}(?:grant|grants|funding|support)",
        r"percent\w* of (?:the )?budget", r"cap\b", r"how many kronor")),
    ("eligibility", _rx(
        r"vem (?:kan|far|ska|bor|maste) (?:soka|ansoka)", r"vilka (?:kan|far) (?:soka|ansoka)",
        r"riktar (?:sig|ni er|det sig) till", r"(?:far|kan) (?:jag|man|vi) (?:soka|ansoka|fa stod)\b"
        r"(?: \w+){0,6} (?:om|fast|trots|utan|aven|som|fran|med)\b",
        r"far (?:jag|man|vi) (?:ens |ocksa |aven )?(?:soka|ansoka)",
        r"(?:maste|behover) (?:man|jag|vi) (?:va|vara) (?:\w+ )?(?:\d+|over|under|myndig|vuxen|student)\w*",
        rf"(?:inget|ingen|utan) (?:eget |egen )?(?:bolag|foretag|firma|producent)",
        r"(?:allowed|entitled|permitted) to apply", r"vem som helst", r"bara for (?:proffs|professionella|etablerade)",
        rf"(?:maste|behover) {_SUBJ} vara (?:\w+ )?(?:proffs|professionell|etablerad|utbildad)\w*",
        r"anyone (?:can|could) apply", r"only for (?:professionals|pros)", r"(?:only|just) \d\d\b", r"if i(?: am|m)? (?:only )?\d\d\b",
        rf"(?:maste|behover) {_SUBJ} (?:bo|vara (?:bosatt|skriven|folkbokford|fran)|ha (?:anknytning|bott))",
        r"kravs? (?:det )?(?:att|for att)", r"krav\w*", r"villkor\w*", r"behorig\w*", r"anknytning\w*",
        r"bosatt", r"folkbokford", r"aldersgrans\w*", r"hur gammal", r"for (?:gammal|ung)\b",
        r"who (?:can|may) apply", r"who (?:is|are) eligible", r"eligib\w*", r"am i (?:allowed|able) to apply",
        r"can (?:i|we|anyone) (?:still )?apply\b(?: \w+){0,8} (?:if|even|as|without|when|although)\b",
        r"only for (?:\w+ )?(?:companies|people|residents|filmmakers|locals)", r"local (?:companies|filmmakers)",
        r"(?:kan|far) (?:jag|man|vi) (?:fortfarande |ocksa |aven )?(?:soka|ansoka)\b(?: \w+){0,8} (?:om|fast|trots|fastan)\b",
        r"(?:do|must|should) (?:i|we) (?:have|need) to (?:live|be|have)", r"must (?:i|we) (?:live|be)",
        r"requirements?", r"criteria", r"qualif\w*", r"age limit", r"how old", r"too (?:old|young)",
        r"(?:have|need) to live in", r"connection to the (?:county|region)")),
    ("apply", _rx(
        rf"hur (?:gor|soker|ansoker) {_SUBJ}(?: (?:for att|nar {_SUBJ}) (?:soka|ansoka))?",
        rf"hur (?:ska|kan|bor|maste) {_SUBJ} (?:soka|ansoka|ga till(?:va)?|gora for att)",
        r"hur gar (?:det|man|jag|vi) till", r"hur soker", r"hur ansoker", rf"var (?:soker|ansoker) {_SUBJ}",
        r"ansokan\b", r"ansokningen\b", r"ansokningsformular\w*", r"ansokningsblankett\w*", r"e ?tjanst\w*",
        r"blankett\w*", r"formular\w*", r"skicka\w* (?:in|med)\b", r"bifoga\w*", r"lamna in", r"fylla i\b",
        r"(?:vart|var|hur) skicka\w*" + _NOT_MAIL, rf"(?:maste|ska|behover|bor) {_SUBJ} skicka\w*" + _NOT_MAIL, r"synops\w*", r"sinops\w*",
        r"treatment", r"vad (?:\w+ ){0,4}(?:papper|material|handlingar)\b", r"ha klart", r"vad vill (?:de|dom|ni) ha", r"vad vill (?:de|dom|ni) att (?:man|jag|vi) skicka\w*",
        r"hur pitchar",
        rf"vad (?:ska|behover|maste|bor) {_SUBJ} (?:skicka|bifoga|ha med|lamna|fylla i|skriva)",
        r"vilka (?:handlingar|dokument|bilagor)", r"vad ska (?:finnas|sta|vara) (?:med )?i",
        r"how (?:do|can|should|would|does) (?:i|we|you|one|he|she|they) (?:\w+ )?(?:apply|submit|go about)",
        r"how to apply", r"(?:can|could|may) (?:i|we|one|you) apply (?:for|to)\b",
        r"applications?\b", r"application form", r"apply online",
        r"what (?:do|should|must|would) (?:i|we) (?:need to )?(?:send|submit|include|attach|hand in)",
        r"submit\w*", r"what documents", r"where (?:do|can|should) (?:i|we) apply", r"how does one apply",
        r"and how do (?:i|we) apply", r"the process")),
    ("contact", _rx(
        r"mejl\w*", r"maila\w*", r"mail(?:a|adress\w*|en)?\b", r"e ?post\w*", r"e ?mail\w*", r"email\w*",
        r"telefon\w*", r"ringa?\b", r"ringer\b", r"nummer\w*", r"adress\w*", r"kontakt\w*",
        rf"vem (?:ska|kan|bor) {_SUBJ} (?:prata|vanda (?:mig|oss)|hora av (?:mig|oss)|skriva|hora med|fraga|"
        rf"kontakta|hora)", r"hora av (?:mig|oss)", r"na (?:dem|er|nagon|honom|henne)\b", r"komma i kontakt",
        r"prata med (?:en|nagon)", r"handlaggare\w*", rf"hur nar {_SUBJ}\b",
        r"vem (?:pratar|talar|snackar) (?:jag|vi|man) med", r"(?:fa|far) (?:\w+ )?tag (?:pa|i)\b",
        r"contact\w*", r"get in touch", r"reach (?:them|you|someone|somebody|a person)", r"phone\w*",
        r"call (?:them|someone|somebody)", r"who (?:do|should|can) (?:i|we) (?:write|email|mail|talk|speak|"
        r"contact|ask|call)", r"whom", r"talk to (?:a|someone|somebody)", r"speak (?:to|with)", r"address")),
]
FACET_ORDER = tuple(dict.fromkeys(f for f, _ in FACET_PATTERNS))


def find_facets(folded: str) -> Tuple[List[str], List[Tuple[int, int]]]:
    """(facets asked, in the order they appear, at most MAX_FACETS; spans their words take) of a folded
    text."""
    claimed: List[Tuple[int, int]] = []
    hits: List[Tuple[int, str]] = []
    for facet, rx in FACET_PATTERNS:
        for m in rx.finditer(folded):
            start, end = m.span()
            if end <= start or any(start < e and s < end for s, e in claimed):
                continue
            claimed.append((start, end))
            hits.append((start, facet))
    order = [f for _, f in sorted(hits)]
    return list(dict.fromkeys(order))[:MAX_FACETS], sorted(claimed)


def mask(folded: str, spans: Sequence[Tuple[int, int]]) -> str:
    """The text with the given spans blanked (same length, so other spans stay valid)."""
    if not spans:
        return folded
    chars = list(folded)
    for s, e in spans:
        chars[s:e] = " " * (e - s)
    return "".join(chars)
