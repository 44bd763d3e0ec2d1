"""End-to-end conversation cases (tests/conversations/cases_*.yaml, format: tests/conversations/run_eval.py).

Structure (no server): enough cases, languages and multi-turn cases; unique ids; the harness's dry-run
validation; every centre asked for by name; >= 200 annotated kommuner that the visitor text really mentions.
Independence: no case turn is (nearly) a training example of data/nlu.yml.
End to end (session `stack`: real action server + Rasa): every case over REST, reports in
var/conversations-report.{json,md}, and the bars: pass rate >= 97 %, single_place = 100 %, wrong_centre = 0,
oos_naming_centre = 0. Failure messages carry each failing conversation, so a CI log is enough to debug.

$FILMBOT_CONVERSATION_CASES (os.pathsep-separated files) replaces the cases_*.yaml glob, e.g. to try a
scratch file.
"""
from __future__ import annotations

import re
import time
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import yaml

from conversations import harness
from conversations import run_eval as ev

ROOT = Path(__file__).resolve().parent.parent
TRAIN = ROOT / "data" / "nlu.yml"

MIN_CASES, MIN_SV, MIN_EN, MIN_MULTI = 400, 320, 50, 60
MIN_KOMMUNER = 200
NEAR_DUPLICATE = 95  # rapidfuzz fuzz.ratio
# Categories whose point is that the place is not written as in the registry ("kristianstadt", "umebor"):
# there an annotated kommun may also appear as a near spelling (see _near_spelling).
LENIENT_CATEGORIES = {"typos", "demonym"}


@pytest.fixture(scope="module")
def loaded():
    files = harness.case_files()
    if not files:
        pytest.fail(f"no case files: tests/conversations/cases_*.yaml (or ${harness.CASES_ENV}) is empty")
    cases, sources = harness.load(files)
    return cases, sources, files


@pytest.fixture(scope="module")
def cases(loaded):
    return [c for c in loaded[0] if isinstance(c, dict)]


@pytest.fixture(scope="module")
def markers():
    return harness.load_markers()


def _check(ok: bool, message) -> None:
    """Fail with just the message (no code listing): the message itself carries the failing cases."""
    if not ok:
        pytest.fail(message() if callable(message) else message, pytrace=False)


def _where(case: dict, sources: dict) -> str:
    return f"{case.get('id')} ({sources.get(str(case.get('id')), '?')})"


def _turns(case: dict) -> list:
    turns = case.get("turns")
    return [t for t in turns if isinstance(t, str)] if isinstance(turns, list) else []


# --------------------------------------------------------------------------- structure
def test_counts(cases):
    n_sv = sum(c.get("lang") == "sv" for c in cases)
    n_en = sum(c.get("lang") == "en" for c in cases)
    n_multi = sum(len(_turns(c)) >= 2 for c in cases)
    short = [f"{what}: {have} < {need}" for what, have, need in (
        ("cases", len(cases), MIN_CASES), ("lang sv", n_sv, MIN_SV), ("lang en", n_en, MIN_EN),
        ("cases with >= 2 turns", n_multi, MIN_MULTI)) if have < need]
    per_cat = Counter(c.get("category") for c in cases)
    _check(not short, "too few conversation cases: " + "; ".join(short)
           + f" (per category: {dict(sorted(per_cat.items(), key=str))})")


def test_ids_unique(loaded):
    cases, _, files = loaded
    seen = defaultdict(list)
    for (case, src) in zip(*ev.load_case_files([str(f) for f in files])):
        if isinstance(case, dict):
            seen[case.get("id")].append(Path(src).name)
    dups = {k: v for k, v in seen.items() if len(v) > 1}
    _check(not dups, "duplicate case ids: " + "; ".join(f"{k} in {', '.join(v)}" for k, v in dups.items()))


def test_dry_run_validation(cases, markers):
    m, names, neutral = markers
    result = ev.validate(cases, m, names, neutral)
    _check(not result["errors"], "run_eval dry-run errors:\n" + "\n".join(result["errors"]))


def _folded_mentions(text_folded: str, term_folded: str) -> bool:
    """term (folded) in text (folded) as whole words; a Swedish genitive/definite/compound or demonym
    ending after it is allowed ("Göteborgs", "Stockholmsområdet", "Sundsvallsbo", "Göteborgare",
    "Stockholmer", "umebor")."""
    if not term_folded:
        return False
    stem = re.escape(term_folded)
    if len(term_folded) >= 4 and term_folded.endswith("a"):   # Umeå -> umebo, Luleå -> lulebor
        stem = f"(?:{stem}|{re.escape(term_folded[:-1])}(?=bo))"
    pattern = (r"(?<!\w)" + stem
               + r"(?:s?(?:bo|bor|borna|boende|are|arna|omradet|trakten|regionen)|s|n|en|ens|et|ets|ns|er|ers)?"
               r"(?!\w)")
    return re.search(pattern, text_folded) is not None


def _centre_terms(markers) -> dict:
    """centre id -> strings that name it: markers.yaml markers and names, registry name, former names
    and unit names."""
    from bot.registry import get_registry

    m, names, _ = markers
    terms = {cid: list(m[cid]) + list(names.get(cid, [])) for cid in m}
    for centre in get_registry().centres:
        extra = [centre.name] + list(centre.former_names or []) + [u.name for u in centre.units or []]
        terms.setdefault(centre.id, []).extend(extra)
    return terms


def test_every_centre_asked_for_by_name(cases, markers):
    from bot.text import fold

    terms = _centre_terms(markers)
    by_name = [c for c in cases if c.get("category") == "centre_by_name"]
    covered = defaultdict(list)
    for case in by_name:
        text = " ".join(_turns(case))
        norm, folded = ev.normalise(text), fold(text)
        for cid, ts in terms.items():
            if any(ev.marker_in(norm, t) or _folded_mentions(folded, fold(t)) for t in ts):
                covered[cid].append(case["id"])
    from bot.registry import get_registry

    missing = [c.id for c in get_registry().centres if not covered.get(c.id)]
    assert len(get_registry().centres) == 19
    _check(not missing, (f"{len(missing)} of 19 centres are named in no `centre_by_name` case "
                         f"({len(by_name)} such cases): {', '.join(missing)}"))


def _near_spelling(text_folded: str, term_folded: str) -> bool:
    """Some run of as many words as the term, or its start (demonyms: "umebor", "härjedaling"), is within
    OSA distance 1 (terms of 5 letters) or 2 (6+) of the term; terms of <= 4 letters must match exactly."""
    from rapidfuzz.distance import OSA

    if len(term_folded) <= 4:
        return False
    limit = 1 if len(term_folded) == 5 else 2
    words = re.findall(r"\w+", text_folded)
    n = len(term_folded.split())
    for i in range(len(words) - n + 1):
        window = " ".join(words[i:i + n])
        if min(OSA.distance(term_folded, window), OSA.distance(term_folded, window[:len(term_folded)])) <= limit:
            return True
    return False


def _kommun_index():
    from bot.registry import get_registry
    from bot.text import casefold_keep, fold

    reg = get_registry()
    # exact spelling first: Håbo and Habo fold to the same key
    by_name = {casefold_keep(k.name): k for k in reg.kommuner}
    for k in reg.kommuner:
        by_name.setdefault(fold(k.name), k)
    towns = defaultdict(list)
    for t in reg.towns:
        if t.kommun:
            towns[t.kommun].append(t.name)
    return reg, by_name, towns


def _resolve_kommun(value, reg, by_name):
    """A `kommun` value: a code ("2062") or a name ("Mora", "Mora kommun"), exact spelling before folded."""
    from bot.text import casefold_keep, fold

    s = str(value).strip()
    if re.fullmatch(r"\d{1,4}", s):
        return reg.kommun(s)
    for form in (casefold_keep, fold):
        key = form(s)
        hit = by_name.get(key) or by_name.get(re.sub(r"s? kommun$", "", key).strip())
        if hit:
            return hit
    return None


def test_kommun_annotations(cases, loaded):
    from bot.text import fold

    sources = loaded[1]
    reg, by_name, towns = _kommun_index()
    unknown, absent, codes = [], [], set()
    for case in cases:
        text = fold(" ".join(_turns(case)))
        for value in ev.as_list(case.get("kommun")):
            kommun = _resolve_kommun(value, reg, by_name)
            if kommun is None:
                unknown.append(f"{_where(case, sources)}: {value!r}")
                continue
            codes.add(kommun.code)
            spellings = [kommun.name] + towns.get(kommun.code, [])
            near = _near_spelling if case.get("category") in LENIENT_CATEGORIES else (lambda t, s: False)
            if not any(_folded_mentions(text, fold(s)) or near(text, fold(s)) for s in spellings):
                absent.append(f"{_where(case, sources)}: {kommun.name} (or {', '.join(spellings[1:]) or 'a town of it'})"
                              f" not in turns {_turns(case)}")
    problems = []
    if len(codes) < MIN_KOMMUNER:
        problems.append(f"only {len(codes)} distinct registry kommuner annotated (< {MIN_KOMMUNER})")
    if unknown:
        problems.append(f"{len(unknown)} `kommun` values are not kommuner of registry/registry.yaml:\n  "
                        + "\n  ".join(unknown))
    if absent:
        problems.append(f"{len(absent)} annotated kommuner do not appear in the visitor's turns:\n  "
                        + "\n  ".join(absent))
    _check(not problems, "\n".join(problems))


# --------------------------------------------------------------------------- independence
_ANNOTATION = re.compile(r"\[([^\]]+)\]\([^)]*\)|\[([^\]]+)\]\{[^}]*\}")


def normalise(text: str) -> str:
    """casefold, entity annotations -> their text, punctuation -> space, whitespace collapsed."""
    text = _ANNOTATION.sub(lambda m: m.group(1) or m.group(2), text)
    text = unicodedata.normalize("NFC", text).casefold()
    text = re.sub(r"[^\w\s]|_", " ", text)
    return " ".join(text.split())


def training_examples() -> list:
    """(intent, example) of every `examples: |` block of data/nlu.yml."""
    data = yaml.safe_load(TRAIN.read_text(encoding="utf-8"))
    out = []
    for block in data.get("nlu", []):
        name = block.get("intent") or block.get("synonym") or block.get("lookup") or block.get("regex")
        for line in str(block.get("examples") or "").splitlines():
            line = line.strip()
            if line.startswith("- "):
                out.append((name, line[2:].strip()))
    return out


def test_cases_independent_of_training_data(cases, loaded):
    from rapidfuzz import fuzz, process

    sources = loaded[1]
    train = training_examples()
    assert len(train) > 500, f"parsed only {len(train)} examples from {TRAIN}"
    train_norm = {}
    for intent, ex in train:
        train_norm.setdefault(normalise(ex), (intent, ex))
    train_keys = list(train_norm)
    turns = [(case, t, normalise(t)) for case in cases for t in _turns(case)]
    exact, near = [], []
    for case, t, n in turns:
        if n in train_norm:
            intent, ex = train_norm[n]
            exact.append(f"{_where(case, sources)}: {t!r} == training example {ex!r} ({intent})")
    scores = process.cdist([n for _, _, n in turns], train_keys, scorer=fuzz.ratio,
                           score_cutoff=NEAR_DUPLICATE, workers=-1)
    for i, j in zip(*scores.nonzero()):
        case, t, n = turns[i]
        if n == train_keys[j]:
            continue
        intent, ex = train_norm[train_keys[j]]
        near.append(f"{_where(case, sources)}: {t!r} ~ training example {ex!r} ({intent}), "
                    f"ratio {scores[i, j]:.0f}")
    msg = []
    if exact:
        msg.append(f"{len(exact)} case turns equal a data/nlu.yml example (after normalising):\n  "
                   + "\n  ".join(exact))
    if near:
        msg.append(f"{len(near)} case turns are near-duplicates (fuzz.ratio >= {NEAR_DUPLICATE}) of a "
                   "data/nlu.yml example:\n  " + "\n  ".join(near))
    _check(not msg, "\n".join(msg))


PLACE_SLOT = "zzplatszz"
# words that only say "this is where I am": "jag bor i X", "I'm in X" name a place the way anyone does
PLACE_CUES = {"jag", "vi", "bor", "i", "på", "från", "nej", "menade", "kommun", "län", "i", "i'm", "im", "m", "live",
              "in", "we", "from", "my", "the"}
_PLACE_ANNOTATION = re.compile(r"\[[^\]]+\]\(place\)|\[[^\]]+\]\{\"entity\": \"place\"[^}]*\}")


def frame(text: str, spans=()) -> str:
    """The sentence with its place left out: annotated places (training) or the given spans (a case turn)
    become one placeholder word, then normalise()."""
    for a, b in sorted(spans, reverse=True):
        text = text[:a] + " " + PLACE_SLOT + " " + text[b:]
    return normalise(_PLACE_ANNOTATION.sub(" " + PLACE_SLOT + " ", text))


def test_cases_do_not_repeat_a_training_sentence_with_another_place(cases, loaded):
    """"Finns det filmstöd i Helsingfors?" against the training example "finns det filmstöd i [Kalmar](place)?":
    the classifier has seen that sentence; only the place is new. Frames with fewer than two words besides the
    place and the place cues ("jag bor i X", "i X", "X?") are how anyone names a place and are not counted."""
    from bot.places import find_places

    sources = loaded[1]
    train = {}
    for intent, ex in training_examples():
        f = frame(ex)
        words = f.split()
        if PLACE_SLOT in words and len([w for w in words if w != PLACE_SLOT and w not in PLACE_CUES]) >= 2:
            train.setdefault(f, (intent, ex))
    same = []
    for case in cases:
        for t in _turns(case):
            spans = [m.span for m in find_places(t) if m.span and m.status in ("found", "ambiguous", "foreign")]
            f = frame(t, spans)
            if f in train:
                intent, ex = train[f]
                same.append(f"{_where(case, sources)}: {t!r} is training example {ex!r} ({intent}) with "
                            "another place")
    _check(not same, f"{len(same)} case turns repeat a data/nlu.yml sentence with another place:\n  "
           + "\n  ".join(same))


def test_the_frame_check_sees_a_place_swapped_sentence():
    assert frame("finns det filmstöd i [Kalmar](place)?") == frame("Finns det filmstöd i Helsingfors?", [(21, 32)])
    assert frame("jag bor i [Mora](place)") != frame("jag bor i Mora och vill filma", [(10, 14)])


def test_dialogue_test_stories_independent_of_training_data():
    """tests/test_stories.yml (rasa test) is a test set too: none of its visitor messages is a
    training example."""
    import re

    train = {normalise(ex): (intent, ex) for intent, ex in training_examples()}
    stories = yaml.safe_load((ROOT / "tests" / "test_stories.yml").read_text(encoding="utf-8"))["stories"]
    copied = []
    for story in stories:
        for step in story["steps"]:
            if "user" in step:
                text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", step["user"].strip())
                if normalise(text) in train:
                    copied.append(f"{story['story']}: {text!r} == {train[normalise(text)]}")
    assert not copied, "test_stories.yml messages that are training examples:\n  " + "\n  ".join(copied)


# --------------------------------------------------------------------------- end to end
@pytest.fixture(scope="module")
def conversation_run(request, cases, loaded, markers):
    """All cases against the session stack, once; writes var/conversations-report.{json,md}."""
    stack = request.getfixturevalue("stack")  # only started when there are cases to send
    sources, files = loaded[1], loaded[2]
    runnable = [c for c in cases if isinstance(c.get("id"), str) and _turns(c)]
    t0 = time.time()
    results = harness.run(stack.url, runnable, markers[0], workers=4)
    figs = harness.figures(runnable, results)
    meta = {"url": stack.url, "model": str(stack.model), "case_files": [harness.display_path(f) for f in files],
            "started": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(t0)),
            "duration_s": round(time.time() - t0, 1), "workers": 4}
    harness.write_reports(runnable, results, figs, sources, meta)
    print("\n" + "\n".join(harness.summary_lines(figs)))
    print(f"reports: {harness.JSON_REPORT}, {harness.MD_REPORT}")
    return {"cases": {c["id"]: c for c in runnable}, "results": results, "figures": figs,
            "sources": sources}


def _conversations(run, ids) -> str:
    ids = set(ids)
    blocks = [harness.format_case(run["cases"][r["id"]], r, run["sources"].get(r["id"]), max_chars=1500)
              for r in run["results"] if r["id"] in ids]
    return "\n\n".join(blocks) + f"\n(full report: {harness.MD_REPORT})"


def test_conversations_reachable(conversation_run):
    figs = conversation_run["figures"]
    _check(not figs["all_unreachable"], "the bot did not answer any case")


def test_conversation_pass_rate(conversation_run):
    figs = conversation_run["figures"]
    fails = harness.failing(conversation_run["results"])
    _check(figs["pass_rate"] is not None and figs["pass_rate"] >= harness.BARS["pass_rate"], lambda: (
        f"pass rate {figs['passed']}/{figs['total']} = {100 * (figs['pass_rate'] or 0):.1f} % < 97 %; "
        f"{len(fails)} failing cases:\n\n" + _conversations(conversation_run, [r["id"] for r in fails])))


def test_single_place_names_the_centre(conversation_run):
    sp = conversation_run["figures"]["single_place"]
    _check(sp["total"] > 0, "no case has a kommun/lan field and an expected centre")
    _check(sp["named"] == sp["total"], lambda: (
        f"single_place {sp['named']}/{sp['total']}: the last reply does not name the expected centre in "
        f"{len(sp['missed'])} cases:\n\n" + _conversations(conversation_run, sp["missed"])))


def test_no_wrong_centre(conversation_run):
    wrong = conversation_run["figures"]["wrong_centre"]
    _check(wrong["count"] == 0, lambda: (
        f"wrong_centre = {wrong['count']}: "
        + "; ".join(f"{c['id']} expects {'/'.join(c['expected'])} but names {', '.join(c['named'])}"
                    for c in wrong["cases"])
        + "\n\n" + _conversations(conversation_run, [c["id"] for c in wrong["cases"]])))


def test_out_of_scope_names_no_centre(conversation_run):
    oos = conversation_run["figures"]["oos_naming_centre"]
    _check(oos["count"] == 0, lambda: (
        f"oos_naming_centre = {oos['count']}: "
        + "; ".join(f"{c['id']} names {', '.join(c['named'])}" for c in oos["cases"])
        + "\n\n" + _conversations(conversation_run, [c["id"] for c in oos["cases"]])))


# --------------------------------------------------------------------------- facets (how to apply, amounts, ...)
FACET_FILE = "cases_facets.yaml"
FACET_CATEGORIES = ("facet_apply", "facet_amount", "facet_intake", "facet_eligibility", "facet_contact",
                    "facet_organisation")
MIN_FACET_CASES, MIN_FACET_EN, MIN_FACET_MULTI, MIN_CENTRES_PER_FACET = 150, 30, 50, 10
FACET_BAR = 0.95


def _facet_cases(cases, loaded):
    sources = loaded[1]
    return [c for c in cases if str(sources.get(str(c.get("id")), "")).endswith(FACET_FILE)]


def test_facet_set_shape(cases, loaded):
    """The facet set: enough cases, English ones, multi-turn ones whose last turn only asks the facet, and
    every facet asked of at least ten centres."""
    facet = _facet_cases(cases, loaded)
    per_facet = defaultdict(set)
    for c in facet:
        centre = (c.get("expect") or {}).get("centre")
        if centre:
            per_facet[c.get("category")].add(centre)
    short = [f"{what}: {have} < {need}" for what, have, need in (
        ("facet cases", len(facet), MIN_FACET_CASES),
        ("English facet cases", sum(c.get("lang") == "en" for c in facet), MIN_FACET_EN),
        ("multi-turn facet cases", sum(len(_turns(c)) >= 2 for c in facet), MIN_FACET_MULTI))
        if have < need]
    short += [f"{cat}: asked of {len(per_facet[cat])} centres < {MIN_CENTRES_PER_FACET}"
              for cat in FACET_CATEGORIES if len(per_facet[cat]) < MIN_CENTRES_PER_FACET]
    _check(not short, "; ".join(short))


def test_facet_pass_rate(conversation_run, cases, loaded):
    ids = {c["id"] for c in _facet_cases(cases, loaded)}
    results = [r for r in conversation_run["results"] if r["id"] in ids]
    passed = sum(r["passed"] for r in results)
    _check(results and passed / len(results) >= FACET_BAR, lambda: (
        f"facet set {passed}/{len(results)} = {100 * passed / max(1, len(results)):.1f} % < "
        f"{100 * FACET_BAR:.0f} %:\n\n" + _conversations(conversation_run,
                                                        [r["id"] for r in results if not r["passed"]])))


def test_no_reply_repeats_the_previous_one(conversation_run):
    """In every multi-turn case, no bot message is the bot's previous message word for word."""
    repeats = []
    for r in conversation_run["results"]:
        if len(r.get("turns") or []) < 2:
            continue
        previous = None
        for turn in r["turns"]:
            for text in turn.get("texts") or []:
                if previous is not None and text.strip() and text == previous:
                    repeats.append(r["id"])
                previous = text
    _check(not repeats, lambda: f"{len(repeats)} conversations where a reply repeats the previous one:\n\n"
           + _conversations(conversation_run, repeats))
