"""`python -m bot <command>`: small command-line tools around the pure-Python core.

Each subcommand registers itself in its own ``add_<name>_command(subparsers)`` function and runs in a
``cmd_<name>(args) -> int`` function, so commands can be added without touching the others.
"""
from __future__ import annotations

import argparse
import json
import sys
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

def add_registry_command(sub) -> None:
    p = sub.add_parser("registry", help="registry tools (check)",
                       description="Tools for registry/registry.yaml.")
    rsub = p.add_subparsers(dest="registry_command", metavar="SUBCOMMAND")
    check = rsub.add_parser("check", help="validate a registry file",
                            description="Validate PATH (default: $FILMBOT_REGISTRY or registry/registry.yaml). "
                                        "Exit 0 with a one-line summary, or 1 with one problem per line.")
    check.add_argument("path", nargs="?", default=None, metavar="PATH")
    check.add_argument("--today", default=None, metavar="YYYY-MM-DD",
                       help="date used to count stale facts (default: today)")
    check.set_defaults(func=cmd_registry_check)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


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


# --- parser -----------------------------------------------------------------------------------------

COMMANDS = [add_lookup_command, add_registry_command]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Filmregionerna bot tools")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in COMMANDS:
        add(sub)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)
