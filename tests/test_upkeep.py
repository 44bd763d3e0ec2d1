"""bot/tools/upkeep.py and `python -m bot registry stale|confirm`: which facts need checking, confirming them
(validated, atomic, locked), the answers following the confirmation, the live registry picking it up,
and scripts/import_reference.py keeping confirmations when it regenerates the file. Every test works on a
copy of registry/registry.yaml."""
from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bot import answers as A
from bot.tools import upkeep
from bot.registry import (
    FACT_KINDS,
    facets_dir,
    merge_facets,
    read_facets,
    RegistryStore,
    get_registry,
    iter_fact_dicts,
    load_registry,
    read_raw,
    reset_registry_store,
)
from bot.tools.upkeep import UpkeepError, confirm, confirm_facts, stale

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "registry" / "registry.yaml"
REFERENCE = ROOT / "registry" / "reference"   # a copy of the researched reference the registry is generated from
TODAY = dt.date.today()
STALE_NOTE = {lang: A.t("stale_note", lang) for lang in ("sv", "en")}


@pytest.fixture
def reg_path(tmp_path) -> Path:
    path = tmp_path / "registry.yaml"
    path.write_bytes(REAL.read_bytes())
    return path


def run_cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "bot", "registry", *args], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=120)


def centre_raw(path: Path, centre_id: str) -> dict:
    return next(c for c in read_raw(path.read_text(encoding="utf-8"))["centres"] if c["id"] == centre_id)


# ---------------------------------------------------------------- stale()

def test_stale_lists_exactly_the_facts_that_need_checking_with_their_source():
    reg = load_registry(REAL)
    items = stale(reg, TODAY)
    expected = [(c.id, k) for c in reg.centres for _, k, _, f in c.keyed_facts() if f.is_stale(TODAY)]
    assert [(i["centre"], i["key"]) for i in items] == expected and items
    for item in items:
        assert {"centre", "centre_name", "kind", "key", "title", "source", "published", "confirmed",
                "why"} <= set(item)
        assert item["kind"] in FACT_KINDS and item["title"] and item["why"]
        assert item["centre_name"] == reg.centre(item["centre"]).name
        fact = reg.centre(item["centre"]).fact(item["key"])
        assert item["source"] == fact.source and item["published"] == fact.published
        assert item["confirmable"] == bool(fact.source)
        assert item["source"] is None or item["source"].startswith("http")
    short = next(i for i in items if i["centre"] == "film-i-dalarna" and i["topic"] == "short_film")
    assert short["kind"] == "offer" and short["published"] == "2021-05-07" and short["reason"] == "old"
    assert "2021-05-07" in short["why"] and short["source"].startswith("https://filmidalarna.se/")
    # a fact published less than two years ago is fresh: Sörmland's 2025 school-cinema offer
    assert not any(i["centre"] == "film-i-sormland" and i["published"] == "2025" for i in items)


def test_stale_defaults_to_the_live_registry_and_json_round_trips():
    assert stale() == stale(load_registry(REAL))
    assert json.loads(json.dumps(stale(today=TODAY))) == stale(today=TODAY)


def test_keys_are_stable_unique_and_the_same_for_raw_yaml_and_models():
    reg = load_registry(REAL)
    raw = merge_facets(read_raw(REAL.read_text(encoding="utf-8")), read_facets(facets_dir(REAL))[0], [])
    assert any(c.facets for c in reg.centres)
    for raw_centre, centre in zip(raw["centres"], reg.centres):
        keys = [(k, key, w) for k, key, w, _ in centre.keyed_facts()]
        assert keys == [(k, key, w) for k, key, w, _ in iter_fact_dicts(raw_centre)]
        assert len({key for _, key, _ in keys}) == len(keys), centre.id
    # reordering the offers keeps every offer's key
    centre = next(c for c in raw["centres"] if c["id"] == "film-i-dalarna")
    before = {key for k, key, _, _ in iter_fact_dicts(centre) if k == "offer"}
    centre["offers"].reverse()
    assert {key for k, key, _, _ in iter_fact_dicts(centre) if k == "offer"} == before


# ---------------------------------------------------------------- confirm()

def test_confirm_a_whole_centre(reg_path):
    before = reg_path.read_text(encoding="utf-8")
    n = confirm("film-i-dalarna", by="Anna Andersson", today=TODAY, path=reg_path)
    reg = load_registry(reg_path)
    centre = reg.centre("film-i-dalarna")
    facts = list(centre.keyed_facts())
    assert n == len(facts)
    for _, _, _, fact in facts:
        assert fact.confirmed.date == TODAY and fact.confirmed.by == "Anna Andersson"
        assert not fact.is_stale(TODAY)
    assert not [i for i in stale(reg, TODAY) if i["centre"] == "film-i-dalarna"]
    # nothing else changed: the diff only adds confirmation lines
    after = reg_path.read_text(encoding="utf-8")
    added = [l for l in after.splitlines() if l not in before.splitlines()]
    assert after.startswith("# Generated by scripts/import_reference.py")
    assert len(after.splitlines()) - len(before.splitlines()) == 3 * n
    assert {l.strip().split(":")[0] for l in added} == {"confirmed", "date", "by"}
    others = [c for c in reg.centres if c.id != "film-i-dalarna"]
    assert not any(f.confirmed for c in others for _, f in c.facts())


def test_confirm_by_kind_topic_and_key(reg_path):
    keys = {k for _, k, _, _ in load_registry(reg_path).centre("film-i-sormland").keyed_facts()}
    assert confirm("film-i-sormland", kind="general_contact", by="anna", today=TODAY, path=reg_path) == 1
    centre = load_registry(reg_path).centre("film-i-sormland")
    assert [k for _, k, _, f in centre.keyed_facts() if f.confirmed] == ["general_contact"]
    n = confirm("film-i-sormland", kind="film_for_children_and_youth", by="anna", today=TODAY, path=reg_path)
    assert n == 2
    key = next(k for k in keys if k.startswith("offer:screenings_and_film_culture:"))
    assert confirm("film-i-sormland", key=key, by="anna", today=TODAY, path=reg_path) == 1
    confirmed = {k for _, k, _, f in load_registry(reg_path).centre("film-i-sormland").keyed_facts() if f.confirmed}
    assert confirmed == {"general_contact", key} | {k for k in keys if k.startswith("offer:film_for_children")}


def test_a_guess_is_confirmed_only_by_its_key_and_then_counts_as_verified(reg_path):
    key = "offer:film_for_children_and_youth:c692dd"     # Örebro: unverified, with a source
    reg = load_registry(reg_path)
    assert reg.centre("film-i-orebro-lan").fact(key).unverified
    before = A.answer_topic(reg, "18", "film_for_children_and_youth", "sv", TODAY).text
    done = confirm_facts("film-i-orebro-lan", by="anna", today=TODAY, path=reg_path)
    assert key in {s["key"] for s in done.skipped} and key not in {c["key"] for c in done.confirmed}
    assert not load_registry(reg_path).centre("film-i-orebro-lan").fact(key).confirmed
    assert confirm("film-i-orebro-lan", key=key, by="anna", today=TODAY, path=reg_path) == 1
    reg = load_registry(reg_path)
    fact = reg.centre("film-i-orebro-lan").fact(key)
    assert fact.unverified and fact.verified and not fact.is_stale(TODAY)
    after = A.answer_topic(reg, "18", "film_for_children_and_youth", "sv", TODAY).text
    assert fact.source not in before and f"Källa: {fact.source}" in after
    # two years and a day later the confirmation no longer makes it fresh, but it stays verified (shown)
    later = TODAY.replace(year=TODAY.year + 2) + dt.timedelta(days=1)
    assert fact.is_stale(later) and fact.verified


def test_a_fact_without_a_source_cannot_be_confirmed(reg_path):
    raw = centre_raw(reg_path, "film-i-sormland")
    assert raw["seat"]["unverified"] and "source" not in raw["seat"]
    before = reg_path.read_bytes()
    with pytest.raises(UpkeepError, match="no source"):
        confirm("film-i-sormland", key="seat", by="anna", today=TODAY, path=reg_path)
    assert reg_path.read_bytes() == before


@pytest.mark.parametrize("args, message", [
    (dict(centre_id="film-i-narnia"), "unknown centre 'film-i-narnia'"),
    (dict(centre_id="Film i Dalarnaa"), "did you mean film-i-dalarna"),
    (dict(centre_id="film-i-dalarna", kind="funding"), "unknown kind 'funding'"),
    (dict(centre_id="film-i-dalarna", kind="unit"), "has no unit fact"),
    (dict(centre_id="film-i-dalarna", key="offer:short_film:000000"), "no fact with key"),
    (dict(centre_id="film-i-dalarna", kind="contact", key="website"), "of kind 'website', not 'contact'"),
    (dict(centre_id="film-i-dalarna", by="   "), "who confirmed"),
    (dict(centre_id="film-i-dalarna", by="anna\nbertil"), "fails validation.*confirmed.by"),
    (dict(centre_id="film-i-dalarna", today=TODAY + dt.timedelta(days=1)), "fails validation.*in the future"),
    (dict(centre_id="film-i-dalarna", key="offer:short_film:0b782b", today=dt.date(2021, 5, 6)),
     "fails validation.*before the page's own date"),
])
def test_a_refused_confirmation_leaves_the_file_byte_for_byte(reg_path, args, message):
    before = reg_path.read_bytes()
    mtime = reg_path.stat().st_mtime_ns
    with pytest.raises(ValueError, match=message) as info:
        confirm(**{"by": "anna", "today": TODAY, "path": reg_path, **args})
    assert "\n" not in str(info.value)                          # one line for staff
    assert reg_path.read_bytes() == before and reg_path.stat().st_mtime_ns == mtime
    assert {p.name for p in reg_path.parent.iterdir()} <= {"registry.yaml", "registry.yaml.lock"}   # no temp file


def test_a_broken_file_is_not_edited(reg_path):
    text = reg_path.read_text(encoding="utf-8").replace("url: https://filmidalarna.se\n", "url: ftp://x\n", 1)
    reg_path.write_text(text, encoding="utf-8")
    with pytest.raises(UpkeepError, match="does not validate.*website.url"):
        confirm("film-i-sormland", by="anna", today=TODAY, path=reg_path)
    assert reg_path.read_text(encoding="utf-8") == text


def test_confirming_again_is_idempotent(reg_path):
    first = confirm("film-i-dalarna", by="anna", today=TODAY, path=reg_path)
    text, stat = reg_path.read_bytes(), reg_path.stat()
    again = confirm_facts("film-i-dalarna", by="anna", today=TODAY, path=reg_path)
    assert len(again.confirmed) == first and not again.written
    assert reg_path.read_bytes() == text and reg_path.stat().st_ino == stat.st_ino
    # a later confirmation replaces the earlier one in place (no second entry)
    confirm("film-i-dalarna", by="bertil", today=TODAY, path=reg_path)
    assert reg_path.read_text(encoding="utf-8").count("confirmed:") == first
    assert reg_path.read_text(encoding="utf-8").count("by: bertil") == first


def test_hand_formatted_file_is_written_in_the_importers_style(reg_path, tmp_path):
    import yaml

    data = read_raw(reg_path.read_text(encoding="utf-8"))
    reg_path.write_text("# hand-edited\n" + yaml.safe_dump(data, allow_unicode=True, width=70), encoding="utf-8")
    confirm("film-i-dalarna", key="website", by="anna", today=TODAY, path=reg_path)
    text = reg_path.read_text(encoding="utf-8")
    assert text.startswith("# hand-edited\n")
    # the same text the importer writes: REAL's content in REAL's style, plus three confirmation lines
    body = REAL.read_text(encoding="utf-8").split("\n", 2)[2]
    assert len(text.splitlines()) == 1 + len(body.splitlines()) + 3
    load_registry(reg_path)


def test_concurrent_confirmations_are_both_kept(reg_path, monkeypatch):
    # Widen the read-modify-write window: without the lock, both threads read the original file
    # and the last writer silently drops the other's confirmation.
    real_validate = upkeep.validate_registry

    def slow_validate(*args, **kwargs):
        result = real_validate(*args, **kwargs)
        time.sleep(0.3)
        return result

    monkeypatch.setattr(upkeep, "validate_registry", slow_validate)
    errors = []

    def run(centre):
        try:
            confirm(centre, kind="website", by=f"staff-{centre}", today=TODAY, path=reg_path)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(c,)) for c in ("film-i-dalarna", "film-i-sormland", "film-i-ost")]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    assert not errors
    reg = load_registry(reg_path)
    for centre in ("film-i-dalarna", "film-i-sormland", "film-i-ost"):
        assert reg.centre(centre).website.confirmed.by == f"staff-{centre}"


def test_the_command_line_waits_for_another_edit_to_finish(reg_path):
    with upkeep._locked(reg_path):
        proc = subprocess.Popen([sys.executable, "-m", "bot", "registry", "confirm", "film-i-dalarna", "--by", "cli",
                                 "--registry", str(reg_path)], cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        time.sleep(3)
        assert proc.poll() is None, proc.communicate()       # still waiting for the lock
        assert "confirmed:" not in reg_path.read_text(encoding="utf-8")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "by: cli" in reg_path.read_text(encoding="utf-8")


# ---------------------------------------------------------------- answers and the live registry

def test_answer_note_follows_the_confirmation_of_the_facts_shown(reg_path):
    def answer(lang="sv"):
        return A.answer_topic(load_registry(reg_path), "04", "film_for_children_and_youth", lang, TODAY).text

    # Sörmland's school-cinema answer shows an undated offer, a 2025 offer and the undated general contact
    first = answer()
    assert STALE_NOTE["sv"] in first
    undated = next(i["key"] for i in stale(load_registry(reg_path), TODAY)
                   if i["centre"] == "film-i-sormland" and i["topic"] == "film_for_children_and_youth")
    confirm("film-i-sormland", key=undated, by="anna", today=TODAY, path=reg_path)
    assert STALE_NOTE["sv"] in answer()                   # the general contact is still unconfirmed
    confirm("film-i-sormland", kind="general_contact", by="anna", today=TODAY, path=reg_path)
    sv, en = answer("sv"), answer("en")
    assert STALE_NOTE["sv"] not in sv and "kontrollera" not in sv
    assert STALE_NOTE["en"] not in en
    assert f"odaterad sida, bekräftad {TODAY.isoformat()}" in sv
    assert f"undated page, confirmed {TODAY.isoformat()}" in en and "bekräftad" not in en
    # every source shown before is still shown
    sources = {u for u in first.split() if u.startswith("https://")}
    assert sources and all(u in sv for u in sources)
    # a confirmation more than two years old no longer keeps the answer clean
    later = TODAY.replace(year=TODAY.year + 2) + dt.timedelta(days=1)
    assert STALE_NOTE["sv"] in A.answer_topic(load_registry(reg_path), "04", "film_for_children_and_youth", "sv",
                                              later).text


def test_live_registry_picks_up_a_confirmation_at_once(reg_path, monkeypatch):
    monkeypatch.setenv("FILMBOT_REGISTRY", str(reg_path))
    reset_registry_store()
    try:
        assert get_registry().centre("film-i-dalarna").website.confirmed is None
        confirm("film-i-dalarna", key="website", by="anna", today=TODAY, path=reg_path)
        assert get_registry().centre("film-i-dalarna").website.confirmed.by == "anna"      # no wait
        confirm("film-i-dalarna", key="website", by="bert", today=TODAY, path=reg_path)    # same size, same second
        assert get_registry().centre("film-i-dalarna").website.confirmed.by == "bert"
    finally:
        monkeypatch.delenv("FILMBOT_REGISTRY")
        reset_registry_store()


class CoarseClockStore(RegistryStore):
    """A file system that stores whole seconds and nothing else (FAT-like): only the digest sees a
    second write within the same second."""

    def _stat(self):
        sig = super()._stat()
        return None if sig is None else tuple((name, 0, mtime // 10**9 * 10**9, 0, size)
                                              for name, _, mtime, _, size in sig)


def test_two_writes_within_one_timestamp_tick_are_both_seen(reg_path):
    store = CoarseClockStore(reg_path, check_interval=0)
    text = reg_path.read_text(encoding="utf-8")
    assert store.get().centre("film-i-dalarna").name == "Film i Dalarna"
    for name in ("Film i Dalarnb", "Film i Dalarnc"):          # same size each time
        reg_path.write_text(text.replace("name: Film i Dalarna\n", f"name: {name}\n", 1), encoding="utf-8")
        assert store.get().centre("film-i-dalarna").name == name
    first = store.get()
    assert store.get() is first                                  # unchanged: same object


# ---------------------------------------------------------------- command line

def test_cli_stale_md_and_json(reg_path):
    md = run_cli("stale", "--registry", str(reg_path), "--centre", "FILM I DALARNA")
    assert md.returncode == 0, md.stderr
    assert "## Film i Dalarna (film-i-dalarna):" in md.stdout and "Film i Skåne" not in md.stdout
    assert "`offer:short_film:0b782b`" in md.stdout and "https://filmidalarna.se/" in md.stdout
    js = run_cli("stale", "--format", "json", env={"FILMBOT_REGISTRY": str(reg_path)})
    assert js.returncode == 0, js.stderr
    assert json.loads(js.stdout) == json.loads(json.dumps(stale(load_registry(reg_path), TODAY)))
    bad = run_cli("stale", "--registry", str(reg_path), "--centre", "narnia")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "unknown centre 'narnia'" in bad.stderr


def test_cli_confirm(reg_path):
    ok = run_cli("confirm", "Film i Dalarna", "--kind", "offer", "--registry", str(reg_path),
                 env={"USER": "cecilia"})
    assert ok.returncode == 0, ok.stderr
    assert "confirmed 8 fact(s) of Film i Dalarna (film-i-dalarna)" in ok.stdout and "by cecilia" in ok.stdout
    assert "offer:short_film:0b782b" in ok.stdout
    offers = centre_raw(reg_path, "film-i-dalarna")["offers"]
    assert all(o["confirmed"] == {"date": TODAY, "by": "cecilia"} for o in offers)
    before = reg_path.read_bytes()
    for args in (["confirm", "narnia", "--by", "x"], ["confirm", "film-i-dalarna", "--kind", "nope", "--by", "x"],
                 ["confirm", "film-i-dalarna", "--by", ""]):
        bad = run_cli(*args, "--registry", str(reg_path))
        assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and bad.stderr.startswith("registry confirm: ")
    assert reg_path.read_bytes() == before
    check = run_cli("check", str(reg_path))
    assert check.returncode == 0 and "8 confirmed within two years" in check.stdout


# ---------------------------------------------------------------- the importer keeps confirmations

def _importer():
    spec = importlib.util.spec_from_file_location("import_reference", ROOT / "scripts" / "import_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_importer_regenerates_the_registry_and_keeps_confirmations(tmp_path, capsys):
    assert (REFERENCE / "centres.yaml").exists(), f"the reference folder is missing: {REFERENCE}"
    imp = _importer()
    out = tmp_path / "registry.yaml"
    assert imp.main([str(REFERENCE), "-o", str(out)]) == 0
    assert out.read_bytes() == REAL.read_bytes()           # the committed file is the importer's output
    confirm("film-i-dalarna", by="anna", today=TODAY, path=out)
    confirm("film-i-orebro-lan", key="offer:film_for_children_and_youth:c692dd", by="bo", today=TODAY, path=out)
    confirmed = out.read_bytes()
    capsys.readouterr()
    assert imp.main([str(REFERENCE), "-o", str(out)]) == 0
    assert out.read_bytes() == confirmed                   # same facts, same confirmations, same bytes
    assert "14 confirmations kept" in capsys.readouterr().out
    # a fact whose text changed is another fact: its confirmation is dropped, with a warning
    text = out.read_text(encoding="utf-8").replace(
        "text_sv: Stöd till och samproduktion av kortfilm med anknytning till Dalarna.",
        "text_sv: Stöd till kortfilm (ändrad text).", 1)
    out.write_text(text, encoding="utf-8")
    assert imp.main([str(REFERENCE), "-o", str(out), ]) == 0
    captured = capsys.readouterr()
    assert "13 confirmations kept, 1 dropped" in captured.out
    assert "film-i-dalarna: offers[3]" in captured.err and "changed or is gone" in captured.err
    assert imp.main([str(REFERENCE), "-o", str(out), "--discard-confirmations"]) == 0
    assert out.read_bytes() == REAL.read_bytes()


def test_importer_drops_a_confirmation_older_than_the_new_page_date():
    imp = _importer()
    new = {"centres": [{"id": "c", "website": {"url": "https://a.se", "source": "https://a.se", "published": "2026-06"},
                        "offers": []}]}
    old = {"centres": [{"id": "c", "website": {"url": "https://a.se", "source": "https://a.se", "published": "2025",
                                               "confirmed": {"date": dt.date(2026, 1, 2), "by": "anna"}}}]}
    kept, dropped = imp.merge_confirmations(new, old)
    assert kept == 0 and "confirmed" not in new["centres"][0]["website"]
    assert len(dropped) == 1 and "dated 2026-06, after it" in dropped[0]
    new["centres"][0]["website"]["published"] = "2025-12"
    assert imp.merge_confirmations(new, old)[0] == 1
    assert new["centres"][0]["website"]["confirmed"] == {"date": dt.date(2026, 1, 2), "by": "anna"}
