"""The floor: a minimal Sanic endpoint on loopback that echoes the REST channel's JSON shape.

POST /webhooks/rest/webhook {"sender", "message"} -> [{"recipient_id": sender, "text": message}]
No NLU, no tracker, no action server: what the same HTTP client measures against the same web framework
(sanic 21.12, as Rasa 3.6 uses) when the bot does nothing. Usage: python bench/floor_server.py PORT
"""
from __future__ import annotations

import sys

from sanic import Sanic
from sanic.response import json as json_response

app = Sanic("bench_floor")


@app.get("/")
async def root(request):
    return json_response({"floor": "ok"})


@app.post("/webhooks/rest/webhook")
async def echo(request):
    body = request.json or {}
    return json_response([{"recipient_id": body.get("sender"), "text": body.get("message")}])


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 5099
    app.run(host="127.0.0.1", port=port, access_log=False, workers=1, debug=False)
