"""`make run`'s script: starts everything, keeps conversations across restarts, Ctrl-C leaves nothing behind;
a second setup/train does nothing."""
import json
import os
import signal
import sqlite3
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from bot.tools.stack import ROOT, default_model, free_port


def _post(port, sender, message):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/webhooks/rest/webhook", method="POST",
                                 data=json.dumps({"sender": sender, "message": message}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return "\n".join(m.get("text", "") for m in json.loads(resp.read()))


def _processes_mentioning(marker: str):
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in cmd:
            found.append((int(pid), cmd))
    return found


class RunScript:
    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.rasa_port, self.action_port, self.web_port = free_port(), free_port(), free_port()
        self.endpoints = tmp / "endpoints.yml"
        self.db = tmp / "tracker.db"
        self.endpoints.write_text(
            f'action_endpoint:\n  url: "http://127.0.0.1:{self.action_port}/webhook"\n'
            f'tracker_store:\n  type: SQL\n  dialect: "sqlite"\n  db: "{self.db}"\n'
            'nlg:\n  type: bot.glue.nlg.LanguageNLG\n')
        self.proc = None

    def start(self, **extra_env):
        env = dict(os.environ, RASA_PORT=str(self.rasa_port), ACTION_PORT=str(self.action_port),
                   WEB_PORT=str(self.web_port), FILMBOT_MODEL=str(default_model()),
                   FILMBOT_ENDPOINTS=str(self.endpoints))
        env.pop("RASA_AUTH_TOKEN", None)
        env.pop("FILMBOT_STAFF_TOKEN", None)
        env.update(extra_env)
        self.log = open(self.tmp / "run.log", "ab")
        offset = self.log.tell()
        self.proc = subprocess.Popen(["scripts/run.sh"], cwd=ROOT, env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + 240
        while time.time() < deadline:
            assert self.proc.poll() is None, (self.tmp / "run.log").read_text()[-3000:]
            if "run: ready." in (self.tmp / "run.log").read_text()[offset:]:
                return
            time.sleep(0.5)
        raise TimeoutError((self.tmp / "run.log").read_text()[-3000:])

    def ctrl_c(self):
        os.killpg(self.proc.pid, signal.SIGINT)  # what the terminal sends on Ctrl-C
        self.proc.wait(60)


@pytest.fixture
def run_script(tmp_path):
    rs = RunScript(tmp_path)
    yield rs
    if rs.proc and rs.proc.poll() is None:
        os.killpg(rs.proc.pid, signal.SIGKILL)
    for pid, _ in _processes_mentioning(str(rs.endpoints)):
        os.kill(pid, signal.SIGKILL)


def test_run_keeps_conversations_and_ctrl_c_stops_everything(run_script):
    run_script.start()
    assert _post(run_script.rasa_port, "a", "hej").startswith("Hej!")
    assert "Film i Dalarna" in _post(run_script.rasa_port, "a", "jag bor i Mora")
    run_script.ctrl_c()
    assert "run: stopped" in (run_script.tmp / "run.log").read_text()
    time.sleep(1)
    assert _processes_mentioning(str(run_script.endpoints)) == []
    assert _processes_mentioning(f"--port {run_script.action_port}") == []

    with sqlite3.connect(run_script.db) as db:
        texts = [json.loads(row[0]).get("text") for row in
                 db.execute("select data from events where sender_id='a' and type_name='user'")]
    assert texts == ["hej", "jag bor i Mora"]

    run_script.start()  # `make run` again: same tracker store
    out = _post(run_script.rasa_port, "a", "och för barn och unga då?")
    assert "Film i Dalarna" in out  # the place slot came back from the store
    run_script.ctrl_c()


def test_http_api_closed_without_token(run_script):
    run_script.start()
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{run_script.rasa_port}/conversations/a/tracker", timeout=10)
        status = 200
    except urllib.error.HTTPError as err:
        status = err.code
    assert status in (401, 403, 404)
    run_script.ctrl_c()


def test_staff_page_address_and_store(run_script):
    """With FILMBOT_STAFF_TOKEN, `make run` prints the staff page's address, and the page reads the same
    tracker store as Rasa (scripts/run.sh passes the endpoints file to the page server)."""
    import http.client
    import urllib.parse

    token = "run-script-staff-token-7d2e"
    run_script.start(FILMBOT_STAFF_TOKEN=token)
    log = (run_script.tmp / "run.log").read_text()
    assert f"  staff page: http://localhost:{run_script.web_port}/staff (log in with FILMBOT_STAFF_TOKEN)" in log
    assert _post(run_script.rasa_port, "staff-check", "hej").startswith("Hej!")
    conn = http.client.HTTPConnection("127.0.0.1", run_script.web_port, timeout=30)
    conn.request("POST", "/staff/login", urllib.parse.urlencode({"token": token}),
                 {"Content-Type": "application/x-www-form-urlencoded",
                  "Origin": f"http://127.0.0.1:{run_script.web_port}"})
    resp = conn.getresponse()
    resp.read()
    assert resp.status == 303, resp.status
    cookie = resp.getheader("Set-Cookie").split(";", 1)[0]
    conn.request("GET", "/staff/api/conversation?sender=staff-check", headers={"Cookie": cookie})
    resp = conn.getresponse()
    body = json.loads(resp.read())
    conn.close()
    assert resp.status == 200, body
    assert [m["text"] for m in body["messages"] if m["who"] == "user"] == ["hej"]
    run_script.ctrl_c()


def test_second_setup_and_train_do_nothing():
    out = subprocess.run(["scripts/setup.sh"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert "nothing to install" in out
    model_dir = default_model().parent
    check = subprocess.run(["scripts/train.sh", "--check", "--out", str(model_dir)], cwd=ROOT,
                           capture_output=True, text=True)
    assert check.returncode == 0, f"{model_dir} is not the model of the current inputs (`make test` trains it): {check.stdout}"
    out = subprocess.run(["scripts/train.sh", "--out", str(model_dir)], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    assert "not retraining" in out


def test_start_up_is_quiet_and_library_noise_goes_to_the_log(run_script):
    run_script.start()
    terminal = (run_script.tmp / "run.log").read_text()
    run_script.ctrl_c()
    assert "run: ready." in terminal and "chat page: http://localhost:" in terminal
    for noise in ("Warning", "warn(", "Traceback", "INFO", "site-packages"):
        assert noise not in terminal, terminal
    # Every line is the script's own: "run: ..." or the indented ready block.
    assert all(line.startswith(("run: ", "  ")) for line in terminal.splitlines() if line.strip()), terminal
    logged = (ROOT / "var/log/rasa.out").read_text(errors="replace")
    assert "DeprecationWarning" in logged  # kept, in the log file


def test_train_reuses_a_model_of_the_same_inputs(tmp_path):
    source = default_model()
    check = subprocess.run(["scripts/train.sh", "--check", "--out", str(source.parent)], cwd=ROOT,
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout  # `make test` trained it from the current inputs
    out = tmp_path / "models"
    done = subprocess.run(["scripts/train.sh", "--out", str(out)], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "reusing" in done.stdout and "training" not in done.stdout, done.stdout
    reused = done.stdout.split("reusing ", 1)[1].split(",", 1)[0]
    assert (out / "current.tar.gz").read_bytes() == (ROOT / reused).read_bytes()
    assert (out / ".fingerprint").read_text() == (source.parent / ".fingerprint").read_text()
    again = subprocess.run(["scripts/train.sh", "--check", "--out", str(out)], cwd=ROOT, capture_output=True,
                           text=True)
    assert again.returncode == 0, again.stdout


def test_make_run_prints_at_most_15_lines_before_ready(run_script):
    """What `make run` prints on a fresh clone before "ready": setup, the training run (`make test`'s own
    training run, recorded by scripts/test.sh in var/test-model/train-output.txt) and the start-up."""
    recorded = default_model().parent / "train-output.txt"
    assert recorded.exists(), f"{recorded} missing: `make test` records its training run there"
    train = [ln for ln in recorded.read_text().splitlines() if ln.strip()]
    assert any(ln.startswith("train: training") for ln in train) and train[-1].startswith("train: done in")
    setup = subprocess.run(["scripts/setup.sh"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    run_script.start()
    terminal = (run_script.tmp / "run.log").read_text()
    run_script.ctrl_c()
    before_ready = terminal.split("run: ready.", 1)[0]
    lines = [ln for ln in (setup + "\n".join(train) + "\n" + before_ready).splitlines() if ln.strip()]
    assert len(lines) + 1 <= 15, "\n".join(lines)       # (+1: the "ready" line itself)
    log = (ROOT / "var" / "log" / "train.log")
    assert log.exists()                                   # Rasa's training output went to the log
    assert "does not include a response selector" not in log.read_text(errors="replace")
