#!/usr/bin/env python3
"""Conversation report: every tests/conversations/cases_*.yaml against the bot (`make conversations-report`).

    scripts/conversations_report.py --model models/current.tar.gz     # starts its own action server + Rasa
    scripts/conversations_report.py --url http://localhost:5005       # a running bot (`make run`)
    ... --only multi_turn,ex-004      # case ids and/or categories (comma list)
    ... --cases /tmp/try.yaml         # other case file(s) instead of tests/conversations/cases_*.yaml

Prints per-category pass rates, the figures with their bars (pass rate >= 97 %, single_place = 100 %,
wrong_centre = 0, oos_naming_centre = 0) and every failing case with its whole conversation. Writes
var/conversations-report.json and var/conversations-report.md. Exit status: 0 all bars met, 1 below a bar,
2 the bot could not be reached (or nothing to run).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from conversations import harness  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", help="base URL of a running bot (REST channel); default: start a BotStack")
    ap.add_argument("--model", help="model for the BotStack (default: models/current.tar.gz, else the test model)")
    ap.add_argument("--cases", action="append", metavar="FILE",
                    help="case file (repeatable); default: tests/conversations/cases_*.yaml")
    ap.add_argument("--only", metavar="ID_OR_CATEGORY", help="comma list of case ids and/or categories")
    ap.add_argument("--workers", type=int, default=4, help="concurrent cases (default 4)")
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds per message (default 30)")
    ap.add_argument("--json", default=str(harness.JSON_REPORT), help="JSON report path")
    ap.add_argument("--md", default=str(harness.MD_REPORT), help="Markdown report path")
    ap.add_argument("--all", action="store_true", help="print passing conversations too")
    args = ap.parse_args(argv)

    files = harness.case_files(args.cases)
    if not files:
        print(f"conversations: no case files (tests/conversations/cases_*.yaml is empty; give --cases FILE)")
        return 2
    cases, sources = harness.load(files)
    cases = [c for c in cases if isinstance(c, dict) and isinstance(c.get("id"), str) and c.get("turns")]
    selected = harness.select(cases, args.only)
    if not selected:
        print(f"conversations: --only {args.only!r} matches no case id or category "
              f"(categories: {', '.join(sorted({str(c.get('category')) for c in cases}))})")
        return 2
    markers = harness.load_markers()[0]
    shown_files = [harness.display_path(f) for f in files]

    stack = None
    url = args.url
    try:
        if not url:
            from bot.tools.stack import BotStack

            model = Path(args.model) if args.model else None
            if model is None and (ROOT / "models/current.tar.gz").exists():
                model = ROOT / "models/current.tar.gz"
            stack = BotStack(model)
            print(f"conversations: starting action server + Rasa with {stack.model} ...", flush=True)
            t = time.time()
            stack.start()
            print(f"conversations: bot up at {stack.url} in {time.time() - t:.0f} s", flush=True)
            url = stack.url
        print(f"conversations: {len(selected)} cases from {', '.join(shown_files)}"
              + (f" (--only {args.only})" if args.only else "")
              + f" -> {url} ({args.workers} at a time)", flush=True)

        step = max(25, len(selected) // 10)

        def progress(done: int, total: int) -> None:
            if done % step == 0 or done == total:
                print(f"  {done}/{total} cases", file=sys.stderr, flush=True)

        t0 = time.time()
        results = harness.run(url, selected, markers, workers=args.workers, timeout=args.timeout,
                              progress=progress)
        duration = time.time() - t0
    except KeyboardInterrupt:
        print("conversations: interrupted")
        return 130
    finally:
        if stack is not None:
            stack.stop()

    figs = harness.figures(selected, results)
    full_run = not args.only
    meta = {"url": url, "model": str(stack.model) if stack else None, "case_files": shown_files,
            "only": args.only, "workers": args.workers,
            "started": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(t0)), "duration_s": round(duration, 1)}
    harness.write_reports(selected, results, figs, sources, meta, args.json, args.md,
                          require_single_place=full_run)

    by_id = {c["id"]: c for c in selected}
    shown = results if args.all else harness.failing(results)
    if figs["all_unreachable"]:
        shown = []   # 700 copies of "connection refused" help nobody
    if shown:
        title = "conversations" if args.all else "failing cases"
        print(f"\n{title} ({len(shown)}):")
        for r in shown:
            print()
            print(harness.format_case(by_id[r["id"]], r, sources.get(r["id"])))
    extra = [] if args.all else harness.wrong_centre_but_passing(results, figs)
    if extra:
        print(f"\npassing their expect but naming another centre (counted in wrong_centre) ({len(extra)}):")
        for r in extra:
            print()
            print(harness.format_case(by_id[r["id"]], r, sources.get(r["id"])))
    print()
    print("\n".join(harness.summary_lines(figs, require_single_place=full_run)))
    print(f"run: {duration:.1f} s; reports: {_rel(args.json)}, {_rel(args.md)}")
    if figs["all_unreachable"]:
        print(f"conversations: the bot at {url} could not be reached")
        return 2
    below = harness.bar_failures(figs, require_single_place=full_run)
    if below:
        print("conversations: BELOW THE BARS")
        for line in below:
            print(f"  - {line}")
        return 1
    print("conversations: all bars met")
    return 0


def _rel(path: str) -> str:
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main())
