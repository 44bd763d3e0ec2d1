#!/usr/bin/env python3
"""Convert the reference facts into our registry format (docs/ARCHITECTURE.md).

    .venv/bin/python scripts/import_reference.py ../shared/reference [-o registry/registry.yaml]

Reads centres.yaml and counties.yaml from the given folder plus scripts/import_reference_en.yaml
(English renderings of the offers) and scripts/place_words.yaml (demonyms and regional words, appended to
the ambiguous terms) and writes registry/registry.yaml. Re-running it overwrites the
file, so hand edits belong in the curated tables below (names, units, towns, ambiguous terms), not in
the generated YAML. Staff confirmations (`confirmed: {date, by}`, written by `python -m bot registry
confirm`) are kept: they are read from the file being replaced and put back on the same facts, matched by
centre id and the fact's stable key (bot.registry.fact_key: a fact whose text or source changed is another
fact). A confirmation older than the fact's new page date, or whose fact is gone, is dropped with a warning
(the fact needs checking again). Run `python -m bot registry check` afterwards.
"""
from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.registry import dump_registry, iter_fact_dicts, partial_date_bounds, read_raw  # noqa: E402
DEFAULT_OUT = ROOT / "registry" / "registry.yaml"
EN_FILE = Path(__file__).resolve().parent / "import_reference_en.yaml"
PLACE_WORDS_FILE = Path(__file__).resolve().parent / "place_words.yaml"
PLACE_WORD_KINDS = {"demonym", "region"}
MAX_ASK_BACK = 5     # the ambiguity question shows at most five buttons
CHECKED = dt.date(2026, 11, 25)

# ---------------------------------------------------------------- curated tables

# Current, short, readable names (the reference's names are long descriptions).
NAMES = {
    "region-stockholm-film": "Region Stockholm (filmkonsulenterna) / Film Stockholm AB",
    "region-uppsala-film": "Region Uppsala, filmverksamheten",
    "film-i-sormland": "Film i Sörmland",
    "film-i-ost": "Film i Öst",
    "region-jonkoping-film": "Region Jönköpings län, film",
    "filmregion-sydost": "Filmregion Sydost",
    "film-pa-gotland": "Film på Gotland",
    "film-i-skane": "Film i Skåne",
    "region-halland-film": "Region Halland, Kultur i Halland – film",
    "vastra-gotaland-film": "Västra Götalandsregionen (filmkonsulenterna) / Film i Väst",
    "region-varmland-film": "Region Värmland, kulturutveckling film",
    "film-i-orebro-lan": "Film i Örebro län",
    "film-vastmanland": "Film Västmanland",
    "film-i-dalarna": "Film i Dalarna",
    "kultur-gavleborg-film": "Kultur Gävleborg, film (Region Gävleborg)",
    "film-vasternorrland": "Film Västernorrland",
    "filmpool-jamtland": "Filmpool Jämtland",
    "film-i-vasterbotten": "Film i Västerbotten",
    "filmpool-nord": "Filmpool Nord",
}

# Where shortening also_known_as to "text before the first parenthesis" is not enough.
FORMER_NAMES = {
    "filmregion-sydost": ["Reaktor Sydost", "Filmik", "Film i Sydost"],
    "region-uppsala-film": ["Film i Uppland", "Landstinget i Uppsala län, filmverksamheten"],
}

# Names of what a centre runs (its pages say so): a visitor who names one asks about the centre.
RUNS = {
    # https://businessregionskane.com/sv/om-oss/arsrapport-2019/film-i-skane-arsrapport-2019
    "film-i-skane": ["Southern Sweden Film Commission", "Ystad Studios"],
}

# Split bodies: one unit per reference unit, in the reference's order.
UNITS = {
    "region-stockholm-film": [
        {"id": "region-stockholm-konsulenterna", "name": "Region Stockholm, filmkonsulenterna",
         "website": "https://www.regionstockholm.se",
         "topics": ["film_for_children_and_youth", "screenings_and_film_culture", "other",
                    "education_and_courses"]},
        {"id": "film-stockholm-ab", "name": "Film Stockholm AB", "website": "https://filmstockholm.se",
         "topics": ["production_funding", "short_film", "documentary", "feature", "talent_development",
                    "film_commission", "equipment_loan"]},
    ],
    "vastra-gotaland-film": [
        {"id": "vgr-filmkonsulenterna", "name": "Västra Götalandsregionen, filmkonsulenterna",
         "website": "https://www.vgregion.se",
         "topics": ["film_for_children_and_youth", "screenings_and_film_culture", "education_and_courses"]},
        {"id": "film-i-vast", "name": "Film i Väst AB", "website": "https://filmivast.se",
         "topics": ["production_funding", "short_film", "documentary", "feature", "talent_development",
                    "film_commission"]},
    ],
}

# Offer -> unit where routing by kind would be wrong: (centre id, offer index) -> unit id.
OFFER_UNIT_OVERRIDES = {
    ("vastra-gotaland-film", 2): "vgr-filmkonsulenterna",  # FilmCloud/Frame are the consultants' programmes
    ("vastra-gotaland-film", 9): "film-i-vast",            # Studio Fares (Film i Väst)
}

CENTRE_NOTES = {
    "region-halland-film": {
        "note_sv": "Filmresurscentrum drivs av Katrinebergs folkhögskola (Vessigebro) på uppdrag av Kultur i Halland; "
                   "stöden söks hos Region Halland.",
        "note_en": "The film resource centre is run by Katrinebergs folkhögskola (Vessigebro) on behalf of Kultur i "
                   "Halland; support is applied for at Region Halland.",
    },
    "region-stockholm-film": {
        "note_sv": "Sedan 2021 delat: barn och unga, visning och film i vården hos Region Stockholms filmkonsulenter; "
                   "samproduktion, talang och filmkommission hos Film Stockholm AB.",
        "note_en": "Split since 2021: children and youth, screenings and film in healthcare are with Region Stockholm's "
                   "film consultants; co-production, talent and film commission are with Film Stockholm AB.",
    },
    "vastra-gotaland-film": {
        "note_sv": "Två enheter: VGR:s filmkonsulenter (barn och unga, visning, kurser; arbetar inte med produktion) "
                   "och Film i Väst AB (samproduktion, talang, filmkommission).",
        "note_en": "Two bodies: the VGR film consultants (children and youth, screenings, courses; not production) "
                   "and Film i Väst AB (co-production, talent, film commission).",
    },
}

# related_bodies: reference name prefix -> topics concerned.
RELATED_TOPICS = {
    "Film Capital Stockholm": ["production_funding", "feature"],
    "Norrköpings filmfond": ["production_funding", "feature", "short_film", "documentary"],
    "Utredning om regional filmfond": ["feature"],
    "Filmfond Kalmar Öland": ["feature"],
    "Gotlands filmfond": ["feature"],
}

GENERAL_SOURCE_EXTRA = {
    "https://www.filminstitutet.se/sv/fa-kunskap-om-film/filmpedagogik/om-film-i-skolan/": {
        "topics": ["film_for_children_and_youth"],
        "note_en": "Swedish Film Institute: there are 19 regional film centres, and all of them work to increase "
                   "children's and young people's opportunities to experience and create with moving images "
                   "(school cinema, teacher training, regional selections for the November Festival). General "
                   "statement, not specific to one centre.",
    },
    "https://filmregionerna.se/om-oss/": {
        "topics": ["centre"],
        "note_en": "Nineteen regional film centres/resource centres that together cover all counties; organised "
                   "within a region, county council, publicly owned company or association.",
    },
}

# Reference short forms that would contradict the ambiguous list (Uppland is shared by 01 and 03).
DROP_SHORT_FORMS = {"03": {"Uppland"}}
EXTRA_SHORT_FORMS = {
    "04": ["Sörmlands län"],
    "14": ["VG-regionen"],
    "23": ["Region Jämtland Härjedalen"],
}

# Places people type that are not kommun names -> kommun code, or county code for regional names.
TOWNS = [
    # Stockholms län
    ("Sthlm", None, "01"), ("Södertörn", None, "01"), ("Stockholms skärgård", None, "01"),
    ("Åkersberga", "0117", None), ("Märsta", "0191", None), ("Gustavsberg", "0120", None),
    ("Sandhamn", "0120", None), ("Tumba", "0127", None), ("Handen", "0136", None), ("Kungsängen", "0139", None),
    ("Rimbo", "0188", None), ("Grisslehamn", "0188", None), ("Kista", "0180", None), ("Bromma", "0180", None),
    ("Saltsjöbaden", "0182", None),
    # Uppsala län
    ("Bålsta", "0305", None), ("Öregrund", "0382", None), ("Gimo", "0382", None), ("Skutskär", "0319", None),
    # Södermanlands län
    ("Mariefred", "0486", None), ("Torshälla", "0484", None), ("Vagnhärad", "0488", None),
    ("Malmköping", "0482", None),
    # Östergötlands län
    ("Skärblacka", "0581", None), ("Borensberg", "0583", None),
    # Jönköpings län
    ("Huskvarna", "0680", None), ("Gränna", "0680", None), ("Anderstorp", "0662", None),
    ("Skillingaryd", "0665", None), ("Höglandet", None, "06"),
    # Kronobergs, Kalmar, Blekinge län
    ("Åseda", "0760", None), ("Kosta", "0761", None), ("Orrefors", "0881", None), ("Färjestaden", "0840", None),
    ("Gamleby", "0883", None), ("Kallinge", "1081", None), ("Mörrum", "1082", None),
    # Gotlands län
    ("Visby", "0980", None), ("Fårö", "0980", None), ("Fårösund", "0980", None), ("Slite", "0980", None),
    ("Hemse", "0980", None), ("Klintehamn", "0980", None), ("Ljugarn", "0980", None),
    # Skåne län
    ("Österlen", None, "12"), ("Söderslätt", None, "12"), ("Bjäre", None, "12"), ("Bjärehalvön", None, "12"),
    ("Nordvästskåne", None, "12"), ("Kullen", "1284", None), ("Mölle", "1284", None), ("Arild", "1284", None),
    ("Torekov", "1278", None), ("Kivik", "1291", None), ("Brösarp", "1270", None), ("Skanör", "1233", None),
    ("Falsterbo", "1233", None), ("Höllviken", "1233", None), ("Åhus", "1290", None), ("Kåseberga", "1286", None),
    ("Löderup", "1286", None), ("Ven", "1282", None), ("Dalby", "1281", None), ("Södra Sandby", "1281", None),
    ("Bjärred", "1262", None),
    # Hallands län
    ("Tylösand", "1380", None), ("Onsala", "1384", None), ("Särö", "1384", None), ("Ullared", "1382", None),
    ("Vessigebro", "1382", None), ("Mellbystrand", "1381", None), ("Tvååker", "1383", None),
    # Västra Götalands län
    ("Gbg", "1480", None), ("Gothenburg", "1480", None), ("Trollywood", "1488", None),
    ("Smögen", "1427", None), ("Kungshamn", "1427", None), ("Hunnebostrand", "1427", None),
    ("Grebbestad", "1435", None), ("Fjällbacka", "1435", None), ("Marstrand", "1482", None),
    ("Skärhamn", "1419", None), ("Henån", "1421", None), ("Mollösund", "1421", None), ("Hönö", "1407", None),
    ("Mölnlycke", "1401", None), ("Landvetter", "1401", None), ("Kinna", "1463", None), ("Skene", "1463", None),
    ("Skaraborg", None, "14"), ("Sjuhärad", None, "14"), ("Fyrbodal", None, "14"),
    # Värmlands län
    ("Sysslebäck", "1737", None), ("Charlottenberg", "1730", None), ("Skoghall", "1761", None),
    # Örebro län
    ("Grythyttan", "1863", None), ("Kopparberg", "1864", None), ("Fjugesta", "1814", None), ("Frövi", "1885", None),
    # Västmanlands län
    ("Kolbäck", "1961", None), ("Virsbo", "1907", None),
    # Dalarnas län
    ("Sälen", "2023", None), ("Malung", "2023", None), ("Idre", "2039", None), ("Särna", "2039", None),
    ("Grövelsjön", "2039", None), ("Tällberg", "2029", None), ("Sollerön", "2062", None), ("Nusnäs", "2062", None),
    ("Grängesberg", "2085", None),
    # Gävleborgs län
    ("Järvsö", "2161", None), ("Edsbyn", "2121", None), ("Iggesund", "2184", None),
    # Västernorrlands län
    ("Höga kusten", None, "22"), ("Nordingrå", "2282", None), ("Docksta", "2282", None),
    ("Njurunda", "2281", None), ("Matfors", "2281", None), ("Husum", "2284", None),
    # Jämtlands län
    ("Storlien", "2321", None), ("Duved", "2321", None), ("Järpen", "2321", None), ("Vemdalen", "2361", None),
    ("Funäsdalen", "2361", None), ("Tänndalen", "2361", None), ("Lofsdalen", "2361", None),
    ("Ramundberget", "2361", None), ("Sveg", "2361", None), ("Hede", "2361", None), ("Svenstavik", "2326", None),
    ("Klövsjö", "2326", None), ("Hammarstrand", "2303", None), ("Frösön", "2380", None),
    # Västerbottens län
    ("Hemavan", "2421", None), ("Tärnaby", "2421", None), ("Ammarnäs", "2422", None), ("Saxnäs", "2462", None),
    ("Holmsund", "2480", None), ("Hörnefors", "2480", None), ("Byske", "2482", None), ("Bureå", "2482", None),
    # Norrbottens län
    ("Tornedalen", None, "25"), ("Malmfälten", None, "25"), ("Abisko", "2584", None), ("Björkliden", "2584", None),
    ("Riksgränsen", "2584", None), ("Jukkasjärvi", "2584", None), ("Nikkaluokta", "2584", None),
    ("Karesuando", "2584", None), ("Malmberget", "2523", None), ("Kvikkjokk", "2510", None),
    ("Porjus", "2510", None), ("Gammelstad", "2580", None), ("Råneå", "2580", None),
    # Nicknames, short forms and old spellings people write for a kommun's main town
    ("Ö-vik", "2284", None), ("Övik", "2284", None), ("Jkpg", "0680", None), ("Hbg", "1283", None),
    ("H-borg", "1283", None), ("Hälsingborg", "1283", None), ("Lkpg", "0580", None), ("Norrkpg", "0581", None),
    ("Götet", "1480", None), ("C-stad", "1290", None), ("Christianstad", "1290", None), ("Hudik", "2184", None),
    ("Gefle", "2180", None), ("Upsala", "0380", None), ("Eskils", "0484", None), ("Nkpg", "0581", None),
    ("Ume", "2480", None),
    # English names (exonyms)
    ("Scania", None, "12"), ("Gothland", None, "09"), ("Stockholm archipelago", None, "01"),
    ("High Coast", None, "22"), ("West Bothnia", None, "24"), ("Westrobothnia", None, "24"),
    ("North Bothnia", None, "25"), ("East Gothland", None, "05"), ("Ostrogothia", None, "05"),
]

NORRLAND = ["21", "22", "23", "24", "25"]
# term, kind, counties, default, reference term (for advice) or own advice
AMBIGUOUS = [
    ("Småland", "landskap", ["06", "07", "08"], None, "Småland"),
    ("Uppland", "landskap", ["03", "01"], None, "Uppland"),
    ("Roslagen", "region", ["01", "03"], None, "Roslagen"),
    ("Lappland", "landskap", ["24", "25"], None, "Lappland"),
    ("Lapland", "landskap", ["24", "25"], None, "Lappland"),
    ("Västerbotten", "landskap", ["24", "25"], "24", "Västerbotten / Norrbotten"),
    ("Norrbotten", "landskap", ["25", "24"], "25", "Västerbotten / Norrbotten"),
    ("Bergslagen", "region", ["18", "19", "20"], None, "Bergslagen"),
    ("Södermanland", "landskap", ["04", "01"], "04", "Södermanland / Sörmland"),
    ("Sörmland", "landskap", ["04", "01"], "04", "Södermanland / Sörmland"),
    ("Västmanland", "landskap", ["19", "18", "03"], "19", "Västmanland"),
    ("Västergötland", "landskap", ["14", "06"], "14",
     "Landskapet ligger till största delen i Västra Götalands län; Habo och Mullsjö ligger i Jönköpings län. "
     "Tolka som Västra Götaland om inget annat sägs."),
    ("Värmland", "landskap", ["17", "18"], "17",
     "Landskapet ligger till största delen i Värmlands län; Karlskoga och Degerfors ligger i Örebro län. "
     "Tolka som Värmlands län om inget annat sägs."),
    ("Ångermanland", "landskap", ["22", "24"], "22",
     "Landskapet ligger till största delen i Västernorrlands län; Nordmaling och Bjurholm ligger i "
     "Västerbottens län. Tolka som Västernorrland om inget annat sägs."),
    ("Norrland", "landsdel", NORRLAND, None,
     "Norrland omfattar fem län med var sin filmverksamhet (Gävleborg, Västernorrland, Jämtland, Västerbotten, "
     "Norrbotten). Fråga efter kommun eller län."),
    ("Svealand", "landsdel", ["01", "03", "04", "17", "18", "19", "20"], None,
     "Svealand omfattar sju län. Fråga efter kommun eller län."),
    ("Götaland", "landsdel", ["05", "06", "07", "08", "09", "10", "12", "13", "14"], None,
     "Götaland omfattar nio län. Fråga efter kommun eller län."),
    ("Mälardalen", "region", ["01", "03", "04", "18", "19"], None,
     "Mälardalen omfattar delar av fem län. Fråga efter kommun eller län."),
]

# ---------------------------------------------------------------- helpers

MONTHS = {m: i for i, m in enumerate(
    ["januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september", "oktober",
     "november", "december"], start=1)}
URL_RE = re.compile(r"https?://[^\s),;]+")


def parse_published(page_date) -> str | None:
    """The reference's free-text page_date -> ISO partial date, or None.

    "okänt ..." -> None; a leading YYYY-MM-DD / YYYY-MM wins; "april 2022" -> "2022-04"; otherwise the latest
    year outside parentheses (so ranges "2019/2020", "2018–2022" give the later year).
    """
    if page_date is None:
        return None
    text = str(page_date).strip()
    if not text or text.lower().startswith("okänt"):
        return None
    bare = re.sub(r"\([^)]*\)", " ", text)
    m = re.match(r"\s*(?:ca\s+)?(\d{4})-(\d{2})(?:-(\d{2}))?(?!\d)", bare)
    if m:
        y, mo, d = int(m.group(1)), int(m.group(2)), m.group(3)
        if d:
            return dt.date(y, mo, int(d)).isoformat()
        dt.date(y, mo, 1)
        return f"{y:04d}-{mo:02d}"
    m = re.search(r"\b(" + "|".join(MONTHS) + r")\s+(\d{4})\b", bare, re.IGNORECASE)
    if m:
        return f"{int(m.group(2)):04d}-{MONTHS[m.group(1).lower()]:02d}"
    years = re.findall(r"(?<!\d)((?:19|20)\d{2})(?!\d)", bare)
    return max(years) if years else None


def shorten(name: str) -> str:
    return re.sub(r"\s*\(.*$", "", name).strip()


def fact(src: dict, **fields) -> dict:
    """Common fact fields, copied from a reference entry."""
    out = dict(fields)
    if src.get("source"):
        out["source"] = src["source"]
    page_date = src.get("page_date")
    out["published"] = parse_published(page_date)
    if page_date is not None:
        out["date_note"] = str(page_date)
    out["checked"] = CHECKED
    if src.get("note") and "note" not in out:
        out["note"] = " ".join(str(src["note"]).split())
    out["unverified"] = bool(src.get("unverified", False))
    return out


def split_paren(value: str) -> tuple[str, str | None]:
    m = re.match(r"^(.*?)\s*\((.*)\)\s*$", value)
    return (m.group(1).strip(), m.group(2).strip()) if m else (value.strip(), None)


def general_contact(src: dict | None) -> dict | None:
    if not src:
        return None
    notes, out = [], {}
    if src.get("email"):
        m = re.search(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", src["email"])
        out["email"] = m.group(0)
        rest = split_paren(src["email"])[1]
        if rest:
            notes.append(f"e-post: {rest}")
    if src.get("phone"):
        phone, rest = split_paren(src["phone"])
        out["phone"] = phone
        if rest:
            notes.append(f"telefon: {rest}")
    if src.get("note"):
        notes.append(" ".join(str(src["note"]).split()))
    return fact(src, **out, **({"note": "; ".join(notes)} if notes else {}))


def website(src: dict) -> dict:
    """The reference's website value is free text: keep the first URL (as https), the rest as a note."""
    value = " ".join(str(src["value"]).split())
    url = URL_RE.search(value).group(0).rstrip(".")
    if url.startswith("http://"):
        url = "https://" + url[len("http://"):]
    notes = [value] if value != url else []
    if src.get("note"):
        notes.append(" ".join(str(src["note"]).split()))
    src = {k: v for k, v in src.items() if k != "note"}
    return fact(src, url=url, **({"note": " – ".join(notes)} if notes else {}))


# ---------------------------------------------------------------- conversion

def convert_centre(c: dict, county_codes: dict, en: dict) -> dict:
    cid = c["id"]
    former = FORMER_NAMES.get(cid) or [shorten(a) for a in c.get("also_known_as") or []]
    units_cfg = UNITS.get(cid)
    out = {
        "id": cid,
        "name": NAMES[cid],
        "former_names": former,
        **({"runs": RUNS[cid]} if cid in RUNS else {}),
        "organisation": fact(c["organisation"], value=c["organisation"]["value"], form=c["organisation"].get("form")),
        "counties": [county_codes[n] for n in c["counties"]],
        "counties_source": c.get("counties_source"),
    }
    seat = c.get("seat_city")
    if seat:
        out["seat"] = fact(seat, value=seat.get("value"))
    out["website"] = website(c["website"])
    out["general_contact"] = general_contact(c.get("general_contact"))
    out.update(CENTRE_NOTES.get(cid, {}))
    if units_cfg:
        ref_units = c.get("units") or []
        assert len(ref_units) == len(units_cfg), cid
        out["units"] = [
            {"id": cfg["id"], "name": cfg["name"], "role": ru["role"], "website": cfg["website"],
             "topics": cfg["topics"], **fact(ru)}
            for cfg, ru in zip(units_cfg, ref_units)
        ]
    en_texts = en.get(cid) or []
    if len(en_texts) != len(c["offers"]):
        print(f"warning: {cid}: {len(en_texts)} English texts for {len(c['offers'])} offers; text_en left out",
              file=sys.stderr)
        en_texts = [None] * len(c["offers"])
    offers = []
    for i, o in enumerate(c["offers"]):
        entry = {"kind": o["kind"]}
        if units_cfg:
            unit = OFFER_UNIT_OVERRIDES.get((cid, i)) or next(
                (u["id"] for u in units_cfg if o["kind"] in u["topics"]), None)
            if unit:
                entry["unit"] = unit
        entry["text_sv"] = " ".join(o["description_sv"].split())
        if en_texts[i]:
            entry["text_en"] = en_texts[i]
        offers.append({**entry, **fact(o)})
    out["offers"] = offers
    out["contacts"] = [fact(p, role=p["role"], name=p["name"]) for p in c.get("contacts") or []]
    related = []
    for rb in c.get("related_bodies") or []:
        topics = next((t for prefix, t in RELATED_TOPICS.items() if rb["name"].startswith(prefix)), [])
        related.append({"name": rb["name"], "note": " ".join(rb["note"].split()), "sources": rb["sources"],
                        "topics": topics, "checked": CHECKED})
    out["related_bodies"] = related
    out["sources"] = c.get("sources") or []
    out["confidence"] = {"level": c["confidence"]["level"], "reason": " ".join(c["confidence"]["reason"].split())}
    return out


def convert_county(k: dict) -> dict:
    code = str(k["lanskod"]).zfill(2)
    name = k["official_name"]
    stem = re.sub(r"\s+län$", "", name)
    if stem.endswith("s"):
        stem = stem[:-1]
    forms = []
    for f in [*k.get("short_forms", []), stem, k.get("region_body"), *EXTRA_SHORT_FORMS.get(code, [])]:
        if f and f not in forms and f not in DROP_SHORT_FORMS.get(code, set()):
            forms.append(f)
    kommuner = []
    for km in k["kommuner"]:
        kcode = str(km["code"]).zfill(4)
        if not kcode.startswith(code):
            raise SystemExit(f"kommun {km} does not belong to län {code}")
        kommuner.append({"code": kcode, "name": km["name"]})
    return {
        "code": code,
        "name": name,
        "short_forms": forms,
        "landskap": [ls["name"] for ls in k.get("landskap", [])],
        "seat": k.get("seat"),
        "region_body": k.get("region_body"),
        "letter": k.get("lansbokstav"),
        "other_local_terms": list(k.get("other_local_terms") or []),
        "centre": k["centre_id"],
        "kommuner": kommuner,
    }


def convert(ref_dir: Path) -> dict:
    centres_ref = yaml.safe_load((ref_dir / "centres.yaml").read_text(encoding="utf-8"))
    counties_ref = yaml.safe_load((ref_dir / "counties.yaml").read_text(encoding="utf-8"))
    en = yaml.safe_load(EN_FILE.read_text(encoding="utf-8")) or {}

    counties = [convert_county(k) for k in counties_ref["counties"]]
    county_codes = {k["name"]: k["code"] for k in counties}
    kommun_by_code = {km["code"]: km["name"] for k in counties for km in k["kommuner"]}
    kommun_names = {n.casefold() for n in kommun_by_code.values()}

    towns = []
    for name, kommun, county in TOWNS:
        if name.casefold() in kommun_names:
            raise SystemExit(f"town {name} is a kommun name")
        if kommun and kommun not in kommun_by_code:
            raise SystemExit(f"town {name}: unknown kommun {kommun}")
        towns.append({"name": name, "kommun": kommun} if kommun else {"name": name, "county": county})

    advice = {a["term"]: " ".join(a["advice"].split()) for a in counties_ref.get("ambiguous_terms", [])}
    ambiguous = []
    for term, kind, codes, default, ref_term in AMBIGUOUS:
        entry = {"term": term, "kind": kind, "counties": codes}
        if default:
            entry["default"] = default
        entry["advice_sv"] = advice.get(ref_term, ref_term)
        ambiguous.append(entry)
    ambiguous += place_words(ambiguous, counties, kommun_by_code, kommun_names,
                             {t["name"].casefold() for t in towns})

    general_sources = [
        {"url": g["url"], "note_sv": " ".join(g["note"].split()), **GENERAL_SOURCE_EXTRA.get(g["url"], {}),
         "checked": CHECKED}
        for g in centres_ref.get("general_sources", [])
    ]
    return {
        "schema_version": 1,
        "checked": CHECKED,
        "generated_from": "../shared/reference/centres.yaml, counties.yaml by scripts/import_reference.py",
        "filmregionerna": {
            "name": "Filmregionerna",
            "website": "https://filmregionerna.se",
            "source": "https://filmregionerna.se/om-oss/",
            "checked": CHECKED,
        },
        "general_sources": general_sources,
        "centres": [convert_centre(c, county_codes, en) for c in centres_ref["centres"]],
        "counties": counties,
        "towns": towns,
        "ambiguous": ambiguous,
    }


def place_words(curated: list, counties: list, kommun_by_code: dict, kommun_names: set, town_names: set,
                path: Path = PLACE_WORDS_FILE) -> list:
    """Ambiguous-list entries for the demonyms and regional words in scripts/place_words.yaml."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    by_term = {a["term"].casefold(): a for a in curated}
    county_codes = {k["code"] for k in counties}
    short_forms = {f.casefold(): k["code"] for k in counties for f in [k["name"], *k["short_forms"]]}
    out = []
    for i, w in enumerate(data.get("terms") or []):
        where = f"{path.name}: terms[{i}] ({w.get('term')})"
        unknown = set(w) - {"term", "kind", "counties", "default", "kommuner", "like", "advice_sv", "advice_en"}
        if unknown:
            raise SystemExit(f"{where}: unknown fields {sorted(unknown)}")
        term = str(w.get("term") or "").strip()
        if not term or w.get("kind") not in PLACE_WORD_KINDS:
            raise SystemExit(f"{where}: needs a term and kind one of {sorted(PLACE_WORD_KINDS)}")
        like = by_term.get(str(w["like"]).casefold()) if w.get("like") else None
        if w.get("like") and like is None:
            raise SystemExit(f"{where}: like: {w['like']!r} is not a curated ambiguous term")
        counties = [str(c) for c in (w.get("counties") or (like or {}).get("counties") or [])]
        default = w["default"] if "default" in w else (like or {}).get("default")
        kommuner = [str(k) for k in w.get("kommuner") or []]
        advice_sv = w.get("advice_sv") or (like or {}).get("advice_sv")
        if not counties or any(c not in county_codes for c in counties):
            raise SystemExit(f"{where}: counties {counties} must be known län codes")
        if len(counties) > MAX_ASK_BACK and not default:
            raise SystemExit(f"{where}: more than {MAX_ASK_BACK} candidate län")
        if default and str(default) not in counties:
            raise SystemExit(f"{where}: default {default} is not among its counties")
        for k in kommuner:
            if k not in kommun_by_code or k[:2] not in counties:
                raise SystemExit(f"{where}: kommun {k} is unknown or not in its counties")
        key = term.casefold()
        if key in kommun_names or key in town_names or key in by_term or key in short_forms:
            raise SystemExit(f"{where}: {term!r} is already a kommun, town, län short form or ambiguous term")
        entry = {"term": term, "kind": w["kind"], "counties": counties}
        if default:
            entry["default"] = str(default)
        if kommuner:
            entry["kommuner"] = kommuner
        if advice_sv:
            entry["advice_sv"] = " ".join(str(advice_sv).split())
        if w.get("advice_en"):
            entry["advice_en"] = " ".join(str(w["advice_en"]).split())
        by_term[key] = entry
        out.append(entry)
    return out


def merge_confirmations(data: dict, old: dict) -> tuple[int, list[str]]:
    """Put the confirmations of `old` (the registry being replaced) on the same facts of `data`.
    Returns (confirmations kept, one warning per confirmation dropped)."""
    new_facts = {(c.get("id"), key): fact
                 for c in data.get("centres") or [] for _, key, _, fact in iter_fact_dicts(c)}
    kept, dropped = 0, []
    for c in (old or {}).get("centres") or []:
        if not isinstance(c, dict):
            continue
        for _, key, where, fact in iter_fact_dicts(c):
            confirmed = fact.get("confirmed")
            if confirmed is None:
                continue
            label = f"{c.get('id')}: {where} ({key})"
            target = new_facts.get((c.get("id"), key))
            if not isinstance(confirmed, dict) or not isinstance(confirmed.get("date"), dt.date):
                dropped.append(f"{label}: confirmation dropped: not {{date: YYYY-MM-DD, by: NAME}}: {confirmed!r}")
            elif target is None:
                dropped.append(f"{label}: confirmation of {confirmed['date']} dropped: the fact changed or is gone")
            elif not target.get("source"):
                dropped.append(f"{label}: confirmation of {confirmed['date']} dropped: the fact has no source now")
            elif target.get("published") and confirmed["date"] < partial_date_bounds(str(target["published"]))[0]:
                dropped.append(f"{label}: confirmation of {confirmed['date']} dropped: the page is dated "
                               f"{target['published']}, after it")
            else:
                target["confirmed"] = {"date": confirmed["date"], "by": confirmed.get("by")}
                kept += 1
    return kept, dropped


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("reference", type=Path, help="folder with centres.yaml and counties.yaml")
    ap.add_argument("-o", "--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--discard-confirmations", action="store_true",
                    help="do not carry over the staff confirmations of the file being replaced")
    args = ap.parse_args(argv)
    data = convert(args.reference)
    kept, dropped = 0, []
    if args.out.exists() and not args.discard_confirmations:
        try:
            old = read_raw(args.out.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise SystemExit(f"cannot read the confirmations in {args.out} ({exc}); fix the file, or pass "
                             f"--discard-confirmations to drop them") from None
        kept, dropped = merge_confirmations(data, old if isinstance(old, dict) else {})
    for warning in dropped:
        print(f"warning: {warning}", file=sys.stderr)
    header = ("# Generated by scripts/import_reference.py from the reference folder; edit the curated tables in the\n"
              "# script (or the reference) and re-run rather than editing by hand. Format: docs/ARCHITECTURE.md.\n")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(dump_registry(data, header), encoding="utf-8")
    n_offers = sum(len(c["offers"]) for c in data["centres"])
    print(f"wrote {args.out}: {len(data['centres'])} centres, {len(data['counties'])} län, "
          f"{sum(len(k['kommuner']) for k in data['counties'])} kommuner, {len(data['towns'])} towns, {n_offers} offers, "
          f"{kept} confirmations kept" + (f", {len(dropped)} dropped" if dropped else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
