"""Registry upkeep: which centre facts need checking, and staff confirming them after checking.

    stale(registry=None, today=None) -> [dict]      the facts to check, per centre, with the source URL
    confirm(centre, kind=None, key=None, by="", today=None, path=None) -> int    facts confirmed

`stale()` lists exactly the facts that need checking (`Fact.is_stale`): unverified, undated or published
more than two years ago, and not confirmed within the last two years. A shown fact of that kind is what puts
the "kontrollera …" note in an answer (bot/answers.py); facts answers never show (a seat, an unverified
guess) are listed too, so the list is the centre's whole to-do.

`confirm()` writes `confirmed: {date, by}` on the chosen facts of one centre into registry/registry.yaml
(or $FILMBOT_REGISTRY, or `path`), and for the facts of its facets file (registry/facets/<id>.yaml: how to
apply, amounts, …, and a general contact kept there) into that file: every fact of the centre that has a source, those of one kind (a fact
kind such as "offer" or "general_contact", or an offer topic such as "short_film"), or the one fact named
by its key (`stale()`'s "key"). An unverified fact (a guess from general knowledge) is confirmed only when
named by its key: confirming the whole centre never turns a guess into a fact. A fact without a source URL
cannot be confirmed (there is nothing to check it against). Confirming again on the same day changes
nothing. The whole file is written in the importer's style (bot.registry.dump_registry; only its leading
comment lines are kept), validated with the registry's own validation, and replaced atomically, under a
file lock (`registry.yaml.lock` next to it) so the CLI and the staff page never lose each other's edit.
Every refusal is an UpkeepError (a ValueError) with one clear line, and then nothing is written.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import difflib
import fcntl
import os
import stat
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple, Union

import yaml

from bot.registry import (
    FACT_KINDS,
    Centre,
    Fact,
    Registry,
    RegistryError,
    default_path,
    dump_registry,
    facets_dir,
    get_registry,
    iter_fact_dicts,
    load_registry,
    merge_facets,
    read_facets,
    read_raw,
    validate_registry,
)
from bot.topics import OFFER_KINDS

LOCK_TIMEOUT = 30.0   # seconds to wait for another edit of the registry to finish
TITLE_CHARS = 100

KIND_NAMES = {   # Swedish, for the staff's list
    "organisation": "huvudman", "seat": "säte", "website": "webbplats", "general_contact": "kontaktuppgifter",
    "unit": "enhet", "offer": "erbjudande", "contact": "kontaktperson", "facet": "ansökan, belopp m.m.",
}


class UpkeepError(ValueError):
    """A refused look-up or edit; the message is one line for staff. Nothing was written."""


# ---------------------------------------------------------------- finding centres and facts

def find_centre(registry: Registry, text: str) -> Centre:
    """The centre named by `text`: its id, name, a former name or a unit's name (case-insensitive)."""
    wanted = " ".join(str(text or "").split()).casefold()
    if not wanted:
        raise UpkeepError("name a centre (its id, e.g. film-i-dalarna, or its name)")
    for centre in registry.centres:
        if centre.id == wanted:
            return centre
    hits = [c for c in registry.centres
            if wanted in {n.casefold() for n in [c.name, *c.former_names, *(u.name for u in c.units)]}]
    if len(hits) == 1:
        return hits[0]
    if len(hits) > 1:
        raise UpkeepError(f"{text!r} names more than one centre: {', '.join(c.id for c in hits)}; use the id")
    names = {c.id: c.id for c in registry.centres}
    names.update({c.name.casefold(): c.id for c in registry.centres})
    close = list(dict.fromkeys(names[m] for m in difflib.get_close_matches(wanted, list(names), n=3, cutoff=0.6)))
    hint = f" (did you mean {', '.join(close)}?)" if close else " (python -m bot registry stale lists the ids)"
    raise UpkeepError(f"unknown centre {text!r}{hint}")


def _title(kind: str, fact: Any) -> str:
    from bot.answers import topic_name

    if kind == "offer":
        text = f"{topic_name(fact.kind, 'sv')}: {' '.join(fact.text_sv.split())}"
    elif kind == "general_contact":
        text = ", ".join(b for b in (fact.email, fact.phone) if b) or "kontaktuppgifter"
    elif kind == "website":
        text = fact.url
    elif kind == "unit":
        text = fact.name
    elif kind == "contact":
        text = ", ".join(b for b in (fact.role, fact.name) if b)
    elif kind == "facet":
        about = topic_name(fact.topic, "sv") if fact.topic else "hela centret"
        text = f"{fact.facet} ({about}): {' '.join(fact.text_sv.split())}"
    else:   # organisation, seat
        text = getattr(fact, "value", None) or KIND_NAMES[kind]
    return text if len(text) <= TITLE_CHARS else text[: TITLE_CHARS - 1].rstrip() + "…"


def _why(fact: Fact, today: dt.date) -> Tuple[str, str]:
    """(reason code, Swedish explanation) for a fact that needs checking."""
    if not fact.verified:
        if not fact.source:
            return "unverified", ("overifierad och utan källa: kan inte bekräftas förrän uppgiften har en källa "
                                  "(referensen, scripts/import_reference.py)")
        return "unverified", "overifierad (bygger på allmän kunskap): kontrollera källan och bekräfta just denna uppgift"
    if not fact.published:
        reason, text = "undated", "odaterad sida"
    else:
        reason, text = "old", f"publicerad {fact.published}, äldre än två år"
    if fact.confirmed is not None and fact.confirmed.date <= today:
        text += f"; senast bekräftad {fact.confirmed.date.isoformat()} av {fact.confirmed.by} (mer än två år sedan)"
    else:
        text += "; aldrig bekräftad"
    return reason, text


def _confirmation(fact: Fact) -> Optional[Dict[str, str]]:
    c = fact.confirmed
    return {"date": c.date.isoformat(), "by": c.by} if c is not None else None


def stale(registry: Union[Registry, os.PathLike, str, None] = None,
          today: Optional[dt.date] = None) -> List[Dict[str, Any]]:
    """One dict per fact that needs checking, centres in registry order, facts in file order:
    {"centre", "centre_name", "kind", "key", "title", "source", "published", "confirmed": {"date", "by"}|None,
    "why"} plus "topic" (an offer's kind or a facet fact's topic, else None), "field" (path in the file), "reason" ("unverified",
    "undated" or "old") and "confirmable" (confirm() accepts it: it has a source).
    `registry`: a Registry, a path, or None for the live registry the bot answers from."""
    if registry is None:
        registry = get_registry()
    elif not isinstance(registry, Registry):
        registry = load_registry(registry)
    today = today or dt.date.today()
    out: List[Dict[str, Any]] = []
    for centre in registry.centres:
        for kind, key, where, fact in centre.keyed_facts():
            if not fact.is_stale(today):
                continue
            reason, why = _why(fact, today)
            out.append({
                "centre": centre.id, "centre_name": centre.name, "kind": kind, "key": key,
                "title": _title(kind, fact), "source": fact.source, "published": fact.published,
                "confirmed": _confirmation(fact), "why": why,
                "topic": getattr(fact, "kind", None) if kind == "offer" else (
                    getattr(fact, "topic", None) if kind == "facet" else None),
                "field": where, "reason": reason, "confirmable": bool(fact.source),
            })
    return out


# ---------------------------------------------------------------- confirming

@dataclass
class Confirmed:
    """What confirm_facts() did: facts confirmed and facts of the selection left alone (with why)."""
    centre: str
    centre_name: str
    path: Path
    date: dt.date
    by: str
    confirmed: List[Dict[str, str]] = field(default_factory=list)   # {"kind", "key", "title"}
    skipped: List[Dict[str, str]] = field(default_factory=list)     # {"kind", "key", "title", "why"}
    written: bool = False   # False when every chosen fact already carried this confirmation


def confirm(centre_id: str, kind: Optional[str] = None, key: Optional[str] = None, by: str = "",
            today: Optional[dt.date] = None, path: Optional[os.PathLike] = None) -> int:
    """Confirm facts of one centre (module docstring); the number of facts confirmed."""
    return len(confirm_facts(centre_id, kind, key, by, today, path).confirmed)


def confirm_facts(centre_id: str, kind: Optional[str] = None, key: Optional[str] = None, by: str = "",
                  today: Optional[dt.date] = None, path: Optional[os.PathLike] = None) -> Confirmed:
    """confirm() with the details, for the command line."""
    by = str(by or "").strip()   # the registry's validation refuses a name that is not one line
    if not by:
        raise UpkeepError("say who confirmed the facts (--by NAME)")
    if isinstance(today, str):
        try:
            today = dt.date.fromisoformat(today)
        except ValueError:
            raise UpkeepError(f"not a date YYYY-MM-DD: {today!r}") from None
    today = today or dt.date.today()
    path = Path(path) if path is not None else default_path()
    if kind is not None and kind not in FACT_KINDS and kind not in OFFER_KINDS:
        raise UpkeepError(f"unknown kind {kind!r} (a fact kind: {', '.join(FACT_KINDS)}; "
                          f"or an offer topic: {', '.join(OFFER_KINDS)})")

    with _locked(path):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UpkeepError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
        try:
            raw = read_raw(text)
            facets, problems = read_facets(facets_dir(path))
            merged = merge_facets(raw, facets, problems)
            registry = validate_registry(merged, path, problems)
        except (yaml.YAMLError, RegistryError) as exc:
            problems = getattr(exc, "problems", None) or [f"invalid YAML: {str(exc).splitlines()[0]}"]
            raise UpkeepError(f"{path} does not validate ({len(problems)} problem(s); see "
                              f"`python -m bot registry check`), fix it first: {problems[0]}") from None
        centre = find_centre(registry, centre_id)
        # the merged centre shares its fact mappings with registry.yaml's data and the centre's facets file
        raw_centre = next(c for c in merged["centres"] if isinstance(c, dict) and c.get("id") == centre.id)
        chosen = list(_select(centre, raw_centre, kind, key))

        result = Confirmed(centre.id, centre.name, path, today, by)
        stamp = {"date": today, "by": by}
        for fkind, fkey, raw_fact, fact in chosen:
            item = {"kind": fkind, "key": fkey, "title": _title(fkind, fact)}
            if not fact.source:
                result.skipped.append({**item, "why": "no source URL to check it against"})
            elif fact.unverified and key is None:
                result.skipped.append({**item, "why": "unverified: confirm it by its key after checking the source"})
            else:
                raw_fact["confirmed"] = dict(stamp)
                result.confirmed.append(item)
        if not result.confirmed:
            what = f"{kind} facts" if kind else "facts"
            reasons = "; ".join(f"{s['key']}: {s['why']}" for s in result.skipped[:3])
            raise UpkeepError(f"nothing to confirm among the {what} of {centre.id}: {reasons}")

        # the files to write: registry.yaml, and the centre's facets file when it holds a chosen fact
        writes: List[Tuple[Path, str, str]] = [(path, text, dump_registry(raw, _header(text)))]
        new_facets = dict(facets)
        if centre.id in facets:
            fpath, fraw = facets[centre.id]
            ftext = fpath.read_text(encoding="utf-8")
            new_ftext = dump_registry(fraw, _header(ftext))
            writes.append((fpath, ftext, new_ftext))
            new_facets[centre.id] = (fpath, read_raw(new_ftext))
        writes = [w for w in writes if w[1] != w[2]]
        if not writes:
            return result
        try:
            check: List[str] = []
            validate_registry(merge_facets(read_raw(writes[0][2] if writes[0][0] == path else text),
                                           new_facets, check), path, check)
        except RegistryError as exc:
            raise UpkeepError("the confirmation fails validation, nothing written: "
                              + "; ".join(exc.problems[:3])
                              + (f" (and {len(exc.problems) - 3} more)" if len(exc.problems) > 3 else "")) from None
        for file, _, new_text in writes:
            _replace(file, new_text)
        result.written = True
        return result


def _select(centre: Centre, raw_centre: dict, kind: Optional[str], key: Optional[str]
            ) -> Iterator[Tuple[str, str, dict, Fact]]:
    """(kind, key, raw mapping, validated fact) of the centre's facts chosen by kind and key."""
    raw_facts = {k: f for _, k, _, f in iter_fact_dicts(raw_centre)}
    facts = [(fk, k, f) for fk, k, _, f in centre.keyed_facts()]

    def kind_matches(fkind: str, fact: Fact) -> bool:
        return kind is None or fkind == kind or (fkind == "offer" and getattr(fact, "kind", None) == kind)

    if key is not None:
        found = [(fk, k, f) for fk, k, f in facts if k == key]
        if not found:
            raise UpkeepError(f"{centre.id} has no fact with key {key!r} "
                              f"(`python -m bot registry stale --centre {centre.id}` lists the keys)")
        fkind, fkey, fact = found[0]
        if not kind_matches(fkind, fact):
            raise UpkeepError(f"fact {key!r} of {centre.id} is of kind {fkind!r}, not {kind!r}")
        yield fkind, fkey, raw_facts[fkey], fact
        return
    chosen = [(fk, k, f) for fk, k, f in facts if kind_matches(fk, f)]
    if not chosen:
        raise UpkeepError(f"{centre.id} has no {kind} fact")
    for fkind, fkey, fact in chosen:
        yield fkind, fkey, raw_facts[fkey], fact


def _header(text: str) -> str:
    """The file's leading comment lines (the importer's note), kept when the file is rewritten."""
    lines = []
    for line in text.splitlines(keepends=True):
        if not line.startswith("#"):
            break
        lines.append(line if line.endswith("\n") else line + "\n")
    return "".join(lines)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock around read-modify-write of `path`: flock on `<path>.lock` (other processes,
    and other threads, which open the lock file separately), waiting at most LOCK_TIMEOUT seconds."""
    lock_path = path.with_name(path.name + ".lock")
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise UpkeepError(f"cannot lock {path} ({lock_path}: {exc.strerror or exc})") from None
    try:
        deadline = time.monotonic() + LOCK_TIMEOUT
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise UpkeepError(f"{path} is being edited by another process (lock {lock_path} held for "
                                      f"more than {LOCK_TIMEOUT:g} s); try again") from None
                time.sleep(0.02)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _replace(path: Path, text: str) -> None:
    """Write `text` to a temporary file beside `path` (same mode), flush it to disk, then rename it over
    `path`: a reader sees the old file or the new one, never half of one."""
    mode = stat.S_IMODE(path.stat().st_mode)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


# ---------------------------------------------------------------- coverage of the facets

def coverage(registry: Union[Registry, os.PathLike, str, None] = None) -> List[Dict[str, Any]]:
    """Per centre: how many sourced facts it has on each facet (bot.facets.FACETS), whether it has a sourced
    general contact, and how many facets are sourced at all. Organisation counts the registry's sourced
    organisation field too; contact counts the general contact too."""
    from bot.facets import FACETS

    if registry is None:
        registry = get_registry()
    elif not isinstance(registry, Registry):
        registry = load_registry(registry)
    rows = []
    for centre in registry.centres:
        counts = {f: 0 for f in FACETS}
        for fact in centre.facets:
            if fact.verified and fact.source:
                counts[fact.facet] += 1
        gc = centre.general_contact
        has_contact = bool(gc is not None and gc.verified and gc.source and (gc.email or gc.phone or gc.page))
        counts["contact"] += int(has_contact)
        counts["organisation"] += int(bool(centre.organisation.verified and centre.organisation.source))
        rows.append({"centre": centre.id, "name": centre.name, "facets": counts,
                     "general_contact": has_contact,
                     "general_contact_kinds": [k for k in ("email", "phone", "page") if has_contact and getattr(gc, k)],
                     "sourced_facets": sum(1 for n in counts.values() if n),
                     "not_found": len(centre.facets_not_found)})
    return rows


def coverage_markdown(rows: List[Dict[str, Any]]) -> str:
    from bot.facets import FACETS

    head = ["centre", *FACETS, "general contact", "facets sourced", "not found"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r["centre"], *(str(r["facets"][f]) if r["facets"][f] else "–" for f in FACETS),
                 "/".join(r["general_contact_kinds"]) or "–", str(r["sourced_facets"]), str(r["not_found"])]
        lines.append("| " + " | ".join(cells) + " |")
    with_contact = sum(r["general_contact"] for r in rows)
    three = sum(r["sourced_facets"] >= 3 for r in rows)
    lines.append("")
    lines.append(f"Centres with a general contact: {with_contact}/{len(rows)}. "
                 f"Centres with at least three of the six facets sourced: {three}/{len(rows)}.")
    lines.append("Cells: sourced facts per facet (organisation and contact include the registry's organisation "
                 "field and the general contact).")
    return "\n".join(lines)
