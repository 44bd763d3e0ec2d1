"""`make bench`: our lean config (A, config.yml) against Rasa's default configuration (B,
bench/config_default.yml) on the same data, domain and actions, plus the floor (a bare Sanic echo endpoint).

Per repetition, interleaved A, B, A, B...: training from clean (fresh --out dir, fresh Rasa cache, --force),
cold start (`rasa run` launched -> first answered REST message, the real action server already up), RSS of
the Rasa server and of the action server after warm-up (VmRSS summed over the process tree), reply latency
through REST at 1, 10 and 50 concurrent conversations and throughput at 50, then the floor with the same
client; with them, the project at the previous commit (BENCH_PREVIOUS, default 99bc9a9: a `git worktree` of
it under var/, with its own model trained once by its scripts/train.sh). Then per stack: registry topic questions at 1 concurrent and latency by turn number
(bench/turns.py, 3 x 100 turns). After the repetitions: held-out NLU accuracy of the last A and B models
(in-process, `python -m bot nlu-report --jsonl`: bot/tools/nlu_eval.py), place resolution alone (bench/bench_places.py), latency by turn number
for A and B on a throwaway PostgreSQL, and the full-load run for A (50 conversations x 100 messages;
bench/load.py when it exists, else bench/loadgen.py).

Writes bench/results.json, BENCHMARKS.md, bench/latency.png and bench/turns.png. `--render` re-renders the last two from
bench/results.json. Environment: BENCH_REPS (default 3), BENCH_SCALE (multiplies request counts; default
1), BENCH_FULL_LOAD (conversations x messages, default 50x100; 0 skips), BENCH_BUDGET_S (default 1680:
no new repetition starts when the estimate says the run would exceed it).
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import importlib.metadata
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, Optional

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from loadgen import run_load  # noqa: E402
from turns import run_turns  # noqa: E402
from bot.tools.stack import BotStack, free_port  # noqa: E402

VENV_BIN = ROOT / ".venv" / "bin"
PY = str(VENV_BIN / "python")
CONFIGS = {"A": ROOT / "config.yml", "B": BENCH / "config_default.yml"}
CONCURRENCY = (1, 10, 50)
RESULTS = BENCH / "results.json"
REPORT = ROOT / "BENCHMARKS.md"
PLOT = BENCH / "latency.png"
NOTES = BENCH / "notes.md"


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


# -- helpers ---------------------------------------------------------------------------------------
def test_messages(intents: Optional[set] = None) -> List[str]:
    """Held-out test messages (sv + en) with entity markup removed: the traffic mix of the load runs.
    The `start_over` examples are left out: they clear the conversation, which a load test should not do.
    With `intents`: only those intents' examples."""
    import yaml

    out = []
    for name in ("test_nlu.yml", "test_nlu_en.yml"):
        data = yaml.safe_load((ROOT / "tests/nlu" / name).read_text())
        for block in data.get("nlu", []):
            if block.get("intent") == "start_over" or (intents is not None and block.get("intent") not in intents):
                continue
            for line in str(block.get("examples", "")).splitlines():
                line = line.strip()
                if line.startswith("- "):
                    out.append(re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", line[2:]).strip())
    return [m for m in out if m]


def tree_rss_mb(pid: int) -> Optional[float]:
    """VmRSS of pid and all its descendants, in MB (10^6 bytes), from /proc."""
    children: Dict[int, List[int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            stat = Path(f"/proc/{d}/stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(d))
        except (OSError, ValueError, IndexError):
            continue
    total_kb, todo, seen = 0, [pid], set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
        except OSError:
            continue
        todo.extend(children.get(p, []))
    return round(total_kb * 1024 / 1e6, 1) if seen else None


def post_json(url: str, body: Any, timeout: float = 30) -> Any:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return json.loads(resp.read())


def kill_group(proc: Optional[subprocess.Popen]) -> None:
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(15)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


PER_CONV = {1: 50, 10: 20, 50: 8}
TURNS = (3, 100)          # latency by turn number: 3 conversations x 100 turns, 1 concurrent
TOPIC_N = 40              # p50 at 1 concurrent for registry topic questions: 40 of them
# "prev": the project before the windowed tracker store (issue 13), same A model, for the ratio to it
PREVIOUS = os.environ.get("BENCH_PREVIOUS", "99bc9a9")


def topic_messages() -> List[str]:
    """Held-out registry topic questions (the intents bot.topics maps to a registry topic)."""
    from bot.topics import INTENT_TOPICS

    return test_messages(set(INTENT_TOPICS))


def previous_worktree(commit: str) -> Optional[Path]:
    """A `git worktree` of `commit` under var/ (made once; its .venv is ours), or None if it fails."""
    path = ROOT / "var" / f"bench-prev-{commit}"
    try:
        if not path.is_dir():
            subprocess.run(["git", "worktree", "prune"], cwd=ROOT, check=False)
            subprocess.run(["git", "worktree", "add", "--detach", str(path), commit], cwd=ROOT, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if not (path / ".venv").exists():
            (path / ".venv").symlink_to((ROOT / ".venv").resolve())
        return path
    except (subprocess.CalledProcessError, OSError) as exc:
        log(f"previous commit {commit}: no worktree ({exc}); skipping it")
        return None


def previous_model(path: Path) -> Optional[str]:
    """The previous commit's own model (its config and components may differ from ours): its
    scripts/train.sh into its var/test-model, which trains only when its inputs changed (once)."""
    t0 = time.perf_counter()
    with open(ROOT / "var" / f"train-prev-{path.name}.log", "wb") as logf:
        rc = subprocess.call([str(path / "scripts" / "train.sh"), "--out", "var/test-model"], cwd=path,
                             stdout=logf, stderr=subprocess.STDOUT)
    model = path / "var" / "test-model" / "current.tar.gz"
    if rc != 0 or not model.exists():
        log(f"previous commit: training its model failed (rc {rc}); skipping it")
        return None
    log(f"previous commit: model ready in {time.perf_counter() - t0:.0f} s ({model})")
    return str(model)


def previous_stack_class(path: Path):
    """BotStack of the previous commit's bot/tools/stack.py, or tests/stack.py before it moved there (its own ROOT:
    its bot/ and actions/)."""
    import importlib.util

    source = path / "bot" / "tools" / "stack.py"
    if not source.exists():
        source = path / "tests" / "stack.py"
    spec = importlib.util.spec_from_file_location(f"prev_stack_{path.name}", source)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)   # type: ignore[union-attr]
    return mod.BotStack


def turns_one(url: str, tag: str) -> Dict[str, Any]:
    res = asyncio.run(run_turns(url, TURNS[0], TURNS[1], tag=tag))
    log(f"  {tag} turns: turn 1 {fmt(res['turn1_ms'])} ms, turn {TURNS[1]} {fmt(res[f'turn{TURNS[1]}_ms'])} ms "
        f"({res['last_over_first']}x; turns 2-11 vs {TURNS[1] - 10}-{TURNS[1]}: {res['last_band_over_first_band']}x), "
        f"failed {res['failed']}")
    return res


def sweep_one(url: str, messages: List[str], c: int, n: int, tag: str) -> Dict[str, Any]:
    res = asyncio.run(run_load(url, c, n, messages, sender_prefix=f"{tag}-c{c}", timeout=30, seed=c))
    log(f"  {tag} c={c}: p50 {fmt(res['p50_ms'])} ms p95 {fmt(res['p95_ms'])} p99 {fmt(res['p99_ms'])} "
        f"ms, {res['throughput']} msg/s, errors {res['errors']}, lost {res['lost']}")
    return res


# -- phases ----------------------------------------------------------------------------------------
def train(name: str, workdir: Path) -> Dict[str, Any]:
    out = workdir / f"model-{name}"
    cache = workdir / f"cache-{name}"
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(cache, ignore_errors=True)
    env = dict(os.environ, RASA_CACHE_DIRECTORY=str(cache), RASA_MAX_CACHE_SIZE="0",
               TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(ROOT))
    cmd = [str(VENV_BIN / "rasa"), "train", "--config", str(CONFIGS[name]), "--domain", "domain.yml",
           "--data", "data", "--out", str(out), "--fixed-model-name", "current", "--force", "--quiet"]
    t0 = time.perf_counter()
    with open(workdir / f"train-{name}.log", "wb") as logf:
        rc = subprocess.call(cmd, cwd=ROOT, env=env, stdout=logf, stderr=subprocess.STDOUT)
    secs = time.perf_counter() - t0
    shutil.rmtree(cache, ignore_errors=True)
    model = out / "current.tar.gz"
    if rc != 0 or not model.exists():
        raise RuntimeError(f"training {name} failed (rc {rc}); see {workdir}/train-{name}.log")
    log(f"train {name}: {secs:.1f} s")
    return {"train_s": round(secs, 2), "model": str(model)}


def start_stack(name: str, model: str, workdir: Path, messages: List[str], rep: int):
    """Action server, then `rasa run` timed to its first answered REST message, warm-up, RSS."""
    stack = BotStack(model=Path(model), workdir=workdir / f"stack-{name}")
    res: Dict[str, Any] = {}
    try:
        t0 = time.perf_counter()
        stack.start_actions()
        res["actions_ready_s"] = round(time.perf_counter() - t0, 2)
        t0 = time.perf_counter()
        stack.launch_rasa()
        url = stack.url + "/webhooks/rest/webhook"
        deadline = time.time() + 300
        while True:
            if stack.rasa_proc.poll() is not None:
                raise RuntimeError(f"rasa run ({name}) exited; see {stack.workdir}/rasa.log")
            if time.time() > deadline:
                raise TimeoutError(f"rasa run ({name}) did not answer within 300 s")
            try:
                if post_json(url, {"sender": f"cold-{rep}", "message": "hej"}, timeout=30):
                    break
            except Exception:
                pass
            time.sleep(0.1)
        res["cold_start_s"] = round(time.perf_counter() - t0, 2)
        log(f"{name}: ready after {res['cold_start_s']} s")
        for i, m in enumerate(messages[:: max(1, len(messages) // 30)][:30]):   # warm-up: every code path
            post_json(url, {"sender": f"warm-{rep}-{i % 3}", "message": m})
        time.sleep(1)
        res["rasa_rss_mb"] = tree_rss_mb(stack.rasa_proc.pid)
        res["actions_rss_mb"] = tree_rss_mb(stack.action_proc.pid)
        log(f"{name}: RSS rasa {res['rasa_rss_mb']} MB, actions {res['actions_rss_mb']} MB")
    except BaseException:
        stack.stop()
        raise
    return stack, res


def start_floor(workdir: Path, messages: List[str]):
    port = free_port()
    with open(workdir / "floor.log", "ab") as logf:
        proc = subprocess.Popen([PY, str(BENCH / "floor_server.py"), str(port)], cwd=ROOT, stdout=logf,
                                stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
    deadline = time.time() + 60
    while True:
        try:
            post_json(url, {"sender": "x", "message": "hej"}, timeout=5)
            break
        except Exception:
            if proc.poll() is not None or time.time() > deadline:
                kill_group(proc)
                raise RuntimeError("floor server did not start; see floor.log")
            time.sleep(0.1)
    for m in messages[:30]:
        post_json(url, {"sender": "warm", "message": m})
    return proc, url


def serve_all(models: Dict[str, str], workdir: Path, messages: List[str], scale: float,
              rep: int, prev: Optional[Path] = None, prev_model: Optional[str] = None) -> Dict[str, Dict[str, Any]]:
    """Cold start A, then B (each alone on the CPU), then the sweeps interleaved: for each concurrency
    A, B, prev, floor one after another, so that the others' load on the shared machine hits all alike.
    Then, per stack: registry topic questions at 1 concurrent, and latency by turn number."""
    stacks: Dict[str, BotStack] = {}
    out: Dict[str, Dict[str, Any]] = {}
    floor_proc = None
    try:
        for name in ("A", "B"):
            stacks[name], out[name] = start_stack(name, models[name], workdir, messages, rep)
            out[name]["load"] = {}
        if prev is not None and prev_model:
            try:
                stacks["prev"] = previous_stack_class(prev)(model=Path(prev_model),
                                                                workdir=workdir / "stack-prev")
                stacks["prev"].start()
                out["prev"] = {"load": {}, "commit": PREVIOUS}
                for i, m in enumerate(messages[:: max(1, len(messages) // 30)][:30]):
                    post_json(stacks["prev"].url + "/webhooks/rest/webhook", {"sender": f"warm-{rep}-{i % 3}", "message": m})
            except Exception as exc:  # noqa: BLE001 - the comparison is optional, the rest is not
                log(f"previous commit {PREVIOUS}: stack did not start ({exc}); skipping it")
                stacks.pop("prev", None).stop() if "prev" in stacks else None
        floor_proc, floor_url = start_floor(workdir, messages)
        out["floor"] = {"load": {}}
        urls = {name: stacks[name].url + "/webhooks/rest/webhook" for name in stacks}
        urls["floor"] = floor_url
        order = [n for n in ("A", "B", "prev", "floor") if n in urls]
        for c in CONCURRENCY:
            n = max(2, int(PER_CONV[c] * scale))
            for name in order:
                out[name]["load"][str(c)] = sweep_one(urls[name], messages, c, n * (5 if name == "floor" else 1),
                                                      f"{name}{rep}")
        topics = topic_messages()
        for name in [n for n in order if n != "floor"]:
            out[name]["topic_1"] = sweep_one(urls[name], topics, 1, max(2, int(TOPIC_N * scale)), f"{name}{rep}-topic")
        for name in [n for n in order if n != "floor"]:
            out[name]["turns_sqlite"] = turns_one(stacks[name].url, f"{name}{rep}-sqlite")
        for name, stack in stacks.items():
            out[name]["rasa_rss_after_load_mb"] = tree_rss_mb(stack.rasa_proc.pid)
            out[name]["actions_rss_after_load_mb"] = tree_rss_mb(stack.action_proc.pid)
        out["floor"]["rss_mb"] = tree_rss_mb(floor_proc.pid)
    finally:
        for stack in stacks.values():
            stack.stop()
        kill_group(floor_proc)
    return out


def postgres_turns(models: Dict[str, str], workdir: Path) -> Dict[str, Any]:
    """Latency by turn number for A and B on a throwaway PostgreSQL (started as `make test-scale` does)."""
    sys.path.insert(0, str(ROOT / "tests" / "scale"))
    from scale_stack import DB_PASSWORD, DB_USER, ScaleStack

    t0 = time.perf_counter()
    pg = ScaleStack(Path(models["A"]))   # its own folder under /tmp, readable by the postgres user
    res: Dict[str, Any] = {}
    try:
        pg.start_postgres()
        for name in ("A", "B"):
            db = f"bench_{name.lower()}"
            pg.psql(f"CREATE DATABASE {db}", db="postgres")
            store = (f"tracker_store:\n  type: bot.glue.tracker_store.WindowedSQLTrackerStore\n  dialect: postgresql\n"
                     f"  url: 127.0.0.1\n  port: {pg.pg_port}\n  db: {db}\n  username: {DB_USER}\n"
                     f"  password: {DB_PASSWORD}\n")
            with BotStack(model=Path(models[name]), workdir=workdir / f"stack-pg-{name}", tracker_store=store) as st:
                post_json(st.url + "/webhooks/rest/webhook", {"sender": "pg-warm", "message": "hej"})
                res[name] = turns_one(st.url, f"{name}-postgres")
    except Exception as exc:  # noqa: BLE001 - reported, the rest of the bench goes on
        log(f"PostgreSQL turns: {type(exc).__name__}: {exc}")
        res["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        pg.stop()
        pg.cleanup()
    log(f"PostgreSQL turns: {time.perf_counter() - t0:.0f} s")
    return res


def accuracy(models: Dict[str, str], workdir: Path) -> Dict[str, Any]:
    """Both models in one process (one TensorFlow import): `python -m bot nlu-report --jsonl` (bot/tools/nlu_eval.py)."""
    t0 = time.perf_counter()
    names = list(models)
    with open(workdir / "eval.log", "wb") as errf:
        out = subprocess.run([PY, "-W", "ignore", "-m", "bot", "nlu-report", "--jsonl", "--model"]
                             + [models[n] for n in names],
                             cwd=ROOT, stdout=subprocess.PIPE, stderr=errf, check=True,
                             env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(ROOT)))
    by_model = {}
    for line in out.stdout.decode().splitlines():
        if line.startswith("{"):
            d = json.loads(line)
            by_model[d["model"]] = d
    res = {n: by_model[models[n]] for n in names}
    for n in names:
        log(f"accuracy {n}: intent {res[n]['intent_accuracy']:.3f} (base {res[n]['base_intent_accuracy']:.3f}), "
            f"place F1 {res[n]['place_entity_f1']:.3f}, model load {res[n]['load_s']} s, "
            f"parse {res[n]['parse_ms_mean']} ms")
    log(f"accuracy: {time.perf_counter() - t0:.0f} s")
    return res


def places_bench() -> Dict[str, Any]:
    out = subprocess.run([PY, str(BENCH / "bench_places.py")], cwd=ROOT, stdout=subprocess.PIPE, check=True)
    line = next(x for x in out.stdout.decode().splitlines() if x.startswith("{"))
    res = json.loads(line)
    log(f"places: p50 {res['p50_ms']} ms, p99 {res['p99_ms']} ms")
    return res


def full_load(model: str, workdir: Path, messages: List[str], convs: int, per_conv: int) -> Dict[str, Any]:
    """50 conversations x 100 messages through REST with the real action server (A only)."""
    stack = BotStack(model=Path(model), workdir=workdir / "stack-full")
    try:
        stack.start()
        url = stack.url + "/webhooks/rest/webhook"
        post_json(url, {"sender": "full-warm", "message": "hej"})
        load_py = BENCH / "load.py"
        if load_py.exists():
            res = run_external_load(load_py, stack, convs, per_conv, workdir)
        else:
            res = asyncio.run(run_load(url, convs, per_conv, messages, sender_prefix="full", timeout=60, seed=7))
            res["tool"] = "bench/loadgen.py"
        res["rasa_rss_mb"] = tree_rss_mb(stack.rasa_proc.pid)
        res["actions_rss_mb"] = tree_rss_mb(stack.action_proc.pid)
    finally:
        stack.stop()
    log(f"full load: {res.get('ok')} ok, {res.get('errors')} errors, {res.get('lost')} lost, "
        f"{res.get('throughput')} msg/s, p50 {fmt(res.get('p50_ms'))} ms, p99 {fmt(res.get('p99_ms'))} ms")
    return res


def run_external_load(load_py: Path, stack: BotStack, convs: int, per_conv: int, workdir: Path) -> Dict[str, Any]:
    """bench/load.py (the reliability engineer's client): run it against the stack and keep its JSON."""
    cmd = [PY, str(load_py), "--url", stack.url, "-c", str(convs), "-n", str(per_conv), "--max-seconds", "600",
           "--json", str(workdir / "load.json")]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=900,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    (workdir / "load_py.out").write_bytes(proc.stdout + b"\n--- stderr ---\n" + proc.stderr)
    wall = time.perf_counter() - t0
    parsed: Dict[str, Any] = {}
    for line in reversed(proc.stdout.decode(errors="replace").splitlines()):
        if line.strip().startswith("{"):
            try:
                parsed = json.loads(line)
                break
            except ValueError:
                continue
    res = normalise_load_json(parsed)
    res.update({"tool": "bench/load.py", "cmd": "bench/load.py --url <stack> " + " ".join(cmd[4:10]), "rc": proc.returncode,
                "sent": convs * per_conv, "wall_s": res.get("wall_s") or round(wall, 2)})
    if not parsed:
        res["errors"] = res.get("errors") if res.get("errors") is not None else "unknown (no JSON from load.py)"
    return res


def normalise_load_json(d: Dict[str, Any]) -> Dict[str, Any]:
    """Maps bench/load.py's JSON keys onto ours (ok, errors, lost, throughput, p50_ms, p95_ms, p99_ms)."""
    flat: Dict[str, Any] = {}

    def walk(obj: Any) -> None:
        if isinstance(obj, dict):
            for k, v in obj.items():
                if isinstance(v, dict):
                    walk(v)
                else:
                    flat.setdefault(str(k).lower(), v)

    walk(d)
    pick = lambda *keys: next((flat[k] for k in keys if k in flat), None)  # noqa: E731
    return {"raw": d,
            "ok": pick("answered", "ok", "replies", "succeeded", "success"),
            "degraded": pick("degraded_replies", "degraded"), "not_sent": pick("not_sent"),
            "errors": pick("errors", "error_count", "failed", "failures"),
            "lost": pick("lost", "lost_replies", "missing", "empty", "no_reply"),
            "throughput": pick("throughput_rps", "throughput", "msg_per_s", "messages_per_s", "rps", "throughput_msg_s"),
            "p50_ms": pick("p50_ms", "p50"), "p95_ms": pick("p95_ms", "p95"), "p99_ms": pick("p99_ms", "p99"),
            "wall_s": pick("wall_s", "duration_s", "elapsed_s", "seconds")}


def machine() -> Dict[str, Any]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_gb = None
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_gb = round(int(line.split()[1]) * 1024 / 1e9, 1)

    def ver(p: str) -> str:
        try:
            return importlib.metadata.version(p)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    return {"cores": os.cpu_count(), "cpu": cpu, "mem_gb": mem_gb, "python": platform.python_version(),
            "rasa": ver("rasa"), "rasa_sdk": ver("rasa-sdk"), "sanic": ver("sanic"),
            "tensorflow": ver("tensorflow"), "kernel": platform.release(),
            "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "git": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL).stdout.decode().strip()}


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# -- main ------------------------------------------------------------------------------------------
def run(reps: int, scale: float, full: Optional[tuple], budget: float,
        preset: Dict[str, str]) -> Dict[str, Any]:
    t_start = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="bench-", dir=str(ROOT / "var") if (ROOT / "var").is_dir() else None))
    log(f"work dir {workdir}; {reps} repetition(s), scale {scale}, load average {loadavg()}")
    messages = test_messages()
    results: Dict[str, Any] = {"machine": machine(), "reps_requested": reps, "scale": scale,
                               "previous_commit": PREVIOUS or None,
                               "loadavg_start": loadavg(), "runs": [], "notes": []}
    last_models: Dict[str, str] = {}
    rep_times: List[float] = []
    prev = previous_worktree(PREVIOUS) if PREVIOUS not in ("", "0") else None
    prev_model = previous_model(prev) if prev is not None else None
    tail_estimate = 330.0 + (150.0 if full else 0)      # accuracy + places + PostgreSQL + full load, roughly
    for rep in range(1, reps + 1):
        elapsed = time.perf_counter() - t_start
        if rep_times and elapsed + max(rep_times) + tail_estimate > budget:
            note = (f"stopped after {rep - 1} of {reps} repetitions: another one would exceed the "
                    f"{budget:.0f} s budget (elapsed {elapsed:.0f} s, a repetition took up to {max(rep_times):.0f} s)")
            log(note)
            results["notes"].append(note)
            break
        t_rep = time.perf_counter()
        run_: Dict[str, Any] = {"rep": rep}
        for name in ("A", "B"):
            rdir = workdir / f"rep{rep}"
            rdir.mkdir(parents=True, exist_ok=True)
            run_[name] = {"model": preset[name]} if name in preset else train(name, rdir)
            last_models[name] = run_[name]["model"]
        served = serve_all({n: run_[n]["model"] for n in ("A", "B")}, workdir / f"rep{rep}", messages, scale, rep,
                           prev, prev_model)
        for name in ("A", "B"):
            run_[name].update(served[name])
        run_["floor"] = served["floor"]
        if "prev" in served:
            run_["prev"] = served["prev"]
        rep_times.append(time.perf_counter() - t_rep)
        run_["loadavg"] = loadavg()
        results["runs"].append(run_)
        RESULTS.write_text(json.dumps(results, indent=1, ensure_ascii=False))
        log(f"repetition {rep} done in {rep_times[-1]:.0f} s (load average {loadavg()})")
    results["accuracy"] = accuracy(last_models, workdir)
    results["places"] = places_bench()
    results["turns_postgres"] = postgres_turns(last_models, workdir)
    if full:
        results["full_load"] = full_load(last_models["A"], workdir, messages, *full)
    results["loadavg_end"] = loadavg()
    results["total_s"] = round(time.perf_counter() - t_start, 1)
    results["workdir"] = str(workdir)
    RESULTS.write_text(json.dumps(results, indent=1, ensure_ascii=False))
    log(f"total {results['total_s']:.0f} s")
    return results


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--render", action="store_true", help="only re-render BENCHMARKS.md and the plot")
    ap.add_argument("--model", action="append", default=[], metavar="A=PATH",
                    help="development only: use this trained model instead of training (no training time)")
    args = ap.parse_args(argv)
    if args.render:
        results = json.loads(RESULTS.read_text())
    else:
        reps = int(os.environ.get("BENCH_REPS", "3"))
        scale = float(os.environ.get("BENCH_SCALE", "1"))
        fl = os.environ.get("BENCH_FULL_LOAD", "50x100")
        full = None if fl in ("", "0") else tuple(int(x) for x in fl.lower().split("x"))
        budget = float(os.environ.get("BENCH_BUDGET_S", "1680"))
        results = run(reps, scale, full, budget, dict(m.split("=", 1) for m in args.model))
    from report import plot, plot_turns, render   # noqa: E402

    plot(results, PLOT)
    plot_turns(results, BENCH / "turns.png")
    REPORT.write_text(render(results, NOTES.read_text() if NOTES.exists() else ""))
    log(f"wrote {REPORT.relative_to(ROOT)} and {PLOT.relative_to(ROOT)}")
    return 0


def fmt(v: Optional[float]) -> str:
    return "–" if v is None else f"{v:.1f}"


if __name__ == "__main__":
    sys.exit(main())
