#!/usr/bin/env python3
"""End-to-end evaluation harness for the Filmregionerna FAQ bot (Rasa REST channel).

Vendored from ../shared/eval/run_eval.py so a clean checkout does not depend on ../shared. The matching
semantics (normalise, marker_in, centre_hits, needle_in, parse_reply, evaluate) are unchanged. Adaptations:
  * importable as a module: load_case_files() (several files, duplicate ids reported by validate()),
    score_case() (score one case's replies), named_centres(), validate() (dry-run without printing);
  * --cases may be given several times; the default is every cases_*.yaml next to this file;
  * the bookkeeping fields kommun / lan may be a string or a list (a string used to be iterated
    character by character in the coverage counts).
The project's test harness on top of this is tests/conversations/harness.py.

Usage:
  python3 run_eval.py --url http://localhost:5005            # run all cases
  python3 run_eval.py --only multi_turn --workers 8           # one category (comma list allowed)
  python3 run_eval.py --dry-run                               # validate cases + markers, no server

Each case is sent turn by turn to POST {url}/webhooks/rest/webhook with
{"sender": <unique id per case>, "message": <turn>}. The checks in `expect` are applied to
the LAST turn's reply: all message "text" fields plus all button titles, joined.

Checks (all listed checks must hold):
  centre:       markers of this centre id must appear
  centres_any:  markers of at least one of these centre ids must appear
  not_centres:  no marker of these centre ids may appear
  contains_any: at least one of these lowercase substrings must appear
                (an item starting with "re:" is a Python regex searched in the normalised reply)
  not_contains: none of these substrings/regexes may appear
  clarify:      the reply asks something: contains "?" or offers >= 2 buttons
  fallback:     the reply is non-empty and mentions no centre marker at all
  nonempty:     the reply has some text, a button, an image or a custom payload

Marker matching (see markers.yaml): lowercase substring with word boundaries, except that a
Swedish genitive "s" after the marker is allowed ("Film i Dalarnas").

Standard library only; PyYAML is used if installed, otherwise cases.json / markers.json next to
the given .yaml files are read. The last line printed is always `eval: P passed, F failed`
(or `dry-run: ...`). Exit code: 0, or 2 when the server was unreachable for every case;
--dry-run exits 1 when validation finds errors.
"""
from __future__ import annotations

import argparse
import glob
import json
import math
import os
import re
import socket
import sys
import threading
import time
import unicodedata
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

try:  # optional
    import yaml  # type: ignore
except Exception:  # pragma: no cover - depends on environment
    yaml = None

HERE = os.path.dirname(os.path.abspath(__file__))
CATEGORIES = [
    "place_resolution", "topic_routing", "general_faq", "multi_turn",
    "ambiguous_place", "out_of_scope", "english", "robustness",
]  # the usual order in reports; any lowercase category name is accepted
CATEGORY_RE = re.compile(r"^[a-z][a-z0-9_]*$")
EXPECT_KEYS = {"centre", "centres_any", "not_centres", "contains_any", "not_contains",
               "clarify", "fallback", "nonempty"}
CASE_KEYS = {"id", "lang", "category", "turns", "expect", "kommun", "lan", "note"}
ZERO_WIDTH = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
WS = re.compile(r"\s+")


# --------------------------------------------------------------------------- loading
def load_data(path: str):
    """Load YAML (if PyYAML is available) or the JSON twin of the file."""
    base, ext = os.path.splitext(path)
    if ext.lower() == ".json":
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    if yaml is not None and os.path.exists(path):
        with open(path, encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    alt = base + ".json"
    if os.path.exists(alt):
        with open(alt, encoding="utf-8") as fh:
            return json.load(fh)
    if yaml is None:
        raise SystemExit(f"cannot read {path}: PyYAML is not installed and {alt} does not exist")
    raise SystemExit(f"cannot read {path}: file not found")


def load_cases(path: str) -> list:
    data = load_data(path)
    if isinstance(data, dict):
        data = data.get("cases", [])
    if not isinstance(data, list):
        raise SystemExit(f"{path}: expected a list of cases (or a mapping with 'cases')")
    return data


def default_case_files() -> list:
    """Every cases_*.yaml next to this file, sorted."""
    return sorted(glob.glob(os.path.join(HERE, "cases_*.yaml")))


def load_case_files(paths) -> tuple:
    """Cases of several files, in file order. Returns (cases, sources): sources[i] is the file of cases[i]."""
    cases, sources = [], []
    for path in paths:
        loaded = load_cases(path)
        cases.extend(loaded)
        sources.extend([path] * len(loaded))
    return cases, sources


def as_list(value) -> list:
    """A bookkeeping field (kommun, lan) as a list: None -> [], "x" -> ["x"]."""
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def load_markers(path: str):
    data = load_data(path)
    centres = data.get("centres", {}) if isinstance(data, dict) else {}
    markers = {cid: [str(m) for m in (spec or {}).get("markers", [])] for cid, spec in centres.items()}
    names = {cid: [str(n) for n in (spec or {}).get("names", [])] for cid, spec in centres.items()}
    neutral = []
    np_ = data.get("neutral_phrases", []) if isinstance(data, dict) else []
    if isinstance(np_, dict):
        for v in np_.values():
            neutral.extend(str(x) for x in v)
    else:
        neutral.extend(str(x) for x in np_)
    return markers, names, neutral


# --------------------------------------------------------------------------- matching
def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "")
    text = ZERO_WIDTH.sub("", text).lower()
    return WS.sub(" ", text).strip()


def marker_in(text: str, marker: str) -> bool:
    """Boundary-aware substring match on normalised text (see module docstring)."""
    m = normalise(marker)
    if not m:
        return False
    start = 0
    n = len(text)
    while True:
        i = text.find(m, start)
        if i < 0:
            return False
        j = i + len(m)
        left_ok = not (m[0].isalnum() and i > 0 and text[i - 1].isalnum())
        right_ok = True
        if m[-1].isalnum() and j < n and text[j].isalnum():
            right_ok = text[j] == "s" and (j + 1 >= n or not text[j + 1].isalnum())
        if left_ok and right_ok:
            return True
        start = i + 1


def centre_hits(text: str, markers: dict, cid: str) -> list:
    return [m for m in markers.get(cid, []) if marker_in(text, m)]


def named_centres(text: str, markers: dict) -> list:
    """Centre ids (markers order) with at least one marker in the normalised text."""
    return [c for c in markers if centre_hits(text, markers, c)]


def needle_in(text: str, needle: str) -> bool:
    if needle.startswith("re:"):
        return re.search(needle[3:], text) is not None
    return normalise(needle) in text


# --------------------------------------------------------------------------- replies
def parse_reply(messages) -> dict:
    texts, buttons = [], []
    has_other = False
    for msg in messages or []:
        if not isinstance(msg, dict):
            continue
        t = msg.get("text")
        if isinstance(t, str) and t.strip():
            texts.append(t)
        for b in msg.get("buttons") or []:
            if isinstance(b, dict):
                buttons.append(str(b.get("title") or b.get("payload") or ""))
        if msg.get("image") or msg.get("custom") or msg.get("attachment"):
            has_other = True
    joined = "\n".join(texts + buttons)
    return {
        "texts": texts,
        "buttons": buttons,
        "joined": joined,
        "norm": normalise(joined),
        "nonempty": bool(joined.strip()) or has_other,
    }


def evaluate(expect: dict, reply: dict, markers: dict) -> list:
    """Return a list of failure reasons (empty list = pass)."""
    reasons = []
    text = reply["norm"]
    if expect.get("nonempty") and not reply["nonempty"]:
        reasons.append("nonempty: reply is empty")
    if "centre" in expect:
        cid = expect["centre"]
        if not centre_hits(text, markers, cid):
            reasons.append(f"centre: no marker of {cid}")
    if expect.get("centres_any"):
        if not any(centre_hits(text, markers, c) for c in expect["centres_any"]):
            reasons.append(f"centres_any: none of {', '.join(expect['centres_any'])}")
    for cid in expect.get("not_centres") or []:
        hits = centre_hits(text, markers, cid)
        if hits:
            reasons.append(f"not_centres: {cid} mentioned ({hits[0]!r})")
    if expect.get("contains_any"):
        if not any(needle_in(text, s) for s in expect["contains_any"]):
            reasons.append(f"contains_any: none of {expect['contains_any']}")
    for s in expect.get("not_contains") or []:
        if needle_in(text, s):
            reasons.append(f"not_contains: found {s!r}")
    if expect.get("clarify"):
        if "?" not in reply["joined"] and len(reply["buttons"]) < 2:
            reasons.append("clarify: no question mark and fewer than 2 buttons")
    if expect.get("fallback"):
        if not reply["nonempty"]:
            reasons.append("fallback: reply is empty")
        named = [c for c in markers if centre_hits(text, markers, c)]
        if named:
            reasons.append(f"fallback: mentions centre(s) {', '.join(named)}")
    return reasons


def score_case(case: dict, replies: list, markers: dict) -> dict:
    """Score one case from its replies (one list of REST messages per turn; the last one counts).

    Returns {"passed", "reasons", "reply" (parse_reply of the last reply), "named" (centres named)}."""
    if not replies:
        return {"passed": False, "reasons": ["no reply"], "reply": parse_reply([]), "named": []}
    reply = parse_reply(replies[-1])
    reasons = evaluate(case.get("expect") or {}, reply, markers)
    return {"passed": not reasons, "reasons": reasons, "reply": reply,
            "named": named_centres(reply["norm"], markers)}


# --------------------------------------------------------------------------- HTTP
class Unreachable(Exception):
    """No HTTP response at all. kind = "connect" (refused, DNS, connect timeout) or "timeout" (no reply)."""

    def __init__(self, msg, kind="connect"):
        super().__init__(msg)
        self.kind = kind


def post_message(endpoint: str, sender: str, message: str, timeout: float):
    body = json.dumps({"sender": sender, "message": message}).encode("utf-8")
    req = urllib.request.Request(endpoint, data=body, method="POST",
                                 headers={"Content-Type": "application/json",
                                          "Accept": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read().decode("utf-8", errors="replace")
    except urllib.error.HTTPError as e:  # got a response: server reachable
        detail = ""
        try:
            detail = e.read().decode("utf-8", errors="replace")[:200]
        except Exception:
            pass
        raise RuntimeError(f"HTTP {e.code} {e.reason} {detail}".strip())
    except urllib.error.URLError as e:
        raise Unreachable(f"unreachable: {e.reason}")
    except (socket.timeout, TimeoutError):
        raise Unreachable(f"timeout after {timeout}s (no reply)", kind="timeout")
    except (ConnectionError, OSError) as e:
        raise Unreachable(f"connection error: {e}")
    try:
        data = json.loads(raw) if raw.strip() else []
    except json.JSONDecodeError:
        raise RuntimeError(f"invalid JSON in response: {raw[:200]!r}")
    if not isinstance(data, list):
        raise RuntimeError(f"unexpected response shape ({type(data).__name__}): {raw[:200]!r}")
    return data


def run_case(case: dict, endpoint: str, markers: dict, timeout: float, retries: int,
             run_id: str, abort: threading.Event) -> dict:
    sender = f"eval-{run_id}-{case['id']}-{uuid.uuid4().hex[:6]}"
    result = {"id": case["id"], "category": case.get("category"), "lang": case.get("lang"),
              "sender": sender, "passed": False, "reasons": [], "error": None,
              "unreachable": False, "connect_failed": False, "turns": []}
    if abort.is_set():
        result.update(error="skipped: could not connect for the first cases", unreachable=True,
                      connect_failed=True)
        result["reasons"].append(result["error"])
        return result
    reply = None
    for msg in case["turns"]:
        attempt, last_exc = 0, None
        while True:
            t0 = time.perf_counter()
            try:
                messages = post_message(endpoint, sender, msg, timeout)
                latency = (time.perf_counter() - t0) * 1000.0
                break
            except (Unreachable, RuntimeError) as exc:
                last_exc = exc
                attempt += 1
                if attempt > retries:
                    messages = None
                    break
                time.sleep(0.5 * attempt)
        if messages is None:
            result["error"] = str(last_exc)
            result["unreachable"] = isinstance(last_exc, Unreachable) and not result["turns"]
            result["connect_failed"] = result["unreachable"] and last_exc.kind == "connect"
            result["reasons"].append(f"error on turn {len(result['turns']) + 1}: {last_exc}")
            result["turns"].append({"message": msg, "error": str(last_exc)})
            return result
        reply = parse_reply(messages)
        result["turns"].append({"message": msg, "latency_ms": round(latency, 1),
                                "texts": reply["texts"], "buttons": reply["buttons"],
                                "raw": messages})
    result["reasons"] = evaluate(case.get("expect") or {}, reply, markers)
    result["passed"] = not result["reasons"]
    result["named"] = named_centres(reply["norm"], markers)
    return result


def percentile(values: list, p: float):
    if not values:
        return None
    vals = sorted(values)
    k = max(0, min(len(vals) - 1, math.ceil(p / 100.0 * len(vals)) - 1))  # nearest rank
    return vals[k]


# --------------------------------------------------------------------------- dry run
SELF_TESTS = [  # (text, marker, expected)
    ("kontakta film i västerbotten", "film i väst", False),
    ("kontakta film i västmanland", "film i väst", False),
    ("spela in film i västerås", "film i väst", False),
    ("film i västs kortfilmsstöd", "film i väst", True),
    ("läs mer på filmivast.se", "filmivast", True),
    ("läs mer på filmivasterbotten.com", "filmivast", False),
    ("film i dalarnas stöd", "film i dalarna", True),
    ("göra film i östersund", "film i öst", False),
    ("region stockholms filmkonsulenter", "region stockholm", True),
    ("filmpool nord i luleå", "filmpool nord", True),
    ("vgr:s filmkonsulenter", "vgr", True),
    ("filmregionerna är en ideell förening", "filmregion sydost", False),
]


def validate(cases: list, markers: dict, names: dict, neutral: list, min_cov: int = 3,
             min_kommuner: int = 60, min_lan: int = 21) -> dict:
    """The dry-run checks without printing: {"errors", "warnings", "collisions", "per_cat", "per_lang",
    "cov", "cov_any", "kommuner", "lans"}."""
    errors, warnings = [], []
    # matcher self-test
    for text, m, exp in SELF_TESTS:
        if marker_in(normalise(text), m) != exp:
            errors.append(f"matcher self-test: marker {m!r} in {text!r} should be {exp}")
    # markers
    for cid, ms in markers.items():
        if not ms:
            errors.append(f"markers: {cid} has no markers")
        for m in ms:
            if m != m.lower() or m != m.strip() or not m:
                errors.append(f"markers: {cid}: {m!r} must be lowercase, trimmed, non-empty")
        for n in names.get(cid, []):
            if not any(marker_in(normalise(n), m) for m in ms):
                warnings.append(f"markers: name {n!r} of {cid} is not matched by its own markers")
    collisions = 0
    for a, ms in markers.items():
        for m in ms:
            for b in markers:
                if b == a:
                    continue
                for other in markers[b] + names.get(b, []):
                    if marker_in(normalise(other), m):
                        collisions += 1
                        errors.append(f"marker collision: {a} marker {m!r} fires on {b} {other!r}")
            for p in neutral:
                if marker_in(normalise(p), m):
                    collisions += 1
                    errors.append(f"marker collision: {a} marker {m!r} fires on neutral phrase {p!r}")
    # cases
    ids = set()
    per_cat, per_lang = {}, {}
    cov = {c: 0 for c in markers}
    cov_any = {c: 0 for c in markers}
    kommuner, lans = set(), set()
    for i, case in enumerate(cases):
        cid = case.get("id") if isinstance(case, dict) else None
        where = f"case #{i} ({cid})"
        if not isinstance(case, dict):
            errors.append(f"{where}: not a mapping")
            continue
        for k in case:
            if k not in CASE_KEYS:
                warnings.append(f"{where}: unknown key {k!r}")
        if not cid or not isinstance(cid, str):
            errors.append(f"{where}: missing id")
        elif cid in ids:
            errors.append(f"{where}: duplicate id")
        ids.add(cid)
        cat = case.get("category")
        if not isinstance(cat, str) or not CATEGORY_RE.match(cat):
            errors.append(f"{where}: bad category {cat!r}")
        per_cat[cat] = per_cat.get(cat, 0) + 1
        lang = case.get("lang")
        if lang not in ("sv", "en"):
            errors.append(f"{where}: lang must be sv or en")
        per_lang[lang] = per_lang.get(lang, 0) + 1
        turns = case.get("turns")
        if not isinstance(turns, list) or not 1 <= len(turns) <= 4 or \
                not all(isinstance(t, str) and t != "" for t in turns):
            errors.append(f"{where}: turns must be a list of 1-4 non-empty strings")
            turns = []
        if cat == "multi_turn" and len(turns) < 2:
            errors.append(f"{where}: multi_turn case needs >= 2 turns")
        exp = case.get("expect")
        if not isinstance(exp, dict) or not exp:
            errors.append(f"{where}: expect must be a non-empty mapping")
            continue
        for k in exp:
            if k not in EXPECT_KEYS:
                errors.append(f"{where}: unknown expect key {k!r}")
        refs = []
        if "centre" in exp:
            refs.append(exp["centre"])
            if exp["centre"] in cov:
                cov[exp["centre"]] += 1
        for key in ("centres_any", "not_centres"):
            v = exp.get(key)
            if v is not None and not isinstance(v, list):
                errors.append(f"{where}: {key} must be a list")
                continue
            refs.extend(v or [])
        for c in exp.get("centres_any") or []:
            if c in cov_any:
                cov_any[c] += 1
        for c in refs:
            if c not in markers:
                errors.append(f"{where}: unknown centre id {c!r}")
        if exp.get("centre") and exp["centre"] in (exp.get("not_centres") or []):
            errors.append(f"{where}: centre also listed in not_centres")
        if exp.get("fallback") and (exp.get("centre") or exp.get("centres_any")):
            errors.append(f"{where}: fallback contradicts centre/centres_any")
        for key in ("contains_any", "not_contains"):
            for s in exp.get(key) or []:
                if not isinstance(s, str) or not s:
                    errors.append(f"{where}: {key} items must be non-empty strings")
                elif s.startswith("re:"):
                    try:
                        re.compile(s[3:])
                    except re.error as e:
                        errors.append(f"{where}: bad regex {s!r}: {e}")
                elif s != s.lower():
                    errors.append(f"{where}: {key} item {s!r} must be lowercase")
        # echo risk: the user already typed a marker of the expected centre
        last = normalise(turns[-1]) if turns else ""
        for c in [exp.get("centre")] + list(exp.get("centres_any") or []):
            if c and c in markers:
                hit = centre_hits(last, markers, c)
                if hit:
                    warnings.append(f"{where}: echo risk, last turn already contains {c} marker {hit[0]!r}")
        for k in as_list(case.get("kommun")):
            kommuner.add(k)
        for l in as_list(case.get("lan")):
            lans.add(l)
    for c, n in cov.items():
        if n < min_cov:
            errors.append(f"coverage: centre {c} is the `centre` of only {n} case(s) (< {min_cov})")
    if len(kommuner) < min_kommuner:
        warnings.append(f"coverage: only {len(kommuner)} distinct kommuner annotated (< {min_kommuner})")
    if len(lans) < min_lan:
        warnings.append(f"coverage: only {len(lans)} distinct län annotated (< {min_lan})")
    return {"errors": errors, "warnings": warnings, "collisions": collisions, "per_cat": per_cat,
            "per_lang": per_lang, "cov": cov, "cov_any": cov_any, "kommuner": kommuner, "lans": lans}


def dry_run(cases: list, markers: dict, names: dict, neutral: list, min_cov: int,
            min_kommuner: int, min_lan: int) -> int:
    v = validate(cases, markers, names, neutral, min_cov, min_kommuner, min_lan)
    errors, warnings, collisions = v["errors"], v["warnings"], v["collisions"]
    per_cat, per_lang, cov, cov_any = v["per_cat"], v["per_lang"], v["cov"], v["cov_any"]
    kommuner, lans = v["kommuner"], v["lans"]
    print(f"cases: {len(cases)}  markers: {len(markers)} centres, "
          f"{sum(len(v) for v in markers.values())} markers, {len(neutral)} neutral phrases")
    print("per category: " + ", ".join(f"{c}={per_cat.get(c, 0)}" for c in CATEGORIES))
    print("per language: " + ", ".join(f"{k}={v}" for k, v in sorted(per_lang.items(), key=str)))
    print(f"distinct kommuner annotated: {len(kommuner)}; distinct län annotated: {len(lans)}")
    print("centre coverage (as `centre` / in `centres_any`):")
    for c in markers:
        print(f"  {c:24s} {cov[c]:3d} / {cov_any[c]:3d}")
    print(f"marker collisions: {collisions}")
    for w in warnings:
        print(f"WARNING {w}")
    for e in errors:
        print(f"ERROR {e}")
    print(f"dry-run: {len(cases)} cases, {len(errors)} errors, {len(warnings)} warnings")
    return 1 if errors else 0


def registry_check(cases: list, markers: dict, path: str) -> int:
    """Warn when the expected centre's own registry entry names a centre listed in not_centres
    (e.g. partner programmes, shared film commissions, source URLs on another centre's site)."""
    data = load_data(path)
    entries = {c.get("id"): normalise(json.dumps(c, ensure_ascii=False))
               for c in (data.get("centres") or []) if isinstance(c, dict)}
    risky = 0
    for case in cases:
        exp = case.get("expect") or {}
        own = exp.get("centre")
        if not own or own not in entries:
            continue
        for nc in exp.get("not_centres") or []:
            hits = centre_hits(entries[own], markers, nc)
            if hits:
                risky += 1
                print(f"WARNING registry: {case.get('id')}: the {own} entry itself mentions {nc} "
                      f"({hits[0]!r}); a correct answer may trip not_centres")
    missing = [c for c in markers if c not in entries]
    if missing:
        print(f"WARNING registry: no entry for {', '.join(missing)}")
    print(f"registry check: {len(entries)} entries, {risky} risky not_centres")
    return 0


# --------------------------------------------------------------------------- main
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", default="http://localhost:5005", help="Rasa server base URL")
    ap.add_argument("--cases", action="append", default=None,
                    help="case file (repeatable); default: every cases_*.yaml next to this file")
    ap.add_argument("--markers", default=os.path.join(HERE, "markers.yaml"))
    ap.add_argument("--out", default="report.json", help="per-case JSON report")
    ap.add_argument("--only", default=None, help="category (or comma-separated categories)")
    ap.add_argument("--ids", default=None, help="comma-separated case ids to run")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    ap.add_argument("--retries", type=int, default=0, help="retries per turn on error")
    ap.add_argument("--quiet", action="store_true", help="do not list failing cases")
    ap.add_argument("--dry-run", action="store_true", help="validate cases/markers only")
    ap.add_argument("--min-coverage", type=int, default=3)
    ap.add_argument("--min-kommuner", type=int, default=60)
    ap.add_argument("--min-lan", type=int, default=21)
    ap.add_argument("--registry", default=None,
                    help="dry-run only: research centres.yaml; warns when a correct answer quoting the "
                         "expected centre's registry entry would trip one of the case's not_centres")
    ap.add_argument("--write-json", action="store_true",
                    help="regenerate the JSON twins (cases.json, markers.json) from the YAML files")
    args = ap.parse_args(argv)
    case_files = args.cases or default_case_files()
    if not case_files:
        print(f"no case files: give --cases or add cases_*.yaml to {HERE}")
        print("eval: 0 passed, 0 failed")
        return 1

    if args.write_json:
        if yaml is None:
            print("--write-json needs PyYAML")
            return 1
        for path in case_files + [args.markers]:
            base, ext = os.path.splitext(path)
            if ext.lower() not in (".yaml", ".yml"):
                continue
            with open(path, encoding="utf-8") as fh:
                data = yaml.safe_load(fh)
            with open(base + ".json", "w", encoding="utf-8") as fh:
                json.dump(data, fh, ensure_ascii=False, indent=1)
                fh.write("\n")
            print(f"wrote {base}.json")
        return 0

    cases, _ = load_case_files(case_files)
    markers, names, neutral = load_markers(args.markers)

    if args.dry_run:
        for path in case_files + [args.markers]:
            base, ext = os.path.splitext(path)
            if ext.lower() not in (".yaml", ".yml"):
                continue
            if yaml is None:
                print(f"note: PyYAML not installed, read {base}.json instead of {path}")
            elif os.path.exists(base + ".json"):
                with open(path, encoding="utf-8") as fh:
                    y = yaml.safe_load(fh)
                with open(base + ".json", encoding="utf-8") as fh:
                    j = json.load(fh)
                if y != j:
                    print(f"WARNING {base}.json differs from {path}: run with --write-json")
        rc = dry_run(cases, markers, names, neutral, args.min_coverage,
                     args.min_kommuner, args.min_lan)
        if args.registry:
            rc = max(rc, registry_check(cases, markers, args.registry))
        return rc

    if args.only:
        wanted = {c.strip() for c in args.only.split(",") if c.strip()}
        bad = wanted - {c.get("category") for c in cases}
        if bad:
            print(f"unknown categories: {', '.join(sorted(bad))} (known: {', '.join(CATEGORIES)})")
            print("eval: 0 passed, 0 failed")
            return 0
        cases = [c for c in cases if c.get("category") in wanted]
    if args.ids:
        wanted_ids = {c.strip() for c in args.ids.split(",") if c.strip()}
        cases = [c for c in cases if c.get("id") in wanted_ids]

    base = args.url.rstrip("/")
    endpoint = base + "/webhooks/rest/webhook"
    run_id = time.strftime("%Y%m%d%H%M%S") + "-" + uuid.uuid4().hex[:4]
    print(f"url: {endpoint}  cases: {len(cases)}  workers: {args.workers}  run: {run_id}")
    try:  # informative only
        with urllib.request.urlopen(base + "/", timeout=5) as r:
            print("server: " + r.read(200).decode("utf-8", "replace").strip().splitlines()[0])
    except Exception as e:
        print(f"server: GET / failed ({e.__class__.__name__}: {e})")

    abort = threading.Event()
    lock = threading.Lock()
    progress = {"done": 0, "connect_failed": 0}

    def task(case):
        res = run_case(case, endpoint, markers, args.timeout, args.retries, run_id, abort)
        with lock:
            progress["done"] += 1
            progress["connect_failed"] += int(res["connect_failed"])
            # give up early when the first 10 finished cases could not even connect
            # (read timeouts never trigger this: a slow server is still tried for every case)
            if progress["done"] >= 10 and progress["connect_failed"] == progress["done"]:
                abort.set()
        return res

    t_start = time.time()
    with ThreadPoolExecutor(max_workers=max(1, args.workers)) as pool:
        results = list(pool.map(task, cases))
    elapsed = time.time() - t_start

    order = {c: i for i, c in enumerate(CATEGORIES)}
    results.sort(key=lambda r: (order.get(r["category"], 99), r["id"]))
    if not args.quiet:
        for r in results:
            if not r["passed"]:
                last = r["turns"][-1] if r["turns"] else {}
                snippet = " | ".join(last.get("texts", []) + [f"[{b}]" for b in last.get("buttons", [])])
                snippet = (snippet[:140] + "…") if len(snippet) > 140 else snippet
                print(f"FAIL {r['id']} [{r['category']}]: {'; '.join(r['reasons'])}"
                      + (f"  <- {snippet!r}" if snippet else ""))

    per_cat = {}
    for r in results:
        pc = per_cat.setdefault(r["category"], {"passed": 0, "total": 0})
        pc["total"] += 1
        pc["passed"] += int(r["passed"])
    latencies = [t["latency_ms"] for r in results for t in r["turns"] if "latency_ms" in t]
    p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
    passed = sum(1 for r in results if r["passed"])
    failed = len(results) - passed
    errors = sum(1 for r in results if r["error"])
    all_unreachable = bool(results) and all(r["unreachable"] for r in results)

    report = {
        "meta": {"url": endpoint, "run_id": run_id, "cases_files": [os.path.abspath(p) for p in case_files],
                 "markers_file": os.path.abspath(args.markers), "only": args.only,
                 "workers": args.workers, "timeout_s": args.timeout,
                 "started": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(t_start)),
                 "duration_s": round(elapsed, 2)},
        "summary": {"passed": passed, "failed": failed, "errors": errors,
                    "pass_rate": round(passed / len(results), 4) if results else None,
                    "per_category": per_cat,
                    "latency_ms": {"turns": len(latencies), "p50": p50, "p95": p95},
                    "all_unreachable": all_unreachable},
        "cases": results,
    }
    try:
        with open(args.out, "w", encoding="utf-8") as fh:
            json.dump(report, fh, ensure_ascii=False, indent=2)
    except OSError as e:
        print(f"could not write report {args.out}: {e}")

    print("per category:")
    for c in sorted(per_cat, key=lambda c: order.get(c, 99)):
        pc = per_cat[c]
        print(f"  {str(c):18s} {pc['passed']:4d}/{pc['total']:<4d}")
    rate = (100.0 * passed / len(results)) if results else 0.0
    print(f"overall: {passed}/{len(results)} passed ({rate:.1f}%), {errors} with errors, "
          f"{elapsed:.1f}s")
    if latencies:
        print(f"latency per turn: p50={p50:.0f} ms  p95={p95:.0f} ms  (n={len(latencies)})")
    else:
        print("latency per turn: n/a (no successful turns)")
    print(f"report: {os.path.abspath(args.out)}")
    if all_unreachable:
        print("server unreachable for every case")
    print(f"eval: {passed} passed, {failed} failed")
    return 2 if all_unreachable else 0


if __name__ == "__main__":
    sys.exit(main())
