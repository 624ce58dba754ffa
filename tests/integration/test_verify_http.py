# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The verify role's HTTP checks, against a real HTTP server on 127.0.0.1 that answers like the
Statewave API (/healthz, /readyz, /ops/migrations behind X-API-Key). The app itself only runs
in the kind scenario; on the local control plane pods never execute."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from helpers import wait_for

API_KEY = "verify-key-5d4c3b2a1f0e"


class FakeStatewave:
    """State the handler answers from; tests change it between runs."""

    def __init__(self):
        self.ready = {"status": "ready", "checks": [{"name": "database", "status": "ok"}]}
        self.ready_code = 200
        self.health_code = 200
        self.migrations = {"current_revision": "0032", "expected_head": "0032", "is_compatible": True,
                           "pending_count": 0, "pending_revisions": [], "summary": "up to date"}
        self.seen_keys = []


@pytest.fixture
def fake_api():
    state = FakeStatewave()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _send(self, code, body):
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path == "/healthz":
                self._send(state.health_code, {"status": "ok" if state.health_code == 200 else "broken"})
            elif self.path == "/readyz":
                self._send(state.ready_code, state.ready)
            elif self.path == "/ops/migrations":
                state.seen_keys.append(self.headers.get("X-API-Key"))
                if self.headers.get("X-API-Key") != API_KEY:
                    self._send(401, {"detail": "invalid API key"})
                else:
                    self._send(200, state.migrations)
            else:
                self._send(404, {"detail": "not found"})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = "http://127.0.0.1:%d" % server.server_address[1]
    yield state
    server.shutdown()
    server.server_close()


def verify(run_playbook, api, **extra):
    return run_playbook("verify_http.yml", extra_vars=dict({"verify_base_url": api.url}, **extra))


def squash(text):
    return " ".join(text.split())


def test_healthy_api_passes_and_reads_migrations_with_the_key(run_playbook, fake_api):
    proc = verify(run_playbook, fake_api, verify_api_key=API_KEY)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert fake_api.seen_keys == [API_KEY]


def test_not_ready_fails_with_the_failing_check(run_playbook, fake_api):
    fake_api.ready_code = 503
    fake_api.ready = {"status": "not_ready", "checks": [
        {"name": "database", "status": "fail", "detail": "Postgres unreachable: connection refused"},
        {"name": "queue", "status": "degraded"}]}
    proc = verify(run_playbook, fake_api)
    assert proc.returncode != 0
    out = squash(proc.stdout)
    assert "/readyz at %s/readyz answered 503 with status 'not_ready'" % fake_api.url in out
    assert "database fail: Postgres unreachable: connection refused" in out


def test_degraded_passes_unless_asked_to_fail(run_playbook, fake_api):
    fake_api.ready = {"status": "degraded", "checks": [{"name": "llm", "status": "degraded", "detail": "timeout"}]}
    assert verify(run_playbook, fake_api).returncode == 0
    proc = verify(run_playbook, fake_api, verify_fail_on_degraded=True)
    assert proc.returncode != 0 and "llm degraded: timeout" in squash(proc.stdout)


def test_pending_migrations_fail(run_playbook, fake_api):
    fake_api.migrations.update(current_revision="0030", pending_count=2, is_compatible=False,
                               pending_revisions=["0031", "0032"])
    proc = verify(run_playbook, fake_api, verify_api_key=API_KEY)
    assert proc.returncode != 0
    assert "current 0030, expected head 0032, 2 pending 0031, 0032" in squash(proc.stdout)


def test_api_key_never_in_verbose_output(run_playbook, fake_api):
    proc = run_playbook("verify_http.yml", extra_vars={"verify_base_url": fake_api.url, "verify_api_key": API_KEY},
                        verbosity=3)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert fake_api.seen_keys == [API_KEY]
    assert API_KEY not in proc.stdout


def test_healthz_not_200_fails_naming_endpoint_url_and_answer(run_playbook, fake_api):
    fake_api.health_code = 500
    proc = verify(run_playbook, fake_api)
    assert proc.returncode != 0
    assert '/healthz at %s/healthz: HTTP 500 {"status": "broken"} (expected HTTP 200)' % fake_api.url in squash(proc.stdout)


@contextlib.contextmanager
def closed_port():
    """A 127.0.0.1 port nothing listens on (bound once to pick it, then closed): connection refused."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    yield port


@contextlib.contextmanager
def silent_port():
    """A 127.0.0.1 port whose listen backlog accepts the TCP connection, but nothing ever reads
    the request or answers: a hung server. Only the role's request timeout ends the check."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


@pytest.mark.parametrize("server, seen", [
    (closed_port, "no answer: connection refused (nothing listens there)"),
    (silent_port, "no answer within 2 s (verify_http_timeout): the request timed out"),
], ids=["connection-refused", "accepts-but-never-answers"])
def test_no_answer_fails_naming_endpoint_url_and_why(run_playbook, server, seen):
    with server() as port:
        url = "http://127.0.0.1:%d" % port
        proc = run_playbook("verify_http.yml", extra_vars={"verify_base_url": url, "verify_http_timeout": 2})
    assert proc.returncode != 0
    assert "/healthz at %s/healthz: %s (expected HTTP 200)" % (url, seen) in squash(proc.stdout), proc.stdout[-3000:]


# MOCK of kubectl, for one reason: `kubectl port-forward` needs a pod that really runs, which the
# local kwok cluster never has. The stand-in records its argv and PID and, like kubectl, prints
# "Forwarding from" and serves the local port (answering like the API) until it is killed.
FAKE_KUBECTL = """#!%s
import json, os, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
here = os.path.dirname(os.path.abspath(__file__))
json.dump({"argv": sys.argv[1:], "pid": os.getpid()}, open(os.path.join(here, "seen.json"), "w"))
port = int(sys.argv[-1].split(":")[0])
class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass
    def do_GET(self):
        body = json.dumps({"status": "ok"} if self.path == "/healthz" else {"status": "ready", "checks": []}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
server = HTTPServer(("127.0.0.1", port), H)
print("Forwarding from 127.0.0.1:%%d -> 8100" %% port, flush=True)
server.serve_forever()
"""


def ended(pid):
    """True once the process is gone or a zombie (its parent, timeout(1), may not be reaped here)."""
    try:
        with open("/proc/%d/stat" % pid) as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_port_forward_is_stopped_by_its_own_pid(run_playbook, tmp_path):
    fake = tmp_path / "kubectl"
    fake.write_text(FAKE_KUBECTL % sys.executable)
    fake.chmod(0o755)
    with closed_port() as port:
        # A bystander whose command line matches what a `pkill -f` on the port-forward would match.
        bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", "port-forward", "--address",
                                      "127.0.0.1", "-n", "swk-pf", "svc/statewave", "%d:http" % port])
        try:
            proc = run_playbook("verify_port_forward.yml", extra_vars={
                "verify_kubectl_binary": str(fake), "verify_port_forward_local_port": port,
                "verify_namespace": "swk-pf", "verify_kube_context": "ctx-a", "swk_test_deployment": "statewave"})
            assert proc.returncode == 0, proc.stdout[-3000:]
            assert "http: /healthz 200, /readyz 200 (ready)" in squash(proc.stdout)
            seen = json.loads((tmp_path / "seen.json").read_text())
            assert seen["argv"] == ["--context=ctx-a", "port-forward", "--address", "127.0.0.1", "-n", "swk-pf",
                                    "svc/statewave", "%d:http" % port]
            wait_for(lambda: ended(seen["pid"]), "the forwarding process to end")
            assert bystander.poll() is None, "a process the role did not start was stopped"
        finally:
            bystander.kill()
            bystander.wait()
