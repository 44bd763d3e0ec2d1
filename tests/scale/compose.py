"""The commands and environment deploy/docker-compose.yml declares for a service, for `make test-scale` to
start the same processes on loopback (scripts/container.sh with the service's command, its environment
with ${VAR:-default} filled in), so the compose file and the scale test cannot drift apart."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, List, Mapping, Tuple

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "deploy" / "docker-compose.yml"
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def interpolate(value: str, env: Mapping[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error} against `env`."""
    def one(m: "re.Match[str]") -> str:
        name, op, arg = m.group(1), m.group(2), m.group(3) or ""
        have = env.get(name)
        if op in (":-", "-"):
            return have if have not in (None, "") or (op == "-" and have is not None) else arg
        if op in (":?", "?"):
            if have in (None, "") and (op == ":?" or have is None):
                raise KeyError(f"{name}: {arg}")
            return have
        return have or ""
    return _VAR.sub(one, value)


def service(name: str, env: Mapping[str, str], path: Path = COMPOSE) -> Tuple[List[str], Dict[str, str]]:
    """(argv, environment) of a service that runs the project image: argv is scripts/container.sh and the
    service's command; the environment is the service's, interpolated from `env`."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    svc = data["services"][name]
    command = svc.get("command") or ["rasa"]
    if isinstance(command, str):
        command = command.split()
    environment = svc.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    out = {str(k): interpolate(str(v), env) for k, v in environment.items()}
    return [str(ROOT / "scripts" / "container.sh"), *map(str, command)], out
