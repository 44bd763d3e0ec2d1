"""Graceful degradation when the action server is down or slow (a small, documented patch of Rasa 3.6).

Why a patch: Rasa 3.6's `RemoteAction.run` calls the action server with the hard-coded
`rasa.core.constants.DEFAULT_REQUEST_TIMEOUT` (300 s) passed explicitly to aiohttp, and `EndpointConfig`
ignores any `timeout` key in endpoints.yml (extra keys only land in `EndpointConfig.kwargs`). When the
call fails, `MessageProcessor._run_action` logs the exception and drops the action's events, so the
visitor gets silence (for up to five minutes when the server hangs). Nothing in the configuration
changes either behaviour.

What it does: wraps `RemoteAction.run` once per process (idempotent) so that
- each call to the action server is bounded by FILMBOT_ACTION_TIMEOUT seconds (default 1.5), measured
  on a worker thread (blocking HTTP with a socket timeout), not on Rasa's event loop: under load the
  loop is busy with other visitors' NLU for seconds, and an asyncio timeout would then fire although
  the action server had answered in milliseconds (measured: 60 % of replies degraded at 50
  concurrent conversations with asyncio.wait_for, none with the thread);
- a timeout or connection failure marks the action server unavailable for FILMBOT_ACTION_RETRY_AFTER
  seconds (default 3): calls in that window fail at once instead of waiting again, so one visitor
  message costs at most one timeout even when a turn calls the server more than once. After the window the server is tried again, so
  answers resume by themselves when it is back;
- a failed answer action returns one bot message, "Jag kan inte svara just nu, försök igen om en
  stund." (English when the visitor writes English), which Rasa sends on every channel and stores in
  the tracker like any reply;
- a failed slot-mapping action (a custom action named in a slot mapping, if the domain has one)
  fails silently: the slot keeps its value and the turn goes on;
- a 400 from the action server (ActionExecutionRejection) is passed through unchanged, since Rasa's
  policies rely on it.
Also: each action-server reply is checked against Rasa's response schema with one cached validator
(ResponseValidator: per event, the schema of its own type; the same verdict as the full schema).
`RemoteAction._validate_action_result` calls `jsonschema.validate()`, which first checks the schema itself
against its meta-schema on every call: measured at about 45 % of the Rasa server's CPU under load
(BENCHMARKS.md). The check itself is unchanged.

Installed with the other patches by bot.glue.patches.install_all().
"""
from __future__ import annotations

import asyncio
import http.client
import json
import logging
import os
import select
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, Dict, List, Optional, Set
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)

UNAVAILABLE = {
    "sv": "Jag kan inte svara just nu, försök igen om en stund.",
    "en": "I can't answer right now, please try again in a moment.",
}
ERROR_METADATA_KEY = "filmbot_error"


def _env_float(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name, default))
        return value if value > 0 else default
    except ValueError:
        return default


ACTION_TIMEOUT = _env_float("FILMBOT_ACTION_TIMEOUT", 1.5)
RETRY_AFTER = _env_float("FILMBOT_ACTION_RETRY_AFTER", 3.0)


class _Availability:
    """Process-wide: when the action server last failed (timeout or no connection)."""

    unavailable_until = 0.0

    @classmethod
    def available(cls) -> bool:
        return time.monotonic() >= cls.unavailable_until

    @classmethod
    def failed(cls) -> None:
        cls.unavailable_until = time.monotonic() + RETRY_AFTER

    @classmethod
    def reset(cls) -> None:
        cls.unavailable_until = 0.0


def unavailable_text(lang: Any) -> str:
    return UNAVAILABLE.get(lang if isinstance(lang, str) else "sv", UNAVAILABLE["sv"])


def _slot_mapping_actions(domain: Any) -> Set[str]:
    names: Set[str] = set()
    for slot in getattr(domain, "slots", None) or []:
        for mapping in getattr(slot, "mappings", None) or []:
            if isinstance(mapping, dict) and mapping.get("action"):
                names.add(mapping["action"])
    return names


SAFETY_CAP_S = 60.0  # the worker thread always ends within ~2 x ACTION_TIMEOUT; this only guards bugs
_POOL = ThreadPoolExecutor(max_workers=16, thread_name_prefix="filmbot-action")
_local = threading.local()


class ActionTimeout(Exception):
    pass


def _session():
    import requests

    if getattr(_local, "session", None) is None:
        _local.session = requests.Session()
    return _local.session


def _connection(host: str, port: int) -> http.client.HTTPConnection:
    """This thread's keep-alive connection to host:port; reopened when the server has closed it."""
    conns = _local.__dict__.setdefault("connections", {})
    conn = conns.get((host, port))
    if conn is not None and conn.sock is not None:
        try:  # an idle keep-alive socket that is readable has been closed by the server (EOF)
            dropped = bool(select.select([conn.sock], [], [], 0)[0])
        except (OSError, ValueError):
            dropped = True
        if dropped:
            conn.close()
    if conn is None:
        conn = conns[(host, port)] = http.client.HTTPConnection(host, port, timeout=ACTION_TIMEOUT)
    return conn


def _plain_http_request(url: str, method: str, headers: Dict[str, str], body: Any) -> Any:
    """The common case (an http:// action server, a JSON body, no auth or parameters) on http.client: about
    2 ms less CPU per call than requests (measured with py-spy, BENCHMARKS.md)."""
    import aiohttp
    from rasa.utils.endpoints import ClientResponseError

    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    data = None if body is None else json.dumps(body).encode("utf-8")
    conn = _connection(parts.hostname or "localhost", parts.port or 80)
    try:
        try:
            reused = conn.sock is not None
            conn.request(method.upper(), path, body=data, headers=headers)
            resp = conn.getresponse()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            # the server closed the kept-alive connection as the request went out: once on a new one
            conn.close()
            if not reused:
                raise
            conn.request(method.upper(), path, body=data, headers=headers)
            resp = conn.getresponse()
        content = resp.read()
    except socket.timeout as exc:
        conn.close()
        raise ActionTimeout(f"no answer within {ACTION_TIMEOUT} s") from exc
    except (OSError, http.client.HTTPException) as exc:
        conn.close()
        raise aiohttp.ClientConnectionError(str(exc) or type(exc).__name__) from exc
    if resp.getheader("connection", "").lower() == "close":
        conn.close()
    if resp.status >= 400:
        raise ClientResponseError(resp.status, resp.reason, content)
    try:
        return json.loads(content)
    except ValueError:
        return None


def _blocking_request(endpoint: Any, method: str, subpath: Optional[str], content_type: Optional[str],
                      kwargs: Dict[str, Any]) -> Any:
    """What rasa.utils.endpoints.EndpointConfig.request does, blocking, with a socket timeout."""
    import aiohttp
    import requests
    from rasa.utils.endpoints import ClientResponseError, concat_url

    kwargs = dict(kwargs)
    kwargs.pop("timeout", None)
    kwargs.pop("compress", None)
    headers = {"Content-Type": content_type} if content_type else {}
    headers.update(kwargs.pop("headers", None) or {})
    headers.update(endpoint.headers or {})
    params = endpoint.combine_parameters(kwargs)
    url = concat_url(endpoint.url, subpath)
    if (url.startswith("http://") and not endpoint.basic_auth and not params and not endpoint.cafile
            and set(kwargs) <= {"json"}):
        return _plain_http_request(url, method, headers, kwargs.get("json"))
    auth = None
    if endpoint.basic_auth:
        auth = (endpoint.basic_auth["username"], endpoint.basic_auth["password"])
    try:
        resp = _session().request(method.upper(), url, headers=headers,
                                  params=params, auth=auth, verify=endpoint.cafile or True,
                                  timeout=(ACTION_TIMEOUT, ACTION_TIMEOUT), **kwargs)
    except requests.Timeout as exc:
        raise ActionTimeout(f"no answer within {ACTION_TIMEOUT} s") from exc
    except requests.RequestException as exc:
        raise aiohttp.ClientConnectionError(str(exc)) from exc
    if resp.status_code >= 400:
        raise ClientResponseError(resp.status_code, resp.reason, resp.content)
    try:
        return resp.json()
    except ValueError:
        return None


class ResponseValidator:
    """Rasa's check of an action-server reply against its response schema, with the same verdict, cheaper.

    Each event of the reply must match exactly one of the ~23 event schemas of a `oneOf`, and every one
    of them pins the event's type with `"event": {"const": ...}` (rasa/shared/utils/schemas/events.py).
    jsonschema tries all of them and builds an error object for each one that does not match: about 2 ms
    per reply here. Since the constants are distinct, an event is valid exactly when it is valid against
    the one schema whose constant is its type; so each event is checked against that one. A reply that
    does not pass this way is checked again with the full schema, which raises Rasa's own error. If the
    schema is not shaped like that (another Rasa version), only the full check runs."""

    def __init__(self, schema: Dict[str, Any]) -> None:
        import copy

        import jsonschema

        cls = jsonschema.validators.validator_for(schema)
        self.full = cls(schema)
        self.top: Any = None
        self.per_type: Optional[Dict[str, Any]] = None
        try:
            events = schema["properties"]["events"]
            item = events["items"]
            by_type: Dict[str, Any] = {}
            for branch in item["oneOf"]:
                const = branch["properties"]["event"]["const"]
                if not isinstance(const, str) or const in by_type:
                    raise ValueError(const)
                by_type[const] = branch
            base = {k: v for k, v in item.items() if k != "oneOf"}
            top = copy.deepcopy(schema)
            top["properties"]["events"] = {k: v for k, v in events.items() if k != "items"}
            self.top = cls(top)
            self.per_type = {name: cls(dict(base, allOf=[branch])) for name, branch in by_type.items()}
        except (KeyError, TypeError, ValueError):
            self.per_type = None

    def _passes_by_type(self, result: Any) -> bool:
        if self.per_type is None or not self.top.is_valid(result):
            return False
        events = result.get("events") if isinstance(result, dict) else None
        for event in events or []:
            kind = event.get("event") if isinstance(event, dict) else None
            validator = self.per_type.get(kind) if isinstance(kind, str) else None
            if validator is None or not validator.is_valid(event):
                return False
        return True

    def is_valid(self, result: Any) -> bool:
        return self._passes_by_type(result) or self.full.is_valid(result)

    def validate(self, result: Any) -> None:
        if not self._passes_by_type(result):
            self.full.validate(result)


class _ThreadedEndpoint:
    """Stands in for the action endpoint (EndpointConfig) of one RemoteAction call."""

    def __init__(self, endpoint: Any) -> None:
        self._endpoint = endpoint

    def __getattr__(self, name: str) -> Any:
        return getattr(self._endpoint, name)

    async def request(self, method: str = "post", subpath: Optional[str] = None,
                      content_type: Optional[str] = "application/json", compress: bool = False,
                      **kwargs: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            _POOL, partial(_blocking_request, self._endpoint, method, subpath, content_type, kwargs))


def install() -> None:
    import aiohttp
    from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
    from rasa.shared.core.events import BotUttered
    from rasa.shared.exceptions import RasaException

    if getattr(RemoteAction.run, "_filmbot_guard", False):
        return
    original = RemoteAction.run

    async def run(self, output_channel, nlg, tracker, domain) -> List[Any]:
        name = self.name()
        if not _Availability.available():
            reason = "action server unavailable (recent failure); not calling it"
        else:
            if self.action_endpoint is not None and not isinstance(self.action_endpoint, _ThreadedEndpoint):
                self.action_endpoint = _ThreadedEndpoint(self.action_endpoint)
            try:
                return await asyncio.wait_for(original(self, output_channel, nlg, tracker, domain),
                                              SAFETY_CAP_S)
            except ActionExecutionRejection:
                raise
            except (ActionTimeout, asyncio.TimeoutError) as exc:
                reason = str(exc) or "timeout"
                _Availability.failed()
            except (RasaException, aiohttp.ClientError, OSError) as exc:
                reason = str(exc) or type(exc).__name__
                cause = exc.__cause__
                # An action that crashed (HTTP 500) is a bug in one action, not an outage.
                if not isinstance(cause, aiohttp.ClientResponseError):
                    _Availability.failed()
        if name in _slot_mapping_actions(domain):
            logger.warning("Custom action '%s' failed (%s); slot left unchanged.", name, reason)
            return []
        logger.error("Custom action '%s' failed (%s); sent the 'cannot answer now' message.", name, reason)
        from bot.glue.nlg import tracker_language

        lang = tracker_language(tracker)
        from bot import feedback

        return [BotUttered(text=unavailable_text(lang), metadata={
            ERROR_METADATA_KEY: "action_unavailable", feedback.METADATA_KEY: feedback.tag("other"),
            feedback.LANG_KEY: lang})]

    import jsonschema

    validators: Dict[str, Any] = {}

    def _validate_action_result(self, result: Dict[str, Any]) -> bool:
        validator = validators.get("response")
        if validator is None:
            validator = validators["response"] = ResponseValidator(self.action_response_format_spec())
        try:
            validator.validate(result)
            return True
        except jsonschema.ValidationError as e:
            e.message += ". Failed to validate Action server response from API."
            raise e

    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[assignment]
    run._filmbot_guard = True  # type: ignore[attr-defined]
    run.__doc__ = original.__doc__
    RemoteAction.run = run  # type: ignore[assignment]
    logger.debug("action guard installed (timeout %.1f s, retry after %.1f s)", ACTION_TIMEOUT, RETRY_AFTER)
