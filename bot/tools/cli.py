"""`python -m bot <command>`: small command-line tools around the pure-Python core.

Each subcommand registers itself in its own ``add_<name>_command(subparsers)`` function and runs in a
``cmd_<name>(args) -> int`` function, so commands can be added without touching the others.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Iterable, List, Optional


# --- lookup -----------------------------------------------------------------------------------------

def add_lookup_command(sub) -> None:
    p = sub.add_parser(
        "lookup",
        help="resolve places in texts to kommun/län/centre (one JSON object per line)",
        description="Resolve each TEXT (or each stdin line when no TEXT is given) with "
                    "bot.places.resolve_place and print one JSON object per line.",
    )
    p.add_argument("texts", nargs="*", metavar="TEXT", help="texts to resolve; none: read lines from stdin")
    p.add_argument("--topic", default=None, help="topic kind (e.g. short_film) to pick the unit of a split centre")
    p.add_argument("--registry", default=None, help="path to a registry.yaml (default: registry/registry.yaml)")
    p.set_defaults(func=cmd_lookup)


def _lines(texts: List[str]) -> Iterable[str]:
    if texts:
        yield from texts
        return
    for line in sys.stdin:
        line = line.rstrip("\r\n")
        if line.strip():
            yield line


def cmd_lookup(args: argparse.Namespace) -> int:
    from bot.places import load_registry_any, resolve_place

    registry = load_registry_any(args.registry)
    out = sys.stdout
    for text in _lines(args.texts):
        res = resolve_place(text, registry=registry, topic=args.topic)
        out.write(json.dumps(res.to_json(), ensure_ascii=False) + "\n")
        out.flush()
    return 0


# --- registry ---------------------------------------------------------------------------------------

def _registry_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--registry", default=None, metavar="PATH",
                        help="registry file (default: $FILMBOT_REGISTRY or registry/registry.yaml)")


def add_registry_command(sub) -> None:
    p = sub.add_parser("registry", help="registry tools (check, stale, confirm, coverage)",
                       description="Tools for registry/registry.yaml.")
    rsub = p.add_subparsers(dest="registry_command", metavar="SUBCOMMAND")
    check = rsub.add_parser("check", help="validate a registry file",
                            description="Validate PATH (default: $FILMBOT_REGISTRY or registry/registry.yaml). "
                                        "Exit 0 with a one-line summary, or 1 with one problem per line.")
    check.add_argument("path", nargs="?", default=None, metavar="PATH")
    check.add_argument("--today", default=None, metavar="YYYY-MM-DD",
                       help="date used to count stale facts (default: today)")
    check.set_defaults(func=cmd_registry_check)

    st = rsub.add_parser("stale", help="list the facts to check, per centre, with the source URL",
                         description="List the facts that need checking (unverified, undated or published more "
                                     "than two years ago, and not confirmed within two years), per centre, with "
                                     "the key that `registry confirm --key` takes and the source URL to check.")
    st.add_argument("--centre", default=None, metavar="CENTRE", help="one centre (id or name)")
    st.add_argument("--format", choices=("md", "json"), default="md", help="md (default) or json")
    st.add_argument("--today", default=None, metavar="YYYY-MM-DD", help="as of this date (default: today)")
    _registry_option(st)
    st.set_defaults(func=cmd_registry_stale)

    co = rsub.add_parser("confirm", help="record that facts of a centre were checked (date and who)",
                         description="Write confirmed: {date: today, by: NAME} on the facts of CENTRE that have a "
                                     "source (all, one --kind, or the one --key; an unverified fact only by its "
                                     "key), validated, into the registry file. The bot answers from it at once.")
    co.add_argument("centre", metavar="CENTRE", help="centre id or name (case-insensitive)")
    co.add_argument("--kind", default=None, metavar="KIND",
                    help="only facts of this kind (organisation, seat, website, general_contact, unit, offer, "
                         "contact) or offers of this topic (e.g. short_film)")
    co.add_argument("--key", default=None, metavar="KEY", help="only this fact (a key from `registry stale`)")
    co.add_argument("--by", default=None, metavar="NAME", help="who checked (default: $USER)")
    _registry_option(co)
    co.set_defaults(func=cmd_registry_confirm)
    cv = rsub.add_parser("coverage", help="which centre has sourced facts on which facet",
                         description="A table: per centre, the sourced facts on each facet (how to apply, "
                                     "amounts, intake, eligibility, contact, organisation), its general contact "
                                     "and how many facets are sourced (registry/facets/*.yaml).")
    _registry_option(cv)
    cv.add_argument("--format", choices=("md", "json"), default="md")
    cv.set_defaults(func=cmd_registry_coverage)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def cmd_registry_coverage(args: argparse.Namespace) -> int:
    from bot.registry import RegistryError, default_path
    from bot.tools.upkeep import coverage, coverage_markdown

    path = args.registry or default_path()
    try:
        rows = coverage(path)
    except RegistryError as exc:
        return _fail("coverage", f"{path} does not validate ({len(exc.problems)} problem(s)): {exc.problems[0]}")
    print(json.dumps(rows, ensure_ascii=False, indent=2) if args.format == "json" else coverage_markdown(rows))
    return 0


def cmd_registry_check(args: argparse.Namespace) -> int:
    import datetime as dt

    from bot.registry import RegistryError, default_path, load_registry

    path = args.path or default_path()
    today = dt.date.fromisoformat(args.today) if args.today else dt.date.today()
    try:
        registry = load_registry(path)
    except RegistryError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"{len(exc.problems)} problem(s) in {path}", file=sys.stderr)
        return 1
    print(f"OK {path}: {registry.summary(today)} (as of {today.isoformat()})")
    return 0


def _fail(command: str, message: str) -> int:
    print(f"registry {command}: {message}", file=sys.stderr)
    return 2


def cmd_registry_stale(args: argparse.Namespace) -> int:
    import datetime as dt

    from bot.registry import RegistryError, default_path, load_registry
    from bot.tools.upkeep import UpkeepError, find_centre, stale

    try:
        today = dt.date.fromisoformat(args.today) if args.today else dt.date.today()
    except ValueError:
        return _fail("stale", f"--today: not a date YYYY-MM-DD: {args.today!r}")
    path = args.registry or default_path()
    try:
        registry = load_registry(path)
        centre = find_centre(registry, args.centre) if args.centre is not None else None
    except RegistryError as exc:
        return _fail("stale", f"{path} does not validate ({len(exc.problems)} problem(s)): {exc.problems[0]}")
    except UpkeepError as exc:
        return _fail("stale", str(exc))
    facts = [f for f in stale(registry, today) if centre is None or f["centre"] == centre.id]
    if args.format == "json":
        print(json.dumps(facts, ensure_ascii=False, indent=2))
        return 0
    print(_stale_markdown(facts, registry, centre, today))
    return 0


def _stale_markdown(facts: List[dict], registry, centre, today) -> str:
    from bot.tools.upkeep import KIND_NAMES

    centres = [centre] if centre is not None else registry.centres
    total = sum(1 for c in centres for _ in c.keyed_facts())
    lines = [f"# Uppgifter att kontrollera: {len(facts)} av {total} (per {today.isoformat()})", "",
             "Kontrollera mot källan och bekräfta: `python -m bot registry confirm CENTRUM [--kind SLAG] "
             "[--key NYCKEL] [--by NAMN]`."]
    for c in centres:
        mine = [f for f in facts if f["centre"] == c.id]
        lines += ["", f"## {c.name} ({c.id}): {len(mine)}"]
        if not mine:
            lines.append("Allt är bekräftat eller aktuellt.")
        for f in mine:
            source = f["source"] or "ingen källa"
            lines.append(f"- `{f['key']}` {KIND_NAMES[f['kind']]}: {f['title']} — {f['why']} — {source}")
    return "\n".join(lines)


def cmd_registry_confirm(args: argparse.Namespace) -> int:
    import os

    from bot.tools.upkeep import UpkeepError, confirm_facts

    by = args.by if args.by is not None else os.environ.get("USER", "")
    if not by.strip():
        return _fail("confirm", "say who checked the facts: --by NAME (or set $USER)")
    try:
        done = confirm_facts(args.centre, kind=args.kind, key=args.key, by=by, path=args.registry)
    except UpkeepError as exc:
        return _fail("confirm", str(exc))
    state = "written to" if done.written else "already recorded in"
    print(f"confirmed {len(done.confirmed)} fact(s) of {done.centre_name} ({done.centre}) on "
          f"{done.date.isoformat()} by {done.by}, {state} {done.path}:")
    for item in done.confirmed:
        print(f"  {item['key']}  {item['title']}")
    for item in done.skipped:
        print(f"  not confirmed: {item['key']}  {item['title']} ({item['why']})")
    return 0


# --- credentials ------------------------------------------------------------------------------------

def add_credentials(sub) -> None:
    p = sub.add_parser("credentials",
                       help="print the channel configuration for `rasa run` (Slack only when SLACK_* is set)")
    p.set_defaults(func=cmd_credentials)


def cmd_credentials(args: argparse.Namespace) -> int:
    from bot.channels.config import render_credentials

    text, notes = render_credentials()
    for note in notes:
        print(f"run: {note}", file=sys.stderr)
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


# --- nlu-report -------------------------------------------------------------------------------------

def add_nlu_report(sub) -> None:
    p = sub.add_parser("nlu-report", help="held-out NLU test set: intent accuracy, place-entity F1, every miss")
    p.add_argument("--model", required=True, nargs="+", metavar="MODEL",
                   help="trained model (.tar.gz); several are scored one after the other in this process")
    p.add_argument("--test", nargs="+", type=Path, default=None, metavar="YML",
                   help="held-out files (default tests/nlu/test_nlu.yml and tests/nlu/test_nlu_en.yml)")
    p.add_argument("--min-intent-accuracy", type=float, default=0.0)
    p.add_argument("--min-entity-f1", type=float, default=0.0)
    p.add_argument("--json", default=None, metavar="PATH",
                   help="also write the figures and misses as JSON (a list when several models)")
    p.add_argument("--jsonl", action="store_true",
                   help="print one JSON line per model (every figure and miss) instead of the text report")
    p.add_argument("--quiet", action="store_true", help="print the misses only when a minimum is not met")
    p.set_defaults(func=cmd_nlu_report)


def cmd_nlu_report(args: argparse.Namespace) -> int:
    from bot.tools.nlu_eval import TEST_FILES, evaluate_models, format_report

    reports = evaluate_models(args.model, args.test or TEST_FILES)
    several = len(reports) > 1
    failures = []
    for i, report in enumerate(reports):
        failed = (report.intent_accuracy < args.min_intent_accuracy or report.entity_f1 < args.min_entity_f1)
        if args.jsonl:
            print(json.dumps(report.as_dict(), ensure_ascii=False), flush=True)
        else:
            text = format_report(report)
            if several:
                print(("\n" if i else "") + f"model: {report.model}")
            print(text if (failed or not args.quiet) else "\n".join(text.splitlines()[:3]))
        if failed:
            failures.append(report)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump([r.as_dict() for r in reports] if several else reports[0].as_dict(), fh, indent=2,
                      ensure_ascii=False)
    for report in failures:
        print(f"FAILED: {report.model + ': ' if several else ''}intent accuracy {report.intent_accuracy:.1%} "
              f"(min {args.min_intent_accuracy:.0%}), "
              f"place-entity F1 {report.entity_f1:.1%} (min {args.min_entity_f1:.0%})", file=sys.stderr)
    return 1 if failures else 0


# --- web --------------------------------------------------------------------------------------------

def add_web(sub) -> None:
    from bot.tools.web import register_command

    register_command(sub)


# --- purge ------------------------------------------------------------------------------------------

def add_purge(sub) -> None:
    p = sub.add_parser(
        "purge", help="delete old conversations (or one visitor's) from the SQL tracker store",
        description="Delete every conversation whose last event is older than FILMBOT_RETENTION_DAYS days "
                    "(default 30) from the tracker store in endpoints.yml, or with --sender one visitor's "
                    "conversation whatever its age.")
    p.add_argument("--sender", default=None, metavar="ID", help="delete this conversation (sender id) only")
    p.add_argument("--days", default=None, metavar="N",
                   help="retention period in days (default: $FILMBOT_RETENTION_DAYS or 30)")
    p.add_argument("--endpoints", default=None, metavar="PATH",
                   help="endpoints file (default: $FILMBOT_ENDPOINTS or endpoints.yml)")
    p.add_argument("--dry-run", action="store_true",
                   help="count what would be deleted (and the personal data stored), change nothing")
    p.add_argument("--redact", action="store_true",
                   help="replace personal data in stored messages in place (bot/redact.py rules), delete nothing")
    p.set_defaults(func=cmd_purge)


def cmd_purge(args: argparse.Namespace) -> int:
    from bot.tools.purge import PurgeError, purge, redact_store, retention_days

    try:
        if args.redact or args.dry_run:
            found = redact_store(sender=args.sender, endpoints=args.endpoints, dry_run=args.dry_run)
            kinds = ", ".join(f"{k} {n}" for k, n in sorted(found.counts.items())) or "none"
            verb = "found" if found.dry_run else "replaced"
            print(f"purge: {verb} personal data in {found.events} of {found.scanned} stored messages "
                  f"({kinds}) in {found.url}")
            if args.redact:
                return 0
        days = retention_days(args.days)
        result = purge(days=days, sender=args.sender, endpoints=args.endpoints, dry_run=args.dry_run)
    except PurgeError as exc:
        print(f"purge: {exc}", file=sys.stderr)
        return 1
    verb = "would delete" if result.dry_run else "deleted"
    scope = f"conversation {args.sender!r}" if args.sender is not None else f"conversations idle > {days:g} days"
    print(f"purge: {verb} {len(result.senders)} {scope} ({result.events} events) in {result.url}")
    if args.sender is not None and not result.senders:
        print(f"purge: no conversation with sender id {args.sender!r}", file=sys.stderr)
    return 0


# --- report -----------------------------------------------------------------------------------------

def add_report(sub) -> None:
    p = sub.add_parser(
        "report", help="what visitors asked and missed, and their 👍/👎, from the tracker store",
        description="Report for a period (whole days in FILMBOT_TZ, default Europe/Stockholm; --until "
                    "included; default: the last 30 days): conversations and messages per day and channel, "
                    "län, centres and topics asked about, unanswered questions (near-identical ones grouped), "
                    "👍/👎 per topic and centre and every 👎. Reads the SQL tracker store in endpoints.yml. "
                    "Exit 2 with one line on stderr for a bad date or an unreadable store.")
    p.add_argument("--since", default=None, metavar="DATE", help="first day, YYYY-MM-DD")
    p.add_argument("--until", default=None, metavar="DATE", help="last day, YYYY-MM-DD (default: today)")
    p.add_argument("--format", choices=("md", "csv", "json"), default="md",
                   help="md: readable Swedish report (default); csv: section,key,field,value; json: everything")
    p.add_argument("--endpoints", default=None, metavar="FILE",
                   help="endpoints file (default: $FILMBOT_ENDPOINTS or endpoints.yml)")
    p.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    from bot.tools.report import ReportError, build_report, to_csv, to_markdown

    try:
        report = build_report(args.since, args.until, endpoints=args.endpoints)
    except ReportError as exc:
        print(f"report: {exc}", file=sys.stderr)
        return 2
    if args.format == "json":
        sys.stdout.write(json.dumps(report, ensure_ascii=False, indent=1) + "\n")
    elif args.format == "csv":
        sys.stdout.write(to_csv(report))
    else:
        sys.stdout.write(to_markdown(report))
    return 0


# --- ask --------------------------------------------------------------------------------------------

def add_ask(sub) -> None:
    p = sub.add_parser("ask", help="ask the bot (same model and actions): reply, intent + confidence, place")
    p.add_argument("questions", nargs="*", metavar="QUESTION",
                   help="questions, asked in one conversation; none: one per stdin line")
    p.add_argument("--model", default=None, help="model (default: $FILMBOT_MODEL or models/current.tar.gz)")
    p.add_argument("--action-url", default=None, help="running action server webhook (default: start one)")
    p.add_argument("--json", action="store_true", help="one JSON object per question")
    p.set_defaults(func=cmd_ask)


def cmd_ask(args: argparse.Namespace) -> int:
    import os

    from bot.tools.ask import ask
    from bot.paths import ROOT

    model = args.model or os.environ.get("FILMBOT_MODEL") or str(ROOT / "models" / "current.tar.gz")
    if not os.path.exists(model):
        print(f"no model at {model}: run `make train` first", file=sys.stderr)
        return 2
    return ask(model, list(_lines(args.questions)), args.action_url, args.json)


# --- parser -----------------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    """Every module-level `add_*` function registers one subcommand."""
    parser = argparse.ArgumentParser(prog="python -m bot", description="Filmregionerna bot tools")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, add in list(globals().items()):
        if name.startswith("add_") and callable(add):
            add(sub)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)
