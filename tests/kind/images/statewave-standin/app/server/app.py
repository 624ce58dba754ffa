# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""STAND-IN for the Statewave API (statewave.kubernetes test bed). Not Statewave.

It answers what the collection's verify role and Kubernetes probe, with Statewave's documented
shapes (statewave-contract.md section 2.2):
  GET /healthz, /health   200 {"status": "ok"}; no database
  GET /readyz, /ready     database check (SELECT 1): 200 "ready", or 503 "not_ready" with the
                          failing check; queue and llm are reported ok (the stand-in has neither)
  GET /ops/migrations     current revision in the database vs the head of the migrations in
                          this image; needs X-API-Key when STATEWAVE_API_KEY is set
  GET /v1/version         {"version", "api_contract": "v1", "stand_in": true}

Test fault: with STANDIN_CRASH_AT_START set (e.g. through statewave_extra_env), the process prints
a few lines and exits 1 while it starts, every time: a crash-looping app.
"""

import asyncio
import json
import os
import sys
import time

from sqlalchemy import text

from server import STANDIN_VERSION, db

if os.environ.get("STANDIN_CRASH_AT_START"):
    print("stand-in: starting (pid %d)" % os.getpid(), flush=True)
    print("stand-in: reading the configuration", flush=True)
    print("stand-in: STANDIN_CRASH_AT_START=%s: exiting 1 on purpose (a crash-looping app, test fault)"
          % os.environ["STANDIN_CRASH_AT_START"], flush=True)
    sys.exit(1)

PUBLIC = {"/healthz", "/health", "/readyz", "/ready", "/v1/version"}


def _ready():
    checks = []
    started = time.monotonic()
    try:
        with db.engine().connect() as conn:
            conn.execute(text("SELECT 1"))
        checks.append({"name": "database", "status": "ok",
                       "latency_ms": round((time.monotonic() - started) * 1000, 1)})
    except db.ConfigError as exc:
        checks.append({"name": "database", "status": "fail", "detail": str(exc)})
    except Exception as exc:  # pylint: disable=broad-except
        checks.append({"name": "database", "status": "fail",
                       "detail": "Postgres unreachable: %s" % str(exc).strip().splitlines()[0][:200]})
    checks.append({"name": "queue", "status": "ok", "detail": "stand-in: no compile queue"})
    checks.append({"name": "llm", "status": "ok", "detail": "stand-in: no LLM"})
    failed = any(c["status"] == "fail" for c in checks)
    return (503 if failed else 200), {"status": "not_ready" if failed else "ready", "checks": checks}


def _migrations():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(Config(os.path.join(os.path.dirname(__file__), "..", "alembic.ini")))
    head = script.get_current_head()
    out = {"current_revision": None, "expected_head": head, "is_compatible": False,
           "pending_count": None, "pending_revisions": [], "error": None, "summary": ""}
    try:
        with db.engine().connect() as conn:
            exists = conn.execute(text("SELECT to_regclass('public.alembic_version')")).scalar()
            current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar() if exists else None
    except Exception as exc:  # pylint: disable=broad-except
        out["error"] = str(exc).strip().splitlines()[0][:200]
        out["summary"] = "cannot read the schema revision"
        return 200, out
    pending = [r.revision for r in script.iterate_revisions(head, current)]
    pending.reverse()
    out.update(current_revision=current, pending_count=len(pending), pending_revisions=pending,
               is_compatible=current == head)
    out["summary"] = "schema at head" if current == head else "%d migration(s) pending" % len(pending)
    return 200, out


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    path = scope["path"]
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    key = os.environ.get("STATEWAVE_API_KEY", "")
    if scope["method"] not in ("GET", "HEAD"):
        status, body = 405, {"detail": "Method Not Allowed"}
    elif path not in PUBLIC and path != "/ops/migrations":
        status, body = 404, {"detail": "Not Found (stand-in)"}
    elif path not in PUBLIC and key and headers.get("x-api-key") != key:
        status, body = 401, {"detail": "Invalid or missing API key"}
    elif path in ("/healthz", "/health"):
        status, body = 200, {"status": "ok"}
    elif path in ("/readyz", "/ready"):
        status, body = await asyncio.to_thread(_ready)
    elif path == "/v1/version":
        status, body = 200, {"version": STANDIN_VERSION, "api_contract": "v1", "stand_in": True}
    else:
        status, body = await asyncio.to_thread(_migrations)
    payload = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})
