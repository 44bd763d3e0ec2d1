"""Where the time goes, with py-spy (requirements.lock): samples a real process and sums inclusive time.

    python bench/pyspy_profile.py serve MODEL [--concurrency 10 --seconds 20]   # Rasa server under REST load
    python bench/pyspy_profile.py train [--config config.yml]                    # `rasa train` from clean
    python bench/pyspy_profile.py start MODEL                                    # `rasa run` until first reply

Writes bench/profile-<kind>.txt (inclusive share of samples per category and the top functions) and the
raw collapsed stacks next to it in var/. Used to write the analysis in bench/notes.md; not part of
`make bench` (sampling slows the process it measures).
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Tuple

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from loadgen import run_load  # noqa: E402
from run_bench import post_json, test_messages  # noqa: E402
from bot.tools.stack import BotStack  # noqa: E402

VENV_BIN = ROOT / ".venv" / "bin"
PYSPY = str(VENV_BIN / "py-spy")

# category -> regex on a frame ("function (file:line)"); a sample counts once per category it touches
CATEGORIES = [
    ("tracker store: SQL read/write (sqlalchemy, sqlite3)", r"sqlalchemy|sqlite3|tracker_store\.py"),
    ("tracker (de)serialisation: events <-> dicts, replay", r"trackers\.py|events\.py|from_dict|as_dict|_reset_slots|applied_events"),
    ("NLU pipeline (all components)", r"rasa/nlu/|nlu_components|_parse_message_with_graph|parse_message"),
    ("  of which TensorFlow/Keras (DIET, ResponseSelector, TED: inference or training)", r"tensorflow|keras|rasa/utils/tensorflow"),
    ("  of which tokenizer (spaCy / whitespace)", r"spacy|tokenizer"),
    ("  of which CountVectors featurizers (scikit-learn)", r"count_vectors|sklearn|scipy"),
    ("  of which place resolution (bot/places.py)", r"bot/places\.py|bot/text\.py"),
    ("policies / action prediction", r"rasa/core/policies/|predict_next_action|_predict_next_with_tracker|ensemble"),
    ("custom actions: HTTP call to the action server", r"\(rasa/core/actions/action\.py|aiohttp|extract_slots"),
    ("Sanic / HTTP server, channel", r"sanic|rasa/core/channels/|bot/channels/"),
    ("asyncio loop bookkeeping", r"asyncio/"),
    ("logging / structlog", r"structlog|logging/"),
    ("jsonschema validation (mostly custom action responses, RemoteAction._validate_action_result)", r"jsonschema"),
    ("writing the model archive (gzip/tar)", r"gzip|tarfile"),
    ("model loading, imports", r"_find_and_load|load_agent|Agent\.load|import"),
    ("TensorFlow training (keras fit)", r"fit \(keras"),
]


def pyspy_record(out: Path, pid: int = 0, cmd: List[str] = None, seconds: int = 0, rate: int = 100,
                 env=None) -> subprocess.Popen:
    args = [PYSPY, "record", "--format", "raw", "-o", str(out), "--rate", str(rate), "--nonblocking"]
    if seconds:
        args += ["--duration", str(seconds)]
    if pid:
        args += ["--pid", str(pid)]
    else:
        args += ["--"] + cmd
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def summarise(raw: Path, title: str) -> str:
    stacks: List[Tuple[List[str], int]] = []
    for line in raw.read_text(errors="replace").splitlines():
        if not line.strip():
            continue
        stack, _, n = line.rpartition(" ")
        try:
            stacks.append((stack.split(";"), int(n)))
        except ValueError:
            continue
    total = sum(n for _, n in stacks) or 1
    lines = [f"# {title}", f"{total} samples (py-spy, active CPU only; idle waits excluded)", "",
             "## Inclusive share by category"]
    for name, pat in CATEGORIES:
        rx = re.compile(pat)
        n = sum(c for frames, c in stacks if any(rx.search(f) for f in frames))
        lines.append(f"{100 * n / total:5.1f}%  {name}")
    incl: Dict[str, int] = collections.Counter()
    selfc: Dict[str, int] = collections.Counter()
    for frames, c in stacks:
        for f in set(frames):
            incl[f] += c
        selfc[frames[-1]] += c
    lines += ["", "## Top functions, inclusive (excluding the outermost 12 frames' worth of entry points)"]
    shown = 0
    for f, c in incl.most_common(400):
        if re.search(r"<module>|run_forever|_run_once|_run \(asyncio|main \(|__call__ \(click|invoke \(click|"
                     r"run_until_complete|serve \(sanic|trace_calls|coroutine", f):
            continue
        lines.append(f"{100 * c / total:5.1f}%  {f}")
        shown += 1
        if shown >= 40:
            break
    lines += ["", "## Top functions, self time"]
    for f, c in selfc.most_common(25):
        lines.append(f"{100 * c / total:5.1f}%  {f}")
    return "\n".join(lines) + "\n"


def profile_serve(model: str, concurrency: int, seconds: int) -> str:
    work = Path(tempfile.mkdtemp(prefix="profile-", dir=ROOT / "var"))
    raw = work / "serve.raw"
    messages = test_messages()
    with BotStack(model=Path(model), workdir=work / "stack") as stack:
        url = stack.url + "/webhooks/rest/webhook"
        for i, m in enumerate(messages[::15]):
            post_json(url, {"sender": f"w{i % 3}", "message": m})
        spy = pyspy_record(raw, pid=stack.rasa_proc.pid, seconds=seconds + 2)
        time.sleep(1.5)
        res = asyncio.run(run_load(url, concurrency, 10_000, messages, sender_prefix="prof", timeout=30,
                                   seed=3, stop_after=seconds))
        spy.wait(60)
    head = (f"load during profiling: {concurrency} concurrent, {res['ok']} replies in {res['wall_s']} s "
            f"({res['throughput']} msg/s), p50 {res['p50_ms']:.0f} ms (py-spy slows the process a little)\n")
    return head + "\n" + summarise(raw, f"Rasa server under REST load, model {model}")


def profile_train(config: str) -> str:
    work = Path(tempfile.mkdtemp(prefix="profile-", dir=ROOT / "var"))
    raw = work / "train.raw"
    env = dict(os.environ, RASA_CACHE_DIRECTORY=str(work / "cache"), RASA_MAX_CACHE_SIZE="0",
               TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(ROOT))
    t0 = time.perf_counter()
    spy = pyspy_record(raw, cmd=[str(VENV_BIN / "python"), str(VENV_BIN / "rasa"), "train", "--config", config,
                                 "--domain", "domain.yml", "--data", "data", "--out", str(work / "out"),
                                 "--force", "--quiet"], env=env)
    spy.wait()
    return f"wall {time.perf_counter() - t0:.0f} s under py-spy\n\n" + summarise(raw, f"rasa train, {config}")


def profile_start(model: str) -> str:
    work = Path(tempfile.mkdtemp(prefix="profile-", dir=ROOT / "var"))
    raw = work / "start.raw"
    stack = BotStack(model=Path(model), workdir=work / "stack")
    stack.start_actions()
    try:
        t0 = time.perf_counter()
        spy = pyspy_record(raw, cmd=[str(VENV_BIN / "python")] + stack.rasa_command(), env=stack.env())
        url = stack.url + "/webhooks/rest/webhook"
        while True:
            try:
                if post_json(url, {"sender": "cold", "message": "hej"}, timeout=30):
                    break
            except Exception:
                time.sleep(0.1)
        ready = time.perf_counter() - t0
        time.sleep(0.5)
        spy.send_signal(2)   # py-spy writes its output on SIGINT; rasa gets it too and stops
        spy.wait(60)
    finally:
        stack.stop()
    return f"ready after {ready:.1f} s under py-spy\n\n" + summarise(raw, f"rasa run until first reply, {model}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("kind", choices=["serve", "train", "start"])
    ap.add_argument("model", nargs="?")
    ap.add_argument("--config", default="config.yml")
    ap.add_argument("--concurrency", type=int, default=10)
    ap.add_argument("--seconds", type=int, default=20)
    args = ap.parse_args(argv)
    if not shutil.which(PYSPY):
        print("py-spy is not installed in .venv (pip install -r requirements.lock)", file=sys.stderr)
        return 2
    if args.kind == "serve":
        text = profile_serve(args.model, args.concurrency, args.seconds)
    elif args.kind == "train":
        text = profile_train(args.config)
    else:
        text = profile_start(args.model)
    out = BENCH / f"profile-{args.kind}{'-' + Path(args.config).stem if args.kind == 'train' else ''}.txt"
    out.write_text(text)
    print(text)
    print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
