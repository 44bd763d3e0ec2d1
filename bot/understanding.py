"""What a visitor's message asks for: the classifier's guess and what the registry recognises (places,
centres, topic words), fused into one decision the dialogue acts on.

``understand(text, ranking, registry=None) -> Decision``

The intent classifier (DIET) is trained on tidy one-purpose sentences; visitors name centres, mix places,
write "och i Kalmar då?" or a long story. The registry recognises places (every mention with its span and
kind), centre names (names, former names, unit names, web domains) and topic words, and that evidence is
strong; a low-confidence or contradicting intent is weak. The rules, in order:

1. Button payloads ("/intent{...}") are not touched.
2. A place outside Sweden with no Swedish place: the action says the bot covers Sweden's regions.
3. A centre named by its name: that centre answers (topic from the classifier when it is sure, else from
   topic words, else an overview of the centre) unless a more specific Swedish place of another centre is
   named too; then the place decides and the visitor's premise is corrected.
4. Swedish places: the most specific one decides (kommun or town over län, landskap or demonym). Two
   specific places of different centres: ask which. A broader mention of another län is a wrong premise
   ("Ludvika ligger väl i Västmanland?") and is corrected kindly.
   - with film context (film words, topic words, a film intent) the message is never small talk,
     a restart or a fallback: it is a topic question (topic words or a sure classifier) or a place;
   - without film context, a message that is only the place and filler words ("tack! och i Kalmar då?",
     "Luleå då?", "nej, jag menade Nyköping") is a place (the action keeps the earlier topic);
   - without film context but with other content words ("tandläkare i Borås") it is out of scope,
     unless the classifier is very sure of a topic.
5. No place and no centre: the classifier decides, but a restart needs a clear request (else the
   visitor is asked first), a goodbye or thanks that also asks something answers the question, and a
   film question the classifier was unsure of is answered by its topic words.

The decision is what the NLU component (bot.glue.nlu_components.RegistryUnderstanding) writes into the parse
result: the intent (with the classifier's ranking kept below it) and ``understanding`` (this module's
``Decision.to_json()``), which the actions read. Pure Python; no Rasa import.
"""
from __future__ import annotations

import functools
import bisect
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from rapidfuzz.distance import OSA

from bot.facets import find_facets, mask
from bot.text import Token, fold, tokenize
from bot.topics import INTENT_TOPICS, TOPIC_INTENTS

# ---------------------------------------------------------------------------------------------------
# Intents by role

TOPIC_INTENT_NAMES = frozenset(INTENT_TOPICS)             # ask_* and which_centre
PLACE_INTENTS = TOPIC_INTENT_NAMES | {"inform_place"}
SMALL_TALK = frozenset({"greet", "goodbye", "thank", "bot_challenge", "help", "affirm", "deny", "start_over"})
FALLBACK = "nlu_fallback"

SURE = 0.6            # the classifier is sure of its top intent
EVIDENCE = 0.9        # confidence given to an intent the registry evidence decided
SURE_AGAINST_WORDS = 0.75   # ... and this sure when the topic words point elsewhere
WEAK_TOPIC = 0.3     # with film words and a place, a topic intent on top is taken even when unsure
SURE_WITHOUT_FILM_WORDS = 0.8   # a place, other content words, no film word: the classifier must be this sure

# ---------------------------------------------------------------------------------------------------
# Words (folded: lowercase, no diacritics). Patterns match at word starts of the folded text.


def _rx(*patterns: str) -> "re.Pattern[str]":
    return re.compile(r"\b(?:" + "|".join(patterns) + r")")


# Topic words, most specific topic first: the first topic found wins.
TOPIC_WORDS: List[Tuple[str, "re.Pattern[str]"]] = [
    ("contact", _rx(r"kontakt", r"mejl", r"maila", r"mail\b", r"e ?post", r"telefon", r"ringa?\b",
                    r"nummer", r"adress", r"na (?:dem|er|honom|henne)\b", r"komma i kontakt", r"contact",
                    r"e ?mail", r"phone", r"reach (?:them|you)", r"get in touch", r"handlaggare",
                    r"prata med (?:en|nagon)", r"talk to (?:a|someone)", r"hur nar (?:jag|man|vi|ni)\b")),
    ("film_for_children_and_youth", _rx(r"skolbio", r"filmpedagog", r"barn", r"ungdom", r"unga\b",
                                        r"skola", r"skolan", r"elev", r"larare", r"forskol", r"fritidsgard",
                                        r"kulturskol", r"school", r"children", r"kids?\b", r"youth",
                                        r"young people", r"pupil", r"teacher", r"film for (?:unga|barn)",
                                        r"mediepedagog", r"klass(?:en)?\b", r"tonaring", r"teen", r"aring(?:ar|en)?\b",
                                        r"under (?:18|arton)\b", r"gymnasi", r"hogstadi", r"mellanstadi",
                                        r"under 18", r"minderarig", r"teenager", r"\d{1,2} ?years? old")),
    ("documentary", _rx(r"dokumentar", r"dokfilm", r"dok\b", r"documentar", r"doc\b", r"docs\b")),
    ("short_film", _rx(r"kortfilm", r"short film", r"shorts?\b", r"novellfilm", r"kort film")),
    ("feature", _rx(r"langfilm", r"spelfilm", r"feature", r"tv ?serie", r"dramaserie", r"tv drama",
                    r"biofilm", r"serie\b", r"series\b", r"lang film")),
    ("talent_development", _rx(r"talang", r"talent", r"debut", r"emerging", r"unga filmare",
                               r"nya filmare", r"nasta steg", r"ny filmare", r"young filmmaker",
                               r"utvecklas som", r"mentor", r"coach", r"handledning", r"handledare", r"feedback",
                               r"vagledning", r"guidance", r"mentorship")),
    ("film_commission", _rx(r"inspelning", r"spela in", r"spelar in", r"film ?commission", r"location",
                            r"filming", r"shoot", r"inspelningsplats", r"filmkommission", r"tillstand att filma",
                            r"filma (?:i|pa|hos|har)\b", r"produktionsservice", r"drone", r"dronare")),
    ("equipment_loan", _rx(r"utrustning", r"lana", r"lanar", r"lan av", r"utlan", r"teknikutlan", r"kamera",
                           r"kameror", r"mikrofon", r"ljus ?utrustning", r"equipment", r"gear", r"borrow",
                           r"camera", r"hyra")),
    ("education_and_courses", _rx(r"kurs", r"utbildning", r"workshop", r"course", r"class(?:es)?\b",
                                  r"lara mig", r"lara sig", r"fortbildning", r"seminari", r"training",
                                  r"folkhogskol", r"learn")),
    ("screenings_and_film_culture", _rx(r"visning", r"visa (?:en |var |min )?film", r"biograf", r"bio\b",
                                        r"bion\b", r"filmklubb", r"festival", r"screening", r"cinema",
                                        r"premiar", r"filmkultur", r"filmstudio", r"biosalong", r"filmvisning",
                                        r"film club", r"screen\b")),
    ("production_funding", _rx(r"stod", r"\w+stod\b", r"\w+stodet\b", r"bidrag", r"pengar", r"finansier", r"fund", r"grant", r"ansok",
                               r"produktionsstod", r"filmfond", r"stipendi", r"money", r"financ", r"deadline",
                               r"ansokningsdag", r"ansokningstid", r"sista dag", r"utlysning",
                               r"soka medel", r"medel\b", r"support")),
]
# Words that make a message about film without naming a topic.
FILM_WORDS = _rx(r"\w*film", r"\w*filma", r"movie", r"cinema", r"manus", r"regiss", r"producent", r"produktion",
                 r"producera", r"skadespel", r"animation", r"animera", r"klipp", r"musikvideo", r"youtube",
                 r"tiktok", r"video", r"foto", r"kamera", r"scen", r"actor", r"director", r"script",
                 r"produc", r"vlogg", r"podd", r"stop ?motion", r"rorlig bild", r"filmare", r"skapa",
                 r"konsulent", r"filmverksamhet", r"resurscentr", r"filmregion", r"kreator", r"creator",
                 r"berattelse", r"story", r"kultur", r"culture", r"\w*serie\b", r"\w*serien\b", r"kortis",
                 r"web ?series", r"tv series", r"documentar", r"dokumentar\w*", r"skolbio\w*", r"biograf\w*", r"bio\b", r"bion\b",
                 r"filmpedagog\w*")
# Renting or borrowing is film equipment only with a film object or film words: "hyra kajak" is not.
EQUIPMENT_NOUNS = _rx(r"utrustning", r"teknik", r"kamer", r"mikrofon", r"ljus", r"ljud", r"stativ", r"objektiv",
                      r"dronare", r"gimbal", r"equipment", r"gear", r"camera", r"mic\b", r"microphone", r"tripod",
                      r"lens", r"light", r"sound", r"drone", r"grejer", r"prylar", r"redigering", r"studio")
LEND_OBJECT = re.compile(r"\b(?:hyra|lana|rent|renting|borrow|borrowing|hire)\s+(?:ut\s+)?"
                         r"(?:en |ett |a |an |some |nagra |lite )?(\w+)")
LEND_NO_OBJECT = frozenset("""
    det den dom dem nagot nat nagonting saker allt er oss mig av hos fran i pa till for in at from of it them
    something stuff things anything any you
""".split())
# Things named with a film or camera word that are not film: "solfilm till bilrutorna", "fartkamerorna".
NOT_FILM_THINGS = _rx(r"solfilm\w*", r"skyddsfilm\w*", r"plastfilm\w*", r"fonsterfilm\w*", r"displayfilm\w*",
                      r"filmjolk\w*", r"biogas\w*", r"biobransle\w*", r"passfoto\w*", r"fotobutik\w*",
                      r"fotoaffar\w*", r"nagelstudio\w*", r"nagelsalong\w*", r"tatueringsstudio\w*",
                      r"skarmskydd\w*", r"fartkamer\w*", r"overvakningskamer\w*", r"kameraovervakning\w*",
                      r"backkamer\w*", r"speed cameras?", r"window film", r"screen protector")
# Film words too general to outweigh a need that is not film ("frisör som klipper barn", "premiär för simhallen").
WEAK_FILM_WORDS = _rx(r"klipp\w*", r"scen\w*", r"kultur\w*", r"culture", r"skapa\w*", r"story", r"berattelse\w*",
                      r"foto\w*", r"video\w*", r"kamer\w*", r"camera\w*")
# A clear request to clear the conversation.
RESTART_REQUEST = _rx(r"borja om\b", r"borja fran borjan", r"starta om", r"rensa", r"nollstall",
                      r"ny konversation", r"nytt samtal", r"glom (?:allt|det)", r"start over", r"restart",
                      r"reset", r"clear (?:the )?(?:chat|conversation)", r"begin again", r"new conversation")
# "och jag med": the visitor is in the same place as the one just answered for
ME_TOO = re.compile(r"^(?:och |ja |men )?(?:jag|vi|me|us) (?:med|ocksa|too|as well)\b|^samma (?:har|sak for mig)\b|"
                    r"^same here\b")
# Questions about which län a place belongs to ("blir det Västra Götaland då?", "räknas vi till ...")
BELONGING = _rx(r"hor (?:vi|jag|det|den|dom|de) (?:till|under)", r"raknas (?:vi|jag|det|den)", r"tillhor (?:vi|jag)",
                r"blir det", r"kanner (?:oss|mig) som", r"ligger (?:vi|det|den) (?:i|under)",
                r"do (?:we|i) belong", r"does (?:it|that) (?:count|belong)", r"feel like", r"counts? as")
# Words of a question about the association and its members rather than about one's own film
ASSOCIATION_WORDS = _rx(r"filmregionern", r"forening", r"medlem", r"nitton", r"19 \w*(?:verksamhet|centr|region)",
                        r"21 (?:lan|counties)", r"\w*verksamheterna", r"regionala? filmverksamhet",
                        r"\w*centrumen", r"\w*centren", r"resurscentr", r"vision", r"mal\b", r"malen", r"historia",
                        r"startade", r"bildades", r"finansieras", r"organiserade", r"branschrad", r"filmpolitik",
                        r"association", r"members?", r"centres\b", r"centers\b", r"policy")
# The association itself ("är Filmregionerna ett bolag?" asks about it, not about a centre)
WHAT_IS_THE_ASSOCIATION = re.compile(r"^\W*(?:(?:men|och|sa|hej)\W+)?(?:vad|what)\W+(?:ar|is|exactly is|is this)\W+"
                                     r"(?:egentligen\W+|exactly\W+)?filmregionerna\b(?:\W+(?:for\W+(?:nat|nagot|en "
                                     r"sak|nagonting)|egentligen|exactly|really))*\W*$"
                                     # "what does Filmregionerna actually do?", "vad gör Filmregionerna egentligen?"
                                     r"|^\W*(?:(?:men|och|sa|hej)\W+)?(?:what\W+does\W+filmregionerna\W+(?:actually\W+|"
                                     r"really\W+)?do|vad\W+(?:gor|sysslar)\W+filmregionerna(?:\W+med)?(?:\W+egentligen)?)"
                                     r"\W*$")
ASSOCIATION_AS_FUNDER = re.compile(r"\b(?:fran|hos|av|via|genom|from|of|with|by) (?:\w+ )?filmregionern\w*")
# The national funder: "hur söker jag stöd hos Svenska Filminstitutet?", "kan jag söka stöd från staten?"
NATIONAL_FUNDER = _rx(r"filminstitut\w*", r"sfi\b", r"staten\b", r"statlig\w*", r"state\b", r"swedish film institute",
                      r"national (?:funding|support|grants?)")
# Money asked for inside a facet's words ("hur mycket pengar", "hur söker man stöd"), not "ansökningsdag"
MONEY_WORDS = _rx(r"pengar\w*", r"stod\b", r"stodet\b", r"bidrag\w*", r"finansiering\w*", r"money\b",
                  r"funding\b", r"grants?\b")
# "vilken filmverksamhet ligger längst norrut?", "the most southerly film centre": which member is furthest
# north or south (the FAQ answers), asked of the centres, not of a place
FURTHEST = {"northernmost": _rx(r"nordligast\w*", r"mest nordlig\w*", r"langst (?:upp )?(?:i )?norr\w*",
                                r"northernmost", r"most northern\w*", r"most northerly", r"furthest north",
                                r"farthest north"),
            "southernmost": _rx(r"sydligast\w*", r"sodligast\w*", r"mest sydlig\w*", r"langst (?:ner )?(?:i )?soder\w*",
                                r"langst sydut", r"southernmost", r"most southern\w*", r"most southerly",
                                r"furthest south", r"farthest south")}
CENTRE_WORDS = _rx(r"film\w*", r"regional\w*", r"centr\w*", r"member\w*", r"medlem\w*")
THE_ASSOCIATION = _rx(r"filmregionern", r"regionala filmverksamheterna", r"alla (?:\w+ )?(?:centr|filmverksamhet|filmcentr)")
# A question about everything a centre does
OVERVIEW_QUESTION = _rx(r"erbjud", r"vad (?:gor|har|kan|jobbar|sysslar|ar)\b", r"vilka lan", r"tacker", r"omfattar",
                        r"what (?:does|do|can|is)", r"offers?\b", r"which counties", r"covers?\b", r"about\b")
# "Vem ger stöd i respektive kommun?": an answer for each place named
EACH_PLACE = _rx(r"respektive", r"bada (?:kommunerna|lanen|orterna|platserna|staderna)", r"var och en", r"vardera",
                 r"both (?:places|towns|municipalities|counties)", r"each of (?:them|these)", r"in each\b")
# "vad finns där?": the place is the one already talked about
DEICTIC_PLACE = re.compile(r"\b(?:vad|vilka|vilket|vem|what|who|anything)\b[\w ]{0,30}\b(?:finns|gor|har|erbjuder|"
                           r"jobbar|is|are|offers?|do)\b[\w ]{0,20}\b(?:dar|dit|there)\b")
QUESTION_WORDS = _rx(r"vem", r"vad", r"var\b", r"vart", r"hur", r"vilk", r"finns", r"kan (?:jag|man|ni|vi|du)",
                     r"who", r"what", r"where", r"how", r"which", r"is there", r"are there", r"can (?:i|we|you)")

# Words that carry no need of their own: a message made only of these and a place is a place.
FILLERS = frozenset(fold(w) for w in """
    och i pa for fran till av om med men eller samt som sa da nu da? har dar ocksa ocksa aven
    jag vi du ni man mig oss dig er min mitt mina var vart vara vår vårt våra hans hennes deras
    hej hejsan halla tja tjena hallå tack tusen stort bra toppen super okej ok okay aha ah oj
    ja nej nä nae japp jo menade menar mente sorry forlat förlåt ursakta ursäkta
    samma sak fraga fragan grej likadant likasa likaså sådär sadar
    bor bodde bo boende flyttat flyttar flytta flyttade kommer kom ifran ifrån harifran harifrån
    jobbar arbetar pluggar studerar lever vaxte växte upp uppvuxen hemma nara nära nånstans nagonstans
    haller håller holl höll sitter ligger baserad baserade based live lives living located stay staying
    kommun kommunen län lan lanet länet stad staden ort orten by byn trakten region regionen
    landskap landskapet omradet området stan
    det den de dom en ett the a an and or in on at of for from to near about what how then too also
    ocksa än an typ liksom ju val väl kanske eventuellt precis nyss snart redan just
    hur vad vem var vilken vilket vilka vart finns gäller galler galla gälla gäller
    hjalp hjälp hjalpa hjälpa hjalper hjälper info information tips undrar undra vill ville skulle kan
    kunde ska behover behöver gar går funkar fungerar hanvisa hänvisa vanda vända mig oss
    is it there here i'm im my our we you me please thanks thank hi hello hey yes no same question
    what's whats about live living lives based moved moving move from who which where
    anyone someone somebody help helps can could would will do does did get
    svara svar svarar ar är blir bli vara heter kallas
    raknas rakna räknas räkna tillhor tillhör tillhora tillhöra hor hör ligger ligga lag låg hamnar
    fast kanner känner kanns känns kansla känsla tycker tror egentligen vet osaker osäker tydligen
    erbjuder erbjuda erbjudande erbjudanden mojlighet möjlighet mojligheter möjligheter verksamhet
    verksamheter aktiviteter program satsning satsningar gora göra gor gör gjort ordna fixa
    belong belongs part county's municipality's counts count offer offers options opportunities
    sen sedan nagra några ar år manader månader veckor lange länge tillbaka ungefar ungefär kvar numera
    fortfarande forut förut tidigare hela halva livet familjen familj foraldrar föräldrar sambo barnen
    sodra södra norra vastra västra ostra östra centrala mellersta inre yttre
    forra förra aret året ifjol fjol somras vintras varas våras hostas höstas nyligen nyss
    last year ago recently months weeks week month since just new here there now
    """.split())
# Needs that are not film: with a place and no film word, the message is out of scope.
NON_FILM_NEEDS = _rx(r"tandlak", r"lakare", r"vardcentral", r"sjukhus", r"akuten", r"apotek", r"vader",
                     r"vadret", r"regn", r"temperatur", r"buss", r"tag(?:et|en)\b", r"tagtider", r"flyg",
                     r"farja", r"taxi", r"parkering", r"hotell", r"vandrarhem", r"camping", r"restaurang",
                     r"pizz", r"lunch", r"middag", r"fika", r"kafe", r"jobb(?:et)?\b", r"lediga jobb",
                     r"arbetsformedling", r"bostad", r"lagenhet", r"hyresratt", r"skatt", r"polis",
                     r"korkort", r"bygglov", r"sophamtning", r"bredband", r"bank(?:en)?\b", r"simhall",
                     r"gym(?:met|kort)?\b", r"fotboll", r"hockey", r"teater", r"museum", r"bibliotek", r"vaccin", r"frisor",
                     r"veterinar", r"mataffar", r"ica\b", r"systembolag", r"dentist", r"doctor", r"weather",
                     r"hospital", r"\bbus\b", r"train", r"hotel", r"restaurant", r"\bjobs?\b", r"housing",
                     r"apartment", r"\btax", r"police", r"flight", r"ferry", r"pharmacy", r"football",
                     r"fisk", r"jakt", r"kop(?:a|er|te)\b", r"handla\b", r"shopp", r"affar", r"butik", r"skidor",
                     r"skidak", r"liftkort", r"stuga", r"buy", r"shop", r"fishing", r"hunting", r"ski(?:s|ing)?\b",
                     r"deklaration", r"skatteverk", r"forsakringskass", r"sjukvard", r"vardcentral", r"sjuk\b",
                     r"tandvard", r"barnomsorg", r"forskoleplats", r"parkeringstillstand", r"tax return")

_STRIP_PUNCT = re.compile(r"[^\w\s]")


# ---------------------------------------------------------------------------------------------------
# Results

@dataclass
class CentreMention:
    centre_id: str
    text: str
    span: Tuple[int, int]
    unit_id: Optional[str] = None

    def to_json(self) -> Dict[str, Any]:
        return {"centre_id": self.centre_id, "text": self.text, "span": list(self.span), "unit_id": self.unit_id}


@dataclass
class Decision:
    intent: str                                  # the intent the dialogue acts on
    confidence: float
    reason: str                                  # which rule decided (logs, tests, the staff report)
    classifier_intent: Optional[str] = None      # the classifier's own top intent (not nlu_fallback)
    classifier_confidence: float = 0.0
    topic: Optional[str] = None                  # the topic kind asked for, when the message names one
    place: Optional[Dict[str, Any]] = None       # the deciding place (a Mention as JSON)
    candidates: List[Dict[str, Any]] = field(default_factory=list)   # places to choose between (ask back)
    premise: Optional[Dict[str, Any]] = None     # {said, place, county, centre_name}: a premise to correct
    centre: Optional[Dict[str, Any]] = None      # a centre named by its name (CentreMention as JSON)
    foreign: Optional[str] = None                # a place outside Sweden, as written
    out_of_scope: bool = False                   # a place with no film word and other content words
    non_film_need: bool = False                  # ... and a need that is clearly not film (tandläkare, väder)
    places: List[Dict[str, Any]] = field(default_factory=list)       # every place mention
    belonging: bool = False                      # asks which län a place belongs to ("blir det X då?")
    film: bool = False                           # film words, topic words or a centre name in the message
    each: bool = False                           # asks about each of several places ("i respektive kommun")
    facets: List[str] = field(default_factory=list)   # what is asked of the offer or centre (bot.facets)
    national: bool = False                       # also point to the national funder (Filminstitutet)
    faq: Optional[str] = None                    # an FAQ answer the registry's words pick ("what_is")

    def to_json(self) -> Dict[str, Any]:
        return {
            "intent": self.intent,
            "confidence": round(float(self.confidence), 3),
            "reason": self.reason,
            "classifier_intent": self.classifier_intent,
            "classifier_confidence": round(float(self.classifier_confidence), 3),
            "topic": self.topic,
            "place": self.place,
            "candidates": self.candidates,
            "premise": self.premise,
            "centre": self.centre,
            "foreign": self.foreign,
            "out_of_scope": self.out_of_scope,
            "non_film_need": self.non_film_need,
            "places": self.places,
            "belonging": self.belonging,
            "film": self.film,
            "each": self.each,
            "faq": self.faq,
            "facets": self.facets,
            "national": self.national,
        }


# ---------------------------------------------------------------------------------------------------
# Centre names

_RUN_BY = re.compile(r"drivs av ((?:[A-ZÅÄÖ][\wåäöé-]*\s?){1,3}(?:folkhögskola|förening|AB)?)")
_SPLIT_NAME = re.compile(r"\s*(?:/|\(|\)|,|–|—| - )\s*")
GENERIC_NAME_KEYS = frozenset({"filmpool", "film", "region", "kultur", "filmverksamheten", "filmkonsulenterna",
                               "kulturutveckling film", "film region"})


def _name_variants(name: str) -> List[str]:
    """"Region Stockholm (filmkonsulenterna) / Film Stockholm AB" -> the whole name and its parts,
    each also without a trailing "AB"."""
    out = [name]
    out += [p for p in _SPLIT_NAME.split(name) if p]
    more = []
    for v in out:
        f = fold(v)
        if f.endswith(" ab"):
            more.append(v[:-3])
    return [v for v in out + more if v.strip()]


def _domain(url: str) -> Optional[str]:
    m = re.match(r"https?://(?:www\.)?([^/]+)(/[^?#]*)?", url or "")
    if not m:
        return None
    host, path = m.group(1).lower(), (m.group(2) or "").strip("/").lower()
    return host + ("/" + path.split("/")[0] if path and "." not in host.split(".")[0] and path else "")


class CentreIndex:
    """Centre names (folded, squashed) -> centre id / unit id, and web domains."""

    def __init__(self, registry: Any) -> None:
        self.keys: Dict[str, Tuple[str, Optional[str]]] = {}       # squashed folded name -> (centre, unit)
        self.domains: List[Tuple["re.Pattern[str]", str, Optional[str]]] = []
        self.hosts: List[Tuple[str, str, Optional[str]]] = []     # "filmiskane" of filmiskane.se
        for centre in registry.centres:
            names = [centre.name] + list(centre.former_names or []) + list(getattr(centre, "runs", None) or [])
            for name in names:
                for v in _name_variants(name):
                    self._add(v, centre.id, None)
            for unit in getattr(centre, "units", None) or []:
                for v in _name_variants(unit.name):
                    self._add(v, centre.id, unit.id)
                if getattr(unit, "website", None):
                    self._add_domain(str(unit.website), centre.id, unit.id)
            site = getattr(getattr(centre, "website", None), "url", None)
            if site:
                self._add_domain(site, centre.id, None)
            # the body that runs a centre for its region ("filmresurscentrum drivs av Katrinebergs
            # folkhögskola på uppdrag av ...") identifies it too
            org = getattr(getattr(centre, "organisation", None), "value", None) or ""
            for m in _RUN_BY.finditer(org):
                self._add(m.group(1), centre.id, None)
        self.max_tokens = 6
        self.fuzzy_keys = [k for k in self.keys if len(k) >= 10]

    def _add(self, name: str, centre_id: str, unit_id: Optional[str]) -> None:
        key = fold(name)
        if not key or key in GENERIC_NAME_KEYS or len(key.split()) < 2 and not key.startswith(("film", "reaktor")):
            return
        squashed = key.replace(" ", "")
        if len(squashed) < 8:
            return
        prev = self.keys.get(squashed)
        if prev and prev[0] != centre_id:
            self.keys.pop(squashed)      # a name shared by two centres identifies neither
            return
        if prev is None or (unit_id and not prev[1]):
            self.keys[squashed] = (centre_id, unit_id)

    def _add_domain(self, url: str, centre_id: str, unit_id: Optional[str]) -> None:
        host = _domain(url)
        if not host:
            return
        first = host.split("/")[0]
        # a bare region domain (gotland.se, regionstockholm.se) only counts with its path or as a whole host
        pattern = re.compile(r"(?<![\w.])(?:www\.)?" + re.escape(first) + (r"(?:/[\w./-]*)?" ) + r"(?![\w])")
        self.domains.append((pattern, centre_id, unit_id))
        self.hosts.append((first.split(".")[0], centre_id, unit_id))

    def find(self, text: str, tokens: Optional[Sequence[Token]] = None) -> List[CentreMention]:
        """Centre mentions in ``text`` (``tokens``: its tokens, when already made), left to right."""
        found: List[CentreMention] = []
        taken: List[Tuple[int, int]] = []
        low = text.lower()
        for pattern, cid, uid in self.domains:
            for m in pattern.finditer(low):
                found.append(CentreMention(cid, text[m.start():m.end()], (m.start(), m.end()), uid))
                taken.append((m.start(), m.end()))
        for m in _DOMAIN_LIKE.finditer(low):             # "filmstokholm.se": a web address typed wrong
            if any(a <= m.start() < b for a, b in taken):
                continue
            host = m.group(1)
            best = None
            for dom, cid, uid in self.hosts:
                if abs(len(dom) - len(host)) <= 1 and len(host) >= 8 and OSA.distance(host, dom) <= 1:
                    best = (cid, uid)
                    break
            if best:
                found.append(CentreMention(best[0], text[m.start():m.end()], (m.start(), m.end()), best[1]))
                taken.append((m.start(), m.end()))
        toks = [t for t in (tokenize(text) if tokens is None else tokens)
                if not any(a <= t.start < b for a, b in taken)]
        i = 0
        while i < len(toks):
            hit = None
            for length in range(min(self.max_tokens, len(toks) - i), 0, -1):
                seg = toks[i:i + length]
                if length > 1 and any(seg[k + 1].start - seg[k].end > 3 for k in range(length - 1)):
                    continue
                squashed = _RUNS.sub(r"\1", "".join(t.norm for t in seg))     # "skåneee" -> "skåne"
                target = self.keys.get(squashed)
                if target is None and length == 1 and squashed.endswith("s"):
                    target = self.keys.get(squashed[:-1])
                if target is None and length > 1:
                    last = seg[-1].norm
                    if last.endswith("s") and len(last) > 3:
                        target = self.keys.get(squashed[:-1])       # genitive: "Film i Dalarnas stöd"
                if target is None and length >= 2 and len(squashed) >= 10 and len(seg[0].norm) >= 3:
                    target = self._fuzzy(squashed)
                if target is not None:
                    hit = (length, target)
                    break
            if hit is None:
                i += 1
                continue
            length, (cid, uid) = hit
            start, end = toks[i].start, toks[i + length - 1].end
            found.append(CentreMention(cid, text[start:end], (start, end), uid))
            i += length
        found.sort(key=lambda m: m.span[0])
        return found

    def _fuzzy(self, squashed: str) -> Optional[Tuple[str, Optional[str]]]:
        max_d = 1 if len(squashed) < 11 else 2
        best: Optional[Tuple[int, str]] = None
        for key in self.fuzzy_keys:
            if abs(len(key) - len(squashed)) > max_d or key[0] != squashed[0]:
                continue
            d = OSA.distance(squashed, key, score_cutoff=max_d)
            if d <= max_d and (best is None or d < best[0]):
                best = (d, key)
        return self.keys[best[1]] if best else None


_RUNS = re.compile(r"(.)\1{2,}")
_DOMAIN_LIKE = re.compile(r"(?<![\w.])(?:www\.)?([a-z0-9åäö-]+)\.(?:se|com|nu|org|net)\b")
_CENTRE_CACHE: Dict[int, Tuple[Any, CentreIndex]] = {}
_CENTRE_LOCK = threading.Lock()


def centre_index(registry: Any) -> CentreIndex:
    hit = _CENTRE_CACHE.get(id(registry))
    if hit is not None and hit[0] is registry:
        return hit[1]
    with _CENTRE_LOCK:
        index = CentreIndex(registry)
        if len(_CENTRE_CACHE) >= 4:
            _CENTRE_CACHE.clear()
        _CENTRE_CACHE[id(registry)] = (registry, index)
        return index


def find_centres(text: str, registry: Any = None, tokens: Optional[Sequence[Token]] = None) -> List[CentreMention]:
    """Every centre named in ``text`` by a name, former name, unit name or web domain (``tokens``: the
    text's tokens, when the caller already made them)."""
    if registry is None:
        from bot.registry import get_registry
        registry = get_registry()
    return centre_index(registry).find(text or "", tokens)


# ---------------------------------------------------------------------------------------------------
# Words

# Topic kinds a facet's own words also name ("söka stöd", "mejla"): not taken from inside a facet.
FACET_TOPIC_WORDS = frozenset({"production_funding", "contact"})


def find_topics(folded: str) -> List[str]:
    """Topic kinds named in a folded text, in TOPIC_WORDS order (most specific first)."""
    return [topic for topic, rx in TOPIC_WORDS if rx.search(folded)]


def choose_topic(topics: Sequence[str]) -> Optional[str]:
    """The topic a message asks about: a specific kind over funding, and contact only when alone."""
    if not topics:
        return None
    rest = [t for t in topics if t != "contact"]
    if not rest:
        return "contact"
    specific = [t for t in rest if t != "production_funding"]
    # "stöd för kortfilm": short film; "stöd till skolbio": children and youth
    return specific[0] if specific else rest[0]


def _folded_text(text: str) -> str:
    return " ".join(t.norm for t in tokenize(text))


def residual_words(text: str, spans: Iterable[Tuple[int, int]],
                   tokens: Optional[Sequence[Token]] = None) -> List[str]:
    """Content words outside the given spans that are neither fillers nor film/topic words."""
    spans = list(spans)
    out = []
    for tok in tokenize(text) if tokens is None else tokens:
        if any(a <= tok.start < b for a, b in spans):
            continue
        w = tok.norm
        if w in FILLERS or w.isdigit() or len(w) < 3:
            continue
        if FILM_WORDS.match(w) or any(rx.match(w) for _, rx in TOPIC_WORDS):
            continue
        out.append(w)
    return out


# ---------------------------------------------------------------------------------------------------
# Places

def _places(text: str, registry: Any, exclude: Sequence[Tuple[int, int]],
            tokens: Optional[Sequence[Token]] = None) -> List[Any]:
    from bot.places import find_places

    return list(find_places(text, registry=registry, exclude_spans=exclude, tokens=tokens))


def _mention_json(m: Any) -> Dict[str, Any]:
    cands = [c.to_json() if hasattr(c, "to_json") else dict(c) for c in (getattr(m, "candidates", None) or [])]
    return {
        "text": getattr(m, "text", None) or getattr(m, "matched", None),
        "span": list(getattr(m, "span", None) or ()),
        "kind": getattr(m, "kind", None),
        "status": getattr(m, "status", None),
        "county_code": getattr(m, "county_code", None),
        "county": getattr(m, "county", None),
        "kommun_code": getattr(m, "kommun_code", None),
        "kommun": getattr(m, "kommun", None),
        "centre_id": getattr(m, "centre_id", None),
        "centre_name": getattr(m, "centre_name", None),
        "confidence": round(float(getattr(m, "confidence", 0.0) or 0.0), 3),
        "candidates": cands,
        "weak": bool(getattr(m, "weak", False)),
    }


SPECIFIC_KINDS = ("kommun", "town")

# "filmcentret i Dalarna", "filmpoolen i Jämtland", "the film office in Skåne": the place names its centre
CENTRE_OF_PLACE = re.compile(r"\b(?:filmcent\w*|filmcenter\w*|filmverksamhet\w*|filmpool\w*|filmkonsulent\w*|"
                             r"resurscent\w*|filmfond\w*|film (?:office|centre|center|fund|commission))"
                             r" (?:i|pa|for|in|of|pa)\s*$")


def _folded_window(text: str, start: int, end: int, tokens: Optional[Sequence[Token]] = None) -> str:
    """_folded_text(text[start:end]), from the whole text's tokens when given (cut at the window's edges)."""
    if tokens is None:
        return _folded_text(text[start:end])
    return " ".join(fold(text[max(t.start, start):min(t.end, end)]) for t in tokens if t.start < end and t.end > start)


def _centres_by_place(text: str, mentions: Sequence[Dict[str, Any]],
                      tokens: Optional[Sequence[Token]] = None) -> List[CentreMention]:
    """Centres named by a kind of centre and their place ("filmcentret i Dalarna")."""
    out = []
    for m in mentions:
        span = m.get("span") or ()
        if m.get("status") == "found" and m.get("centre_id") and span and \
                CENTRE_OF_PLACE.search(_folded_window(text, max(0, span[0] - 40), span[0], tokens)):
            out.append(CentreMention(m["centre_id"], m.get("text") or "", (span[0], span[1])))
    return out


# "filmpoolen här uppe": a kind of centre only some centres are named for (Filmpool Nord, Filmpool Jämtland)
CENTRE_KIND = re.compile(r"\bfilmpool(?:en|s)?\b(?! (?:nord|jamtland))")


def _by_centre_kind(folded: str, mentions: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Places of several centres and a kind of centre named ("filmpoolen"): the places whose centre is of
    that kind, when some are and some are not ("från Piteå men bor i Stockholm ... filmpoolen här uppe")."""
    if len(mentions) < 2 or not CENTRE_KIND.search(folded):
        return mentions
    kind = [m for m in mentions if m["status"] == "found" and "filmpool" in fold(m.get("centre_name") or "")]
    return kind if kind and len(kind) < len(mentions) else mentions


def _strong_film_words(folded: str, weak_ok: bool = False) -> bool:
    """Film words in the message, not counting things that only look like film ("solfilm"); with weak_ok
    False, general words ("klipp", "kultur", "kamera") do not count either."""
    text = NOT_FILM_THINGS.sub(" ", folded)
    return any(weak_ok or not WEAK_FILM_WORDS.fullmatch(m.group(0)) for m in FILM_WORDS.finditer(text))


def _renting_no_film(folded: str) -> bool:
    """'hyra kajak i Valdemarsvik': a lending verb with an object that is neither film equipment nor film."""
    if EQUIPMENT_NOUNS.search(folded) or FILM_WORDS.search(folded):
        return False
    objects = [m.group(1) for m in LEND_OBJECT.finditer(folded)]
    return bool(objects) and all(o not in LEND_NO_OBJECT for o in objects)


def _said_kind(mention: Dict[str, Any]) -> str:
    """A mention's kind, "landskap" for a län name that is a landskap too ("Värmland" holds Karlskoga)."""
    kind = mention.get("kind") or ""
    if kind == "county" and fold(mention.get("text") or "") in _landskap_names():
        return "landskap"
    return kind


@functools.lru_cache(maxsize=1)
def _landskap_names() -> frozenset:
    from bot.registry import get_registry
    return frozenset(fold(ls) for c in get_registry().counties for ls in (c.landskap or []))


def place_name(m: Dict[str, Any]) -> str:
    """How to name a mention back to the visitor: a town as written (capitalised), else its kommun or län."""
    text = m.get("text") or ""
    if m.get("kind") == "town" and text:
        return text[:1].upper() + text[1:]
    return m.get("kommun") or m.get("county") or text


def _candidates_from(mentions: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
    out, seen = [], set()
    for m in mentions:
        if m["status"] == "found":
            c = [{"county_code": m["county_code"], "county": m["county"], "centre_id": m["centre_id"],
                  "centre_name": m["centre_name"], "kommun_code": m["kommun_code"], "kommun": m["kommun"]}]
        else:
            c = m["candidates"]
        for cand in c:
            key = (cand.get("county_code"), cand.get("kommun_code"))
            if key not in seen:
                seen.add(key)
                out.append(cand)
    return out


# What the words before a place say about it (folded text, the place's preceding words).
_CUE_WINDOW = 5
CUE_HOME = re.compile(r"\b(?:bor|bosatt|boende|flyttade|flyttat|flyttar|flytta|live|lives|living|moved|based|"
                      r"located)\b(?: \w+){0,2} (?:i|pa|till|in|to|at|on)$")
CUE_FILMING = re.compile(r"\b(?:spela|spelar|spelas|inspelning\w*|filma|filmar|filmas|utspelar sig|utspelas|"
                         r"shoot|shooting|filming|set|location\w*)\b(?: \w+){0,3} (?:i|pa|vid|in|at|on|near)$")
CUE_PAST = re.compile(r"\b(?:fodd|uppvuxen|vaxte|vaxt|bodde|bott|born|grew|raised|lived|used)\b(?: \w+){0,3} "
                      r"(?:i|pa|in|on|up in)$")
CUE_REFERENCE = re.compile(r"\b(?:nara|near|mellan|mittemellan|between|granne|grannkommun|bredvid|next|gransar|gransande|borders?|bordering)\b")
CUE_TARGET = re.compile(r"\b(?:hor|hora|horde|raknas|rakna|tillhor|tillhora|ligger|del|nastan|belong\w*|part|"
                        r"counts?|counted|typ)\b(?: \w+){0,2}(?: (?:till|i|av|under|to|in|of|with))?$")
CUE_ORIGIN = re.compile(r"\b(?:fran|from)$")
# Where the visitor's company is ("mitt produktionsbolag ligger i Varberg", "bolaget är registrerat i"):
# as weighty as where they live, so home and company in two län are asked about with both centres named
CUE_COMPANY = re.compile(r"\b(?:\w*bolag\w*|foretag\w*|firma\w*|kontor\w*|company|business|studio)\b"
                         r"(?: \w+){0,3} (?:i|pa|in)$")
CUE_WORK = re.compile(r"\b(?:jobbar|jobba|arbetar|arbeta|pluggar|studerar|works?|working|study|studying)\b"
                      r"(?: \w+){0,2} (?:i|pa|in|at)$")


_TOKENS_CACHE: Dict[str, Tuple[List[int], List[str]]] = {}


def _before(text: str, span: Sequence[int], tokens: Optional[Sequence[Token]] = None) -> str:
    """The folded words before ``span`` (at most _CUE_WINDOW), the text's tokens (``tokens`` when given)
    indexed once per message."""
    hit = _TOKENS_CACHE.get(text)
    if hit is None:
        toks = tokenize(text) if tokens is None else tokens
        hit = ([t.start for t in toks], [t.norm for t in toks])
        if len(_TOKENS_CACHE) > 64:
            _TOKENS_CACHE.clear()
        _TOKENS_CACHE[text] = hit
    starts, norms = hit
    i = bisect.bisect_left(starts, span[0])
    return " ".join(norms[max(0, i - _CUE_WINDOW):i])


def place_cues(text: str, mention: Dict[str, Any], filming: bool,
               tokens: Optional[Sequence[Token]] = None) -> Tuple[float, bool]:
    """(score, premise_target) of one mention from the words before it: where the visitor lives now or
    films counts more; where they were born, a neighbouring place or a place "it belongs to" counts less
    (the last is a premise to correct)."""
    if not mention.get("span"):
        return 0.0, False
    before = _before(text, mention["span"], tokens)
    score, target = 0.0, False
    if CUE_HOME.search(before):
        score += 1 if filming else 3      # for a filming question, where one films decides
    if CUE_FILMING.search(before):
        score += 4          # where the film is made decides: the regional funds ask for a tie to the län
    if CUE_PAST.search(before):
        score -= 2
    if CUE_REFERENCE.search(before):
        score -= 2
    if CUE_TARGET.search(before):
        score, target = score - 2, True
    if CUE_WORK.search(before):
        score -= 1            # where one works counts less than where one lives
    if CUE_ORIGIN.search(before) and filming:
        score -= 1.5          # "ett bolag från Stockholm" that will film elsewhere
    if CUE_COMPANY.search(before) and not CUE_FILMING.search(before):
        score, target = max(score, 0.0) + (0 if filming else 3), False    # "bolaget ligger i" is no premise
    return score, target


def pick_place(mentions: Sequence[Dict[str, Any]], text: str = "", filming: bool = False,
               tokens: Optional[Sequence[Token]] = None) -> Tuple[Optional[Dict[str, Any]], List[Dict[str, Any]], Optional[Dict[str, Any]]]:
    """(deciding place, candidates to ask between, premise) for Swedish place mentions.

    The most specific mention decides: a kommun or town over a län, landskap, region or demonym; a broader
    mention that points elsewhere is a wrong premise to correct. Specific places of different centres are
    weighed by the words before them (place_cues) and by how often each centre's places are named; when
    no centre clearly leads, or only broad mentions disagree or are ambiguous, the visitor is asked."""
    found = [m for m in mentions if m["status"] == "found"]
    strong_centres = {m["centre_id"] for m in found if not m.get("weak")}
    strong_centres |= {c.get("centre_id") for m in mentions if m["status"] == "ambiguous" and not m.get("weak")
                       for c in m["candidates"]}
    if strong_centres:   # an everyday word ("mark", "vara") does not outweigh a clear place elsewhere
        found = [m for m in found if not m.get("weak") or m["centre_id"] in strong_centres]
    specific = [m for m in found if m["kind"] in SPECIFIC_KINDS]
    broad_found = [m for m in found if m["kind"] not in SPECIFIC_KINDS]
    ambiguous = [m for m in mentions if m["status"] == "ambiguous"]
    if specific:
        cues = _all_cues(text, found, filming, tokens)
        centres = {m["centre_id"] for m in specific}
        if len(centres) > 1:
            lead = _leading_centre(specific, found, cues)
            if lead is None:
                return None, _candidates_from(specific), None
            specific = [m for m in specific if m["centre_id"] == lead]
        place = max(specific, key=lambda m: cues[id(m)][0])
        premise = None
        for other in found + ambiguous:
            if other is place or other["status"] == "found" and other["centre_id"] == place["centre_id"]:
                continue
            counties = ({other["county_code"]} if other["status"] == "found"
                        else {c.get("county_code") for c in other["candidates"]})
            if place["county_code"] in counties:
                continue
            if other["kind"] in SPECIFIC_KINDS and not cues.get(id(other), (0, False))[1]:
                continue      # another kommun that merely came up ("född i Gävle"): nothing to correct
            premise = {"said": other["text"], "said_kind": _said_kind(other), "place": place_name(place),
                       "county": place["county"],
                       "centre_name": place["centre_name"]}
            break
        return place, [], premise
    if broad_found:
        centres = {m["centre_id"] for m in broad_found}
        if len(centres) == 1:
            return broad_found[0], [], None
        cues = _all_cues(text, broad_found, filming, tokens)
        lead = _leading_centre(broad_found, broad_found, cues)
        if lead is not None:
            return max((m for m in broad_found if m["centre_id"] == lead), key=lambda m: cues[id(m)][0]), [], None
        return None, _candidates_from(broad_found), None
    if ambiguous:
        if len(ambiguous) > 1:         # "Uppland, Roslagen": the län they share
            sets = [{c.get("county_code") for c in m["candidates"]} for m in ambiguous]
            common = set.intersection(*sets)
            cands = [c for c in ambiguous[0]["candidates"] if c.get("county_code") in common]
            if len({c.get("centre_id") for c in cands}) == 1 and cands:
                return _settled(ambiguous[0], cands[0]), [], None
            if cands:
                return None, cands, None
        cands = _candidates_from(ambiguous)
        if len({c.get("centre_id") for c in cands}) == 1 and cands:
            return _settled(ambiguous[0], cands[0]), [], None
        return None, cands, None
    return None, [], None


_COORDINATED = re.compile(r"^[\s,&/+]*(?:och|samt|and|eller|or|resp|respektive)?[\s,&/+]*$")
# "bor halva veckan i Karlstad och halva i Örebro": a parallel phrase without a cue of its own
_PARALLEL = re.compile(r"^[\s,]*(?:och|samt|and|men|but)\b(?: \w+){0,3} (?:i|pa|in)\s*$")


# After the place asked about: "Sala ligger väl i ...", "Habo hör till ...", "Nordanstig räknas till ..."
# (right after the name, nothing between: in "Sundsvall – räknas vi ..." the subject is "vi")
SUBJECT_OF_BELONGING = re.compile(r"^\s+(?:kommun\s+)?(?:ligger|hör|hor|hörde|räknas|raknas|tillhör|tillhor|"
                                  r"tillhörde|gränsar|gransar|belongs|is part|lies)\b", re.IGNORECASE)


def _all_cues(text: str, mentions: Sequence[Dict[str, Any]], filming: bool,
              tokens: Optional[Sequence[Token]] = None) -> Dict[int, Tuple[float, bool]]:
    """place_cues for each mention; places joined by "och"/"eller"/a comma share the cue of the first
    ("My friends live in Gävle and Uppsala")."""
    cues: Dict[int, Tuple[float, bool]] = {}
    ordered = sorted((m for m in mentions if m.get("span")), key=lambda m: m["span"][0])
    prev = None
    for m in ordered:
        score = place_cues(text, m, filming, tokens)
        if m.get("kind") in SPECIFIC_KINDS and SUBJECT_OF_BELONGING.match(text[m["span"][1]:]):
            score = (score[0] + 2, score[1])   # "habo ligger i skaraborg, alltså VGR?": Habo is asked about
        if prev is not None:
            between = fold(text[prev["span"][1]:m["span"][0]])
            if _COORDINATED.match(between) or (score == (0.0, False) and _PARALLEL.match(between)):
                score = cues[id(prev)]
        cues[id(m)] = score
        prev = m
    for m in mentions:
        cues.setdefault(id(m), (0.0, False))
    return cues


def _settled(mention: Dict[str, Any], cand: Dict[str, Any]) -> Dict[str, Any]:
    return dict(mention, status="found", county_code=cand.get("county_code"), county=cand.get("county"),
                centre_id=cand.get("centre_id"), centre_name=cand.get("centre_name"))


def _leading_centre(candidates: Sequence[Dict[str, Any]], found: Sequence[Dict[str, Any]],
                    cues: Dict[int, Tuple[float, bool]]) -> Optional[str]:
    """The centre whose places clearly lead: best cue score, +1 for each further mention of the same
    centre, +0.5 for the first place named. None when no centre leads by at least 1."""
    first = min(found, key=lambda m: m["span"][0] if m.get("span") else 0)
    scores: Dict[str, float] = {}
    for cid in {m["centre_id"] for m in candidates}:
        own = [m for m in found if m["centre_id"] == cid]
        best = max(cues[id(m)][0] for m in own)
        further = sum(1 for m in own if not cues[id(m)][1]) - 1      # a premise's places add nothing
        scores[cid] = best + max(0, further) + (0.5 if first["centre_id"] == cid else 0.0)
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    if len(ranked) > 1 and ranked[0][1] - ranked[1][1] < 1:
        return None
    return ranked[0][0]


# ---------------------------------------------------------------------------------------------------
# The decision

def _classifier_top(ranking: Sequence[Dict[str, Any]]) -> Tuple[Optional[str], float]:
    for r in ranking or []:
        name = r.get("name")
        if name and name != FALLBACK:
            return name, float(r.get("confidence") or 0.0)
    return None, 0.0


def _confidence_of(ranking: Sequence[Dict[str, Any]], name: str) -> float:
    for r in ranking or []:
        if r.get("name") == name:
            return float(r.get("confidence") or 0.0)
    return 0.0


def _best_except(ranking: Sequence[Dict[str, Any]], excluded: Iterable[str]) -> Tuple[Optional[str], float]:
    excluded = set(excluded)
    for r in ranking or []:
        if r.get("name") and r["name"] not in excluded:
            return r["name"], float(r.get("confidence") or 0.0)
    return None, 0.0


@dataclass
class _Words:
    """What a message's own words say: places, centres named, facets, topic words and film context."""
    text: str
    tokens: List[Token]
    folded: str
    mentions: List[Dict[str, Any]]
    centres: List[CentreMention]
    facets: List[str]                      # the facets asked, [] for a need that is not film
    facet_spans: List[Tuple[int, int]]
    unfaceted: str                         # the folded text with the facets' words blanked
    topics: List[str]
    topic: Optional[str]
    non_film_need: bool
    film: bool


def _centres_and_places(text: str, tokens: Sequence[Token], registry: Any
                        ) -> Tuple[List[CentreMention], List[Dict[str, Any]]]:
    """Centres named (by name, or as "filmcentret i X") and every place mention outside the names, as JSON."""
    centres = find_centres(text, registry, tokens)
    mentions = [_mention_json(m) for m in _places(text, registry, [c.span for c in centres], tokens)]
    centres = sorted(centres + _centres_by_place(text, mentions, tokens), key=lambda c: c.span[0])
    return centres, mentions


def _facets_and_topics(folded: str) -> Tuple[List[str], List[Tuple[int, int]], str, List[str]]:
    """(facets, their spans, the text without them, topic kinds named outside them or as a kind of film inside)."""
    # The facet's words ("hur söker man", "deadline", "mejla") are not topic words: masked for the topics.
    facets, facet_spans = find_facets(folded)
    unfaceted = mask(folded, facet_spans)
    topics = find_topics(NOT_FILM_THINGS.sub(" ", unfaceted))     # "biogas" names no screening
    # a kind of film inside a facet's words ("kan jag få stöd till en kortfilm från ...") is still the topic
    topics += [k for a, b in facet_spans for k in find_topics(folded[a:b])
               if k not in topics and k not in FACET_TOPIC_WORDS]
    return facets, facet_spans, unfaceted, topics


def _read(text: str, tokens: List[Token], folded: str, registry: Any) -> _Words:
    """The registry's and the word lists' evidence in one message (tokenised and folded once)."""
    centres, mentions = _centres_and_places(text, tokens, registry)
    facets, facet_spans, unfaceted, topics = _facets_and_topics(folded)
    topic = choose_topic(topics)
    non_film_need = bool(NON_FILM_NEEDS.search(folded))
    if "equipment_loan" in topics and _renting_no_film(folded):
        topics.remove("equipment_loan")
        topic = choose_topic(topics)
        non_film_need = True
    if NOT_FILM_THINGS.search(folded):
        non_film_need = True
    if non_film_need and not centres and not _strong_film_words(folded):
        # a need that is not film, and no film word strong enough to make it one: topic words ("barn",
        # "premiär") and facets ("kostar") do not turn it into a film question
        topics, topic = [], None
    facets = facets if not non_film_need or centres else []
    film = bool(centres) or bool(topics) or _strong_film_words(folded, weak_ok=not non_film_need) or bool(facets)
    return _Words(text, tokens, folded, mentions, centres, facets, facet_spans, unfaceted, topics, topic,
                  non_film_need, film)


def _classifier_decision(ranking: Sequence[Dict[str, Any]], intent: Optional[str]
                         ) -> Tuple[Decision, Optional[str], float, Optional[str]]:
    """(the classifier's decision, its top intent and confidence, the NLU's intent) before any evidence."""
    top, conf = _classifier_top(ranking)
    if intent is None:
        intent = (ranking[0].get("name") if ranking else None) or top
    d = Decision(intent=intent or FALLBACK, confidence=conf if intent == top else 0.0, reason="classifier",
                 classifier_intent=top, classifier_confidence=conf)
    return d, top, conf, intent


class _Turn:
    """One message's decision in the making: the classifier's guess, the message's words, and the rules
    (module docstring) as methods, each returning the decision or None when it does not apply."""

    def __init__(self, d: Decision, words: _Words, ranking: Sequence[Dict[str, Any]], intent: Optional[str],
                 top: Optional[str], conf: float) -> None:
        self.d, self.w, self.ranking, self.intent, self.top, self.conf = d, words, ranking, intent, top, conf
        self.classifier_topic = INTENT_TOPICS.get(top) if top in TOPIC_INTENT_NAMES else None
        topic, topics = words.topic, words.topics
        # A sure classifier topic stands; when the message's own topic words say another topic, it must be surer.
        self.sure_topic = self.classifier_topic if (self.classifier_topic and conf >= SURE and (
            not topic or topic == self.classifier_topic or self.classifier_topic in topics
            or conf >= SURE_AGAINST_WORDS)) else None
        self.swedish = [m for m in words.mentions if m["status"] in ("found", "ambiguous")]
        self.foreign = [m for m in words.mentions if m["status"] == "foreign"]
        d.places = words.mentions
        d.facets = words.facets
        d.film = words.film
        d.belonging = bool(BELONGING.search(words.folded))
        d.each = bool(EACH_PLACE.search(words.folded))

    def decide(self, name: str, reason: str, confidence: Optional[float] = None) -> Decision:
        """Registry evidence decided `name`: at least EVIDENCE confident, or what the classifier gave it."""
        d = self.d
        d.intent, d.reason = name, reason
        d.confidence = confidence if confidence is not None else max(_confidence_of(self.ranking, name), EVIDENCE)
        return d

    def topic_intent(self, default: str) -> str:
        """The topic the visitor asks about: a sure classifier, else the topic words, else `default`."""
        if self.sure_topic:
            self.d.topic = self.sure_topic
            return self.top  # type: ignore[return-value]
        if self.w.topic:
            self.d.topic = self.w.topic
            return TOPIC_INTENTS[self.w.topic]
        if default in TOPIC_INTENT_NAMES:
            self.d.topic = INTENT_TOPICS[default]
        return default

    @functools.cached_property
    def picked(self) -> Tuple[Optional[Dict[str, Any]], List[Dict[str, Any]], Optional[Dict[str, Any]]]:
        """(deciding place, candidates, premise) among the Swedish places (pick_place)."""
        filming = "film_commission" in self.w.topics or self.classifier_topic == "film_commission"
        return pick_place(_by_centre_kind(self.w.folded, self.swedish), self.w.text, filming, self.w.tokens)

    def outside_sweden(self) -> Optional[Decision]:
        """2. A place outside Sweden and no Swedish place or centre: the bot covers Sweden's regions."""
        if self.foreign and not self.swedish and not self.w.centres:
            self.d.foreign = self.foreign[0]["text"]
            return self.decide("inform_place", "foreign_place")
        return None

    def centre_named(self) -> Optional[Decision]:
        """3. A centre named by its name answers, unless a specific place of another centre is named too."""
        if not self.w.centres:
            return None
        d, named, place = self.d, self.w.centres[0], self.picked[0]
        if place is not None and place.get("centre_id") and place["centre_id"] != named.centre_id \
                and place["kind"] in SPECIFIC_KINDS and "eligibility" not in d.facets:
            # (who may apply to the centre named is asked of that centre, wherever the visitor lives)
            d.place = place
            d.premise = {"said": named.text, "place": place_name(place), "county": place["county"],
                         "centre_name": place["centre_name"], "said_centre": True}
            return self.decide(self.topic_intent("inform_place"), "place_over_centre_name")
        d.centre = named.to_json()
        if place is not None and place.get("centre_id") == named.centre_id:
            d.place = place
        # "Vad erbjuder Film i Sörmland?" asks for the overview; "och Film i Skåne då?" keeps the topic
        default = "which_centre" if OVERVIEW_QUESTION.search(self.w.folded) else "inform_place"
        return self.decide(self.topic_intent(default), "centre_named")

    def swedish_places(self) -> Optional[Decision]:
        """4. Swedish places: the most specific decides; film context, the place alone, or out of scope."""
        if not self.swedish:
            return None
        d, w, top, conf = self.d, self.w, self.top, self.conf
        place, candidates, premise = self.picked
        d.place, d.candidates, d.premise = place, candidates, premise
        if top == "national_funding" and conf >= SURE:
            if not (w.topic and place is not None and place.get("status") == "found" and place.get("centre_id")):
                return self.decide(top, "classifier_national")
            # "vem finansierar dokumentärer i Ödeshög?": the place's centre on the topic, the national
            # pointer after it
            d.national = True
        if w.film:
            # no topic word: the classifier's topic intent if it has one on top, else "a place"
            default = top if top in TOPIC_INTENT_NAMES and conf >= WEAK_TOPIC else "inform_place"
            return self.decide(self.topic_intent(default), "place_with_film_context")
        non_film = w.non_film_need
        if not non_film and top in PLACE_INTENTS and conf >= SURE and top != "inform_place":
            return self.decide(self.topic_intent("inform_place"), "place_classifier_sure")
        spans = [tuple(m["span"]) for m in w.mentions if m["span"]]
        residual = residual_words(w.text, spans, w.tokens)
        if not non_film and (not residual or len(self.swedish) > 1):
            # the place alone, a follow-up, or a question about where a place belongs
            return self.decide(self.topic_intent("inform_place"), "place_only")
        if not non_film and top in PLACE_INTENTS and conf >= SURE_WITHOUT_FILM_WORDS:
            return self.decide(self.topic_intent(top), "place_classifier")  # type: ignore[arg-type]
        # In a conversation about film this may still be a follow-up ("och om vi bor i Enköping
        # istället?"); action_out_of_scope decides that from the slots unless the need is clearly not film.
        d.out_of_scope, d.non_film_need = True, non_film
        return self.decide("out_of_scope", "place_without_film_need")

    def about_the_association(self) -> Optional[Decision]:
        """The association itself, or funding asked of it or of the national funder."""
        d, w, folded = self.d, self.w, self.w.folded
        funding_facet = bool(set(d.facets) & {"apply", "amount", "eligibility", "intake"})
        if funding_facet and ASSOCIATION_AS_FUNDER.search(folded) and not w.centres:
            # "kan jag söka pengar direkt från Filmregionerna?": the centres fund, the association does not
            d.topic = w.topic if w.topic not in (None, "contact") else "production_funding"
            return self.decide(TOPIC_INTENTS[d.topic], "funding_from_the_association")
        if WHAT_IS_THE_ASSOCIATION.search(folded) and not w.centres and not w.mentions:
            # "vad är filmregionerna för nåt egentligen": the FAQ answer, whatever the classifier's confidence
            d.faq = "what_is"
            return self.decide("faq", "what_is_the_association")
        furthest = [key for key, rx in FURTHEST.items() if rx.search(folded)]
        if len(furthest) == 1 and CENTRE_WORDS.search(folded) and not w.centres and not w.mentions:
            # "which film region is the most northerly?": the FAQ answer, not a centre for a place
            d.faq = furthest[0]
            return self.decide("faq", "furthest_centre")
        if "organisation" in d.facets and THE_ASSOCIATION.search(folded) and not w.centres:
            # "Is Filmregionerna a company?", "är Filmregionerna en myndighet?": what the association is
            d.faq = "what_is"
            return self.decide("faq", "association_organisation")
        if funding_facet and NATIONAL_FUNDER.search(folded) and not w.centres:
            # "how do I apply to the Swedish Film Institute?": the national funder, not a centre's offer
            return self.decide("national_funding", "facet_of_the_national_funder")
        return None

    def facet_question(self) -> Optional[Decision]:
        """A facet of the offer or centre already talked about ("och hur söker man?")."""
        d, w = self.d, self.w
        if not d.facets or ASSOCIATION_WORDS.search(w.unfaceted) or THE_ASSOCIATION.search(w.folded):
            return None
        # "hur mycket kan man få då?", "och hur söker man?", "måste man ha bolag?": a facet of the offer or
        # centre already talked about (the dialogue keeps its place and topic); the topic only from the
        # message's own words, not from a classifier trained on whole questions
        d.topic = w.topic if w.topic != "contact" else None
        if d.topic is None and set(d.facets) & {"apply", "amount", "eligibility", "intake"} and any(
                MONEY_WORDS.search(w.folded[a:b]) for a, b in w.facet_spans):
            # "hur mycket pengar kan man söka för en film?": funding in general, unless the conversation
            # has a topic of its own (dialogue.topic_of keeps that one)
            return self.decide("ask_production_funding", "facet_of_funding")
        if d.topic is None and d.facets == ["contact"]:
            # "kontaktuppgifter tack", "how can I reach you?": whom to contact (the centre talked about, if any)
            return self.decide("ask_contact", "contact_question")
        return self.decide(TOPIC_INTENTS[d.topic] if d.topic else "inform_place", "facet_question")

    def same_place(self) -> Optional[Decision]:
        """"och jag med", "vad finns där?": the place already talked about."""
        folded = self.w.folded
        if ME_TOO.search(folded) and len(folded.split()) <= 5:
            return self.decide("inform_place", "same_place_as_before")
        if (DEICTIC_PLACE.search(folded) and (self.intent == FALLBACK or self.top in SMALL_TALK | {"out_of_scope"})
                and not self.w.topic):
            # "vad finns där?" after a place: the place already talked about, the topic kept
            return self.decide("inform_place", "place_from_context")
        return None

    def classifier_guarded(self) -> Decision:
        """5. No Swedish place or centre: the classifier decides, with guards on restarts, small talk and help."""
        d, w, top, conf, intent = self.d, self.w, self.top, self.conf, self.intent
        # Unknown place after a cue ("jag bor i Narnia") or nothing place-like: the classifier, with guards.
        if self.foreign:
            d.foreign = self.foreign[0]["text"]
        unknown = [m for m in w.mentions if m["status"] == "unknown"]
        if unknown:
            d.place = unknown[0]
        film_topic = w.film and w.topic
        if top == "start_over" or intent == "start_over":
            if RESTART_REQUEST.search(w.folded):
                return self.decide("start_over", "restart_requested", max(conf, EVIDENCE))
            # not a clear request: a film question goes on; anything else is asked first (action_start_over)
            if film_topic:
                return self.decide(self.topic_intent("which_centre"), "film_question_not_restart")
            return self.decide("start_over", "restart_unclear", conf)
        asks = "?" in w.text or bool(QUESTION_WORDS.search(w.folded))
        if top in ("help", "bot_challenge") and asks and film_topic:
            # "vad kan en 16-åring få hjälp med där?": a topic question, not "what can you do?"
            return self.decide(self.topic_intent("which_centre"), "topic_question_not_help")
        if top in ("goodbye", "thank", "greet") and asks and len(w.folded.split()) >= 4:
            if film_topic:
                return self.decide(self.topic_intent("which_centre"), "question_in_small_talk")
            other, oconf = _best_except(self.ranking, SMALL_TALK | {FALLBACK, "out_of_scope"})
            if other and oconf >= 0.15:
                return self.decide(other, "question_in_small_talk", max(oconf, 0.5))
        if (intent == FALLBACK or top == "out_of_scope" or (top in SMALL_TALK and conf < SURE)) and film_topic:
            return self.decide(self.topic_intent("which_centre"), "film_topic_words")
        if top == "faq" and film_topic and w.topic != "contact" and not ASSOCIATION_WORDS.search(w.folded):
            # "jag har aldrig sökt stöd förut, hur gör jag?" is a funding question, not one about the association
            return self.decide(self.topic_intent("which_centre"), "topic_question_not_faq")
        if intent == FALLBACK:
            d.reason = "fallback"
            d.confidence = conf
            return d
        if top in TOPIC_INTENT_NAMES:
            d.topic = INTENT_TOPICS[top]
        return d


def understand(text: Optional[str], ranking: Sequence[Dict[str, Any]] = (), intent: Optional[str] = None,
               registry: Any = None) -> Decision:
    """The decision for one message. ``ranking`` is the classifier's intent ranking (name, confidence),
    best first, possibly headed by nlu_fallback; ``intent`` the NLU's top intent name (nlu_fallback
    when the FallbackClassifier fired)."""
    text = text or ""
    d, top, conf, intent = _classifier_decision(ranking, intent)
    if not text.strip() or text.lstrip().startswith("/"):
        d.reason = "payload" if text.strip() else "empty"
        return d
    if registry is None:
        from bot.registry import get_registry
        registry = get_registry()
    tokens = tokenize(text)
    folded = " ".join(t.norm for t in tokens)
    turn = _Turn(d, _read(text, tokens, folded, registry), ranking, intent, top, conf)
    for rule in (turn.outside_sweden, turn.centre_named, turn.swedish_places, turn.about_the_association,
                 turn.facet_question, turn.same_place):
        decided = rule()
        if decided is not None:
            return decided
    return turn.classifier_guarded()
