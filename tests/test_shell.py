"""`make shell` for staff: scripts/run.sh --shell (action server + `rasa shell`), driven through a real
terminal (pty), answers a question from the registry and stops cleanly."""
import os
import pty
import re
import select
import signal
import subprocess
import time

from bot.tools.stack import ROOT, default_model, free_port


def _read_until(fd, pattern, timeout):
    buf = b""
    deadline = time.time() + timeout
    while time.time() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            text = re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", buf.decode("utf-8", "replace"))
            if re.search(pattern, text):
                return text
    raise AssertionError(f"{pattern!r} not seen within {timeout} s; output:\n" +
                         buf.decode("utf-8", "replace")[-3000:])


def test_make_shell_answers_in_a_terminal(tmp_path):
    action_port = free_port()
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(f'action_endpoint:\n  url: "http://127.0.0.1:{action_port}/webhook"\n'
                         'nlg:\n  type: bot.glue.nlg.LanguageNLG\n')
    env = dict(os.environ, ACTION_PORT=str(action_port), FILMBOT_MODEL=str(default_model()),
               FILMBOT_ENDPOINTS=str(endpoints), TERM="dumb")
    master, slave = pty.openpty()
    proc = subprocess.Popen(["scripts/run.sh", "--shell"], cwd=ROOT, env=env, stdin=slave, stdout=slave,
                            stderr=slave, start_new_session=True, close_fds=True)
    os.close(slave)
    try:
        _read_until(master, r"Bot loaded\. Type a message", 240)
        time.sleep(1)
        os.write(master, "Var kan jag få stöd för kortfilm i Dalarna?\r".encode())
        out = _read_until(master, r"Film i Dalarna.*\n(.*\n)*.*(Källa|kontrollera)", 120)
        assert "Film i Dalarna" in out
        os.write(master, b"/stop\r")
        proc.wait(60)
        assert "run: stopped" in _read_until(master, r"run: stopped", 30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        os.close(master)
