"""The project's conversation harness: every tests/conversations/cases_*.yaml against a running bot.

Built on the vendored run_eval.py (same sending, same matching). Used by tests/test_conversations.py and by
scripts/conversations_report.py (`make conversations-report`).

    cases, sources = load()                         # every cases_*.yaml (or $FILMBOT_CONVERSATION_CASES)
    results = run("http://localhost:5005", cases)   # fresh sender per case, turns in order, 4 threads
    figs = figures(cases, results)                  # pass rates, single_place, wrong_centre, oos_naming_centre
    bar_failures(figs)                              # [] when every bar is met

Figures (all on the last reply of each case, centres detected by markers.yaml):
- pass rate: overall and per category (all `expect` checks hold);
- single_place: cases with a `kommun` or `lan` bookkeeping field and an expected `centre` whose reply
  names that centre;
- wrong_centre: cases expecting a centre (`centre` / `centres_any`) whose reply names any other centre outside web
  addresses (a cited source page on a partner centre's site is not naming it) and outside "(drivs av X)" /
  "(run by X)" (who runs a shared service, e.g. the film commission of six län); a reply that asks back with at
  least two choices, naming the candidate centres including an expected one, answers for none of them and is
  not counted;
- oos_naming_centre: cases with `fallback: true` whose reply names any centre.
"""
from __future__ import annotations

import json
import os
import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

try:
    from . import run_eval as ev
except ImportError:  # imported with tests/conversations itself on sys.path
    import run_eval as ev  # type: ignore

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
MARKERS_FILE = HERE / "markers.yaml"
CASES_ENV = "FILMBOT_CONVERSATION_CASES"   # os.pathsep-separated case files, overrides the glob
JSON_REPORT = ROOT / "var" / "conversations-report.json"
MD_REPORT = ROOT / "var" / "conversations-report.md"
BARS = {"pass_rate": 0.97, "single_place": 1.0, "wrong_centre": 0, "oos_naming_centre": 0}


# --------------------------------------------------------------------------- loading
def case_files(explicit: Optional[Sequence[os.PathLike]] = None) -> List[Path]:
    """Explicit files, else $FILMBOT_CONVERSATION_CASES, else every tests/conversations/cases_*.yaml."""
    if explicit:
        return [Path(p) for p in explicit]
    env = os.environ.get(CASES_ENV, "").strip()
    if env:
        return [Path(p) for p in env.split(os.pathsep) if p.strip()]
    return sorted(HERE.glob("cases_*.yaml"))


def load(files: Optional[Sequence[os.PathLike]] = None) -> Tuple[List[dict], Dict[str, str]]:
    """(cases, sources): sources maps a case id to the file name it came from."""
    paths = case_files(files)
    cases, srcs = ev.load_case_files([str(p) for p in paths])
    sources = {}
    for case, src in zip(cases, srcs):
        if isinstance(case, dict) and case.get("id") is not None:
            sources.setdefault(str(case["id"]), display_path(Path(src)))
    return cases, sources


def load_markers(path: os.PathLike = MARKERS_FILE):
    """(markers, names, neutral) as run_eval.load_markers."""
    return ev.load_markers(str(path))


def select(cases: List[dict], only: Optional[str]) -> List[dict]:
    """Cases whose id or category is in the comma-separated `only` (all when empty)."""
    if not only:
        return list(cases)
    wanted = {w.strip() for w in only.split(",") if w.strip()}
    return [c for c in cases if c.get("id") in wanted or c.get("category") in wanted]


def display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


# --------------------------------------------------------------------------- running
_URL = re.compile(r"(?:https?://|www\.)\S+")
_OPERATOR = re.compile(r"\((?:drivs av|run by) [^)]*\)", re.IGNORECASE)


def named_outside_sources(result: dict, markers: dict) -> List[str]:
    """Centres the last reply names outside web addresses. A fact's source page may sit on a partner
    centre's site (a Halland course described on filmiskane.se): citing it names no centre to the visitor,
    so wrong_centre looks at the text without URLs; the full list stays in "named"."""
    turns = result.get("turns") or []
    if not turns:
        return []
    last = turns[-1]
    text = " ".join(list(last.get("texts") or []) + [str(b) for b in last.get("buttons") or []])
    return ev.named_centres(ev.normalise(_OPERATOR.sub(" ", _URL.sub(" ", text))), markers)


def asks_back_among(result: dict, allowed: List[str]) -> bool:
    """The last reply is a question with at least two choices that names an expected centre among others."""
    turns = result.get("turns") or []
    if not turns:
        return False
    last = turns[-1]
    text = " ".join(last.get("texts") or [])
    named = result.get("named") or []
    return "?" in text and len(last.get("buttons") or []) >= 2 and len(named) >= 2 and \
        any(c in named for c in allowed)


def run(url: str, cases: List[dict], markers: Optional[dict] = None, workers: int = 4,
        timeout: float = 30.0, retries: int = 0,
        progress: Optional[Callable[[int, int], None]] = None) -> List[dict]:
    """Run every case (fresh sender id, all turns in order) with `workers` threads.

    Returns one run_eval result per case, in the order of `cases`, each with "named": the centres the
    last reply names. Gives up (remaining cases marked unreachable) when the first 10 cases could not
    connect at all, like run_eval.main."""
    if markers is None:
        markers = load_markers()[0]
    endpoint = url.rstrip("/") + "/webhooks/rest/webhook"
    run_id = time.strftime("%Y%m%d%H%M%S") + "-" + uuid.uuid4().hex[:4]
    abort = threading.Event()
    lock = threading.Lock()
    state = {"done": 0, "connect_failed": 0}

    def task(case: dict) -> dict:
        res = ev.run_case(case, endpoint, markers, timeout, retries, run_id, abort)
        res.setdefault("named", [])
        res["named_outside_sources"] = named_outside_sources(res, markers)
        with lock:
            state["done"] += 1
            state["connect_failed"] += int(res["connect_failed"])
            if state["done"] >= 10 and state["connect_failed"] == state["done"]:
                abort.set()
            done = state["done"]
        if progress:
            progress(done, len(cases))
        return res

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return list(pool.map(task, cases))


# --------------------------------------------------------------------------- figures
def expected_centres(expect: dict) -> List[str]:
    """The centres a case allows: `centre` plus `centres_any` (empty when it expects none)."""
    out = []
    if expect.get("centre"):
        out.append(expect["centre"])
    out.extend(c for c in expect.get("centres_any") or [] if c not in out)
    return out


def _rate(n: int, total: int) -> Optional[float]:
    return round(n / total, 4) if total else None


def figures(cases: List[dict], results: List[dict]) -> dict:
    """Pass rates and the three centre figures (see the module docstring)."""
    by_id = {c["id"]: c for c in cases}
    per_cat: Dict[str, dict] = {}
    per_lang: Dict[str, dict] = {}
    single = {"total": 0, "named": 0, "missed": []}
    wrong: List[dict] = []
    oos: List[dict] = []
    latencies = []
    for r in results:
        case = by_id[r["id"]]
        exp = case.get("expect") or {}
        for table, key in ((per_cat, r["category"]), (per_lang, r["lang"])):
            row = table.setdefault(str(key), {"passed": 0, "total": 0})
            row["total"] += 1
            row["passed"] += int(r["passed"])
        latencies.extend(t["latency_ms"] for t in r["turns"] if "latency_ms" in t)
        named = r.get("named") or []
        allowed = expected_centres(exp)
        if exp.get("centre") and (ev.as_list(case.get("kommun")) or ev.as_list(case.get("lan"))):
            single["total"] += 1
            if exp["centre"] in named:
                single["named"] += 1
            else:
                single["missed"].append(r["id"])
        if allowed:
            others = [c for c in (r.get("named_outside_sources", named)) if c not in allowed]
            if others and not asks_back_among(r, allowed):
                wrong.append({"id": r["id"], "expected": allowed, "named": others})
        if exp.get("fallback") and named:
            oos.append({"id": r["id"], "named": named})
    for table in (per_cat, per_lang):
        for row in table.values():
            row["rate"] = _rate(row["passed"], row["total"])
    passed = sum(1 for r in results if r["passed"])
    single["rate"] = _rate(single["named"], single["total"])
    return {
        "total": len(results), "passed": passed, "failed": len(results) - passed,
        "errors": sum(1 for r in results if r["error"]),
        "all_unreachable": bool(results) and all(r["unreachable"] for r in results),
        "pass_rate": _rate(passed, len(results)),
        "per_category": dict(sorted(per_cat.items())),
        "per_lang": dict(sorted(per_lang.items())),
        "single_place": single,
        "wrong_centre": {"count": len(wrong), "cases": wrong},
        "oos_naming_centre": {"count": len(oos), "cases": oos},
        "latency_ms": {"turns": len(latencies), "p50": ev.percentile(latencies, 50),
                       "p95": ev.percentile(latencies, 95)},
    }


def bar_failures(figs: dict, require_single_place: bool = True) -> List[str]:
    """One line per bar that is not met (empty: all met). With require_single_place, having no
    single-place case at all is a failure (nothing was shown)."""
    out = []
    if figs["pass_rate"] is None or figs["pass_rate"] < BARS["pass_rate"]:
        out.append(f"pass rate {_pct(figs['pass_rate'])} < {100 * BARS['pass_rate']:.0f} % "
                   f"({figs['failed']} of {figs['total']} failed)")
    sp = figs["single_place"]
    if sp["total"] == 0:
        if require_single_place:
            out.append("single_place: no case has a kommun/lan field and an expected centre")
    elif sp["rate"] < BARS["single_place"]:
        out.append(f"single_place {sp['named']}/{sp['total']} ({_pct(sp['rate'])}) < 100 %: "
                   + ", ".join(sp["missed"]))
    for key in ("wrong_centre", "oos_naming_centre"):
        fig = figs[key]
        if fig["count"] > BARS[key]:
            out.append(f"{key} = {fig['count']} (bar {BARS[key]}): "
                       + ", ".join(f"{c['id']} names {'/'.join(c['named'])}" for c in fig["cases"]))
    return out


def _pct(rate: Optional[float]) -> str:
    return "n/a" if rate is None else f"{100 * rate:.1f} %"


# --------------------------------------------------------------------------- formatting
def describe_expect(expect: dict) -> str:
    parts = []
    for k, v in expect.items():
        if isinstance(v, list):
            v = "[" + ", ".join(map(str, v)) + "]"
        parts.append(f"{k}={v}")
    return "; ".join(parts)


def format_case(case: dict, result: dict, source: Optional[str] = None, max_chars: int = 0) -> str:
    """A failing (or any) case with its whole conversation: each visitor turn, the bot's texts and
    button titles, what was expected and which check failed. max_chars > 0 shortens long texts."""
    def cut(s: str) -> str:
        return s if not max_chars or len(s) <= max_chars else s[:max_chars] + " …"

    status = "PASS" if result["passed"] else "FAIL"
    head = f"{status} {result['id']}  [{result['category']}, {result['lang']}]"
    if source:
        head += f"  {source}"
    extra = [f"{k}={case[k]}" for k in ("kommun", "lan") if case.get(k)]
    lines = [head + (("  (" + ", ".join(extra) + ")") if extra else "")]
    lines.append(f"  expect: {describe_expect(case.get('expect') or {})}")
    if result["reasons"]:
        lines.append("  failed: " + "; ".join(result["reasons"]))
    lines.append("  names:  " + (", ".join(result.get("named") or []) or "(no centre)"))
    for i, turn in enumerate(result["turns"], 1):
        lines.append(f"  {i}> {turn['message']}")
        if "error" in turn:
            lines.append(f"     !! {turn['error']}")
            continue
        if not turn.get("texts") and not turn.get("buttons"):
            lines.append("     (no text)")
        for text in turn.get("texts", []):
            body = cut(text).splitlines() or [""]
            lines.append("     bot: " + body[0])
            lines.extend("          " + ln for ln in body[1:])
        if turn.get("buttons"):
            lines.append("     buttons: " + " ".join(f"[{b}]" for b in turn["buttons"]))
    for turn in case.get("turns", [])[len(result["turns"]):]:
        lines.append(f"  -> {turn}   (not sent)")
    return "\n".join(lines)


def failing(results: List[dict]) -> List[dict]:
    return [r for r in results if not r["passed"]]


def wrong_centre_but_passing(results: List[dict], figs: dict) -> List[dict]:
    """Cases whose `expect` holds but whose reply also names another centre (counted in wrong_centre)."""
    ids = {c["id"] for c in figs["wrong_centre"]["cases"]}
    return [r for r in results if r["passed"] and r["id"] in ids]


def summary_lines(figs: dict, require_single_place: bool = True) -> List[str]:
    """Per-category pass rates, overall, latency and the bar figures, one line each."""
    lines = ["per category:"]
    for cat, row in figs["per_category"].items():
        lines.append(f"  {cat:24s} {row['passed']:4d}/{row['total']:<4d} {_pct(row['rate']):>8s}")
    langs = ", ".join(f"{k} {v['passed']}/{v['total']}" for k, v in figs["per_lang"].items())
    lines.append(f"  {'overall':24s} {figs['passed']:4d}/{figs['total']:<4d} {_pct(figs['pass_rate']):>8s}"
                 f"   ({langs}; {figs['errors']} with errors)")
    lat = figs["latency_ms"]
    if lat["turns"]:
        lines.append(f"latency per turn: p50 {lat['p50']:.0f} ms, p95 {lat['p95']:.0f} ms (n={lat['turns']})")
    sp = figs["single_place"]
    lines.append("figures:")
    sp_txt = f"{sp['named']}/{sp['total']} = {_pct(sp['rate'])}" if sp["total"] else "n/a (0 cases)"
    rows = [("pass rate", f"{figs['passed']}/{figs['total']} = {_pct(figs['pass_rate'])}",
             f">= {100 * BARS['pass_rate']:.0f} %",
             figs["pass_rate"] is not None and figs["pass_rate"] >= BARS["pass_rate"]),
            ("single_place", sp_txt, "= 100 %", sp["rate"] == 1.0 if sp["total"] else not require_single_place)]
    for key in ("wrong_centre", "oos_naming_centre"):
        rows.append((key, str(figs[key]["count"]), f"= {BARS[key]}", figs[key]["count"] <= BARS[key]))
    for name, value, bar, good in rows:
        lines.append(f"  {name:20s} {value:>18s}   bar {bar:8s} {'ok' if good else 'BELOW BAR'}")
    return lines


# --------------------------------------------------------------------------- reports
def write_reports(cases: List[dict], results: List[dict], figs: dict, sources: Dict[str, str],
                  meta: dict, json_path: os.PathLike = JSON_REPORT, md_path: os.PathLike = MD_REPORT,
                  require_single_place: bool = True) -> None:
    """var/conversations-report.json (every case, turn, reply, latency) and a readable .md."""
    by_id = {c["id"]: c for c in cases}
    bars = bar_failures(figs, require_single_place)
    json_path, md_path = Path(json_path), Path(md_path)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    md_path.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    for r in results:
        case = by_id[r["id"]]
        rows.append({**r, "file": sources.get(r["id"]), "expect": case.get("expect"),
                     "kommun": case.get("kommun"), "lan": case.get("lan")})
    report = {"meta": meta, "bars": BARS, "below_bars": bars, "summary": figs, "cases": rows}
    json_path.write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str) + "\n",
                         encoding="utf-8")

    md = ["# Conversation report", ""]
    md.append(f"{meta.get('started', '')} · {meta.get('url', '')} · {figs['total']} cases from "
              f"{', '.join(meta.get('case_files', []))} · {meta.get('duration_s', '?')} s")
    md.append("")
    md.append("**All bars met.**" if not bars else "**Below the bars:**")
    md.extend(f"- {b}" for b in bars)
    md += ["", "| figure | value | bar |", "|---|---|---|"]
    sp = figs["single_place"]
    md.append(f"| pass rate | {figs['passed']}/{figs['total']} ({_pct(figs['pass_rate'])}) | ≥ 97 % |")
    md.append(f"| single_place | {sp['named']}/{sp['total']} ({_pct(sp['rate'])}) | 100 % |")
    md.append(f"| wrong_centre | {figs['wrong_centre']['count']} | 0 |")
    md.append(f"| oos_naming_centre | {figs['oos_naming_centre']['count']} | 0 |")
    md += ["", "| category | passed | total | rate |", "|---|---:|---:|---:|"]
    for cat, row in figs["per_category"].items():
        md.append(f"| {cat} | {row['passed']} | {row['total']} | {_pct(row['rate'])} |")
    for lang, row in figs["per_lang"].items():
        md.append(f"| *lang {lang}* | {row['passed']} | {row['total']} | {_pct(row['rate'])} |")
    fails = failing(results)
    md += ["", f"## Failing cases ({len(fails)})", ""]
    for r in fails:
        md += [f"### {r['id']}", "", "```", format_case(by_id[r["id"]], r, sources.get(r["id"])), "```", ""]
    extra = wrong_centre_but_passing(results, figs)
    if extra:
        md += [f"## Passing their expect but counted in wrong_centre ({len(extra)})", ""]
        for r in extra:
            md += [f"### {r['id']}", "", "```", format_case(by_id[r["id"]], r, sources.get(r["id"])), "```", ""]
    md_path.write_text("\n".join(md) + "\n", encoding="utf-8")
