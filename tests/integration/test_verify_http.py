# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The verify role.

HTTP checks against a real HTTP server on 127.0.0.1 started and stopped by the tests, that answers
like the Statewave API (/healthz, /readyz, /ops/migrations behind X-API-Key), answers 503, or does
not answer at all (closed port; a port that accepts and never responds). The app itself only runs
in the kind scenario; on the local control plane pods never execute.

Then one release on the local control plane (site.yml, job migration mode, an ingress-nginx
Ingress), read by the rest: the summary lines, the role's own migration Job in job mode, the
in_cluster Job (its spec, its script run for real here against the local server, and how the role
reads the Job's result, which kwok's pod stages decide), and a real kubectl port-forward through
kwok's kubelet endpoint: with nothing to forward to, and forwarded to the local server."""

from __future__ import annotations

import contextlib
import json
import re
import os
import socket
import subprocess
import sys
import threading
import types
import uuid
from pathlib import Path
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml

from conftest import kubectl_runner, playbook_runner
from helpers import folded, wait_for
from lifecycle_helpers import Lifecycle

API_KEY = "verify-key-5d4c3b2a1f0e"
ROOT = Path(__file__).resolve().parents[2]


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
    (closed_port, "no answer: connection refused"),
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
            # COLUMNS=80 as many CI and job runners set it: ps cuts command lines there, and this
            # kubectl's path is long enough to push "port-forward" past it. verify_http_timeout 300:
            # timeout(1) would end the forward only after 1230 s, so only the role's own stop ends
            # it within wait_for's bound below.
            proc = run_playbook("verify_port_forward.yml", env={"COLUMNS": "80"}, extra_vars={
                "verify_kubectl_binary": str(fake), "verify_port_forward_local_port": port, "verify_http_timeout": 300,
                "verify_namespace": "swk-pf", "verify_kube_context": "ctx-a", "swk_test_deployment": "statewave"})
            assert proc.returncode == 0, proc.stdout[-3000:]
            assert "http: /healthz 200, /readyz 200 (ready)" in squash(proc.stdout)
            seen = json.loads((tmp_path / "seen.json").read_text())
            assert seen["argv"] == ["--context=ctx-a", "port-forward", "--address", "127.0.0.1", "-n", "swk-pf",
                                    "svc/statewave", "%d:http" % port]
            assert len("timeout 1230 %s --context=ctx-a " % fake) > 80, "the path must be long enough to be cut at COLUMNS=80"
            wait_for(lambda: ended(seen["pid"]), "the forwarding process to end", bound=120)
            assert bystander.poll() is None, "a process the role did not start was stopped"
        finally:
            bystander.kill()
            bystander.wait()


# ------------------------------------------------------------------------------------------------
# One release on the local control plane, read by the tests below (module scope: one deployment).
# ------------------------------------------------------------------------------------------------
INGRESS_HOST = "verify.swk.example"


@pytest.fixture(scope="module")
def served(kubeconfig, local_postgres, ansible_env, tmp_path_factory):
    """site.yml once (preflight budget, pgvector, ingress, release in job mode, verify). Yields
    .life (the Lifecycle), .site (site.yml's run), .run(playbook, **vars) and .kubectl(*args)."""
    kubectl = kubectl_runner(kubeconfig)
    runner = playbook_runner(ansible_env, tmp_path_factory.mktemp("verify-served"))

    def run_playbook(playbook, extra_vars=None, inventory=None, verbosity=0):
        return runner(playbook, extra_vars=extra_vars or {}, inventory=inventory or ROOT / "inventories" / "local",
                      verbosity=verbosity)

    life = Lifecycle(kubectl, kubeconfig, run_playbook, local_postgres["pgvector"], uuid.uuid4().hex[:6])
    life.vars.update({"statewave_migration_mode": "job", "ingress_enabled": True, "ingress_controller": "ingress-nginx",
                      "ingress_class_name": "nginx", "ingress_host": INGRESS_HOST})
    try:
        life.create()
        site = life.run("site.yml")
        assert site.returncode == 0, site.stdout[-4000:]

        def run(playbook, **overrides):
            return run_playbook(playbook, extra_vars=dict(life.vars, **overrides))

        yield types.SimpleNamespace(life=life, site=site, run=run, kubectl=kubectl)
    finally:
        life.cleanup()


def summary_lines(proc):
    """{label: text} of the summary the verify role printed (the YAML result of its debug task)."""
    lines = proc.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if "verify : Summarise what is serving]" in line)
    block = []
    for line in lines[start + 2:]:
        if not line.strip():
            break
        block.append(line)
    msg = yaml.safe_load("\n".join(block))["msg"]
    return {line.split(":", 1)[0]: " ".join(line.split(":", 1)[1].split()) for line in msg}


def test_summary_says_what_is_serving_and_no_credential(served):
    life, site, kubectl = served.life, served.site, served.kubectl
    summary = summary_lines(site)
    deploy = json.loads(kubectl("-n", life.ns, "get", "deployment", life.fullname, "-o", "json").stdout)
    assert summary["release"] == "%s/%s revision 1 (deployed)" % (life.ns, life.release)
    assert summary["image"] == deploy["spec"]["template"]["spec"]["containers"][0]["image"] == "statewavedev/statewave:1.5.0"
    # kwok only simulates the pods: the summary says so, naming the node the pod was bound to.
    pods = json.loads(kubectl("-n", life.ns, "get", "pods", "-l", "app.kubernetes.io/component=api", "-o", "json").stdout)["items"]
    simulated = "(simulated by kwok on %s: no container ran)" % pods[0]["spec"]["nodeName"]
    assert summary["replicas"] == "%d/%d ready %s" % (deploy["status"]["readyReplicas"], deploy["spec"]["replicas"], simulated)
    with life.connect() as conn:
        pgvector = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()[0]
        server = conn.execute("SHOW server_version").fetchone()[0].split()[0]
    assert summary["database"] == "host %s, PostgreSQL %s, pgvector %s (read from the server)" % (life.admin["host"], server, pgvector)
    # The budget line carries preflight's own verdict and numbers.
    verdict = re.search(r"(OK|WARN|FAIL): the plan .*?binding limit \S+: (\d+) of (\d+) usable .*?largest replica count "
                        r"that fits: (\d+)", folded(site))
    assert verdict, "no budget verdict from preflight"
    assert summary["budget"] == "%s: %s of %s usable connections at peak, largest fitting replicas %s" % (
        verdict.group(1).lower(), verdict.group(2), verdict.group(3), verdict.group(4))
    ingress = json.loads(kubectl("-n", life.ns, "get", "ingress", life.fullname, "-o", "json").stdout)
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-read-timeout"] == "120"
    assert summary["ingress"].startswith("ingress-nginx")
    assert "timeout 120s" in summary["ingress"] and "nginx.ingress.kubernetes.io/proxy-read-timeout=120" in summary["ingress"]
    job = json.loads(kubectl("-n", life.ns, "get", "jobs", "-l", "app.kubernetes.io/component=migrate", "-o", "json").stdout)["items"]
    assert summary["migrations"] == "role Job %s Succeeded (job mode) %s" % (job[0]["metadata"]["name"], simulated)
    assert summary["http"] == "not checked (verify_http_mode: none)"
    # The DSN and the password are nowhere in the run's output, the summary included.
    dsn_start = "postgresql+asyncpg://%s:" % life.role
    assert life.password not in site.stdout and dsn_start not in site.stdout


def test_in_cluster_job_spec_its_script_and_how_its_result_is_read(served, fake_api, tmp_path):
    """kwok completes a Job's Running pod without running it (pod-complete Stage), and fails it
    under the label statewave.io/test-fail=true with a simulated termination message. So here the
    role's Job spec is checked as created, its script is run for real with this machine's sh and
    curl against the local server, and the role's reading of a Complete and of a Failed Job is
    checked against what kwok's stages set; the real curl-in-a-pod runs in the kind scenario."""
    life, run, kubectl = served.life, served.run, served.kubectl
    passed = run("verify_release.yml", verify_http_mode="in_cluster", verify_http_timeout=7)
    assert passed.returncode == 0, passed.stdout[-4000:]
    name = re.search(r"answered 200 inside the cluster \(Job (\S+)\)", folded(passed)).group(1)
    job = json.loads(kubectl("-n", life.ns, "get", "job", name, "-o", "json").stdout)
    assert job["metadata"]["labels"]["app.kubernetes.io/component"] == "verify"
    assert job["spec"]["backoffLimit"] == 0 and job["spec"]["ttlSecondsAfterFinished"] == 600
    pod = job["spec"]["template"]["spec"]
    container = pod["containers"][0]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env == {"VERIFY_BASE_URL": "http://%s.%s.svc:8100" % (life.fullname, life.ns), "VERIFY_TIMEOUT": "7",
                   "VERIFY_REQUIRE_READY": "false"}
    assert pod["restartPolicy"] == "Never" and container["terminationMessagePolicy"] == "FallbackToLogsOnError"
    # verify_in_cluster_image from inventories/local (the curl image tests/kind builds; kwok runs none)
    assert container["image"] == "swk.local/curl:bookworm" and container["command"][:2] == ["sh", "-c"]
    # The pod is not one of the Service's endpoints.
    selector = json.loads(kubectl("-n", life.ns, "get", "service", life.fullname, "-o", "json").stdout)["spec"]["selector"]
    assert not set(selector.items()) <= set(job["spec"]["template"]["metadata"]["labels"].items())

    def script(base_url, **extra):
        proc_env = dict(os.environ, TMPDIR=str(tmp_path), **dict(env, VERIFY_BASE_URL=base_url, **extra))
        return subprocess.run(container["command"], env=proc_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, timeout=120, check=False)

    ok = script(fake_api.url)
    assert ok.returncode == 0 and "/readyz at %s/readyz: HTTP 200" % fake_api.url in ok.stdout, ok.stdout
    fake_api.ready = {"status": "degraded", "checks": [{"name": "llm", "status": "degraded"}]}
    assert script(fake_api.url).returncode == 0
    strict = script(fake_api.url, VERIFY_REQUIRE_READY="true")
    assert strict.returncode == 1 and "/readyz at %s/readyz: HTTP 200 but not ready" % fake_api.url in strict.stdout
    fake_api.ready_code, fake_api.ready = 503, {"status": "not_ready", "checks": [{"name": "database", "status": "fail"}]}
    not_ready = script(fake_api.url)
    assert not_ready.returncode == 1
    assert '/readyz at %s/readyz: HTTP 503 {"status": "not_ready"' % fake_api.url in not_ready.stdout
    with closed_port() as port:
        refused = script("http://127.0.0.1:%d" % port)
    assert refused.returncode == 1 and "/healthz at http://127.0.0.1:%d/healthz: no answer (curl: (7)" % port in refused.stdout

    failed = run("verify_release.yml", verify_http_mode="in_cluster", verify_in_cluster_pod_labels={"statewave.io/test-fail": "true"})
    assert failed.returncode != 0
    message = re.search(r"In-cluster check Job %s/(\S+) failed \(BackoffLimitExceeded[^)]*\) checking "
                        r"http://%s\.%s\.svc:8100/healthz and /readyz: simulated failure \(pod label statewave.io/test-fail=true\)\. "
                        r"See kubectl -n %s logs job/(\S+)" % (life.ns, life.fullname, life.ns, life.ns), folded(failed))
    assert message and message.group(1) == message.group(2), failed.stdout[-3000:]


def test_real_port_forward_to_a_pod_that_does_not_run_fails_with_kubectls_words(served):
    """Real kubectl, apiserver and kwok's kubelet endpoint, which forwards nothing: kubectl listens,
    then loses the first connection. The failure names the check and quotes kubectl."""
    life, run = served.life, served.run
    with closed_port() as port:
        proc = run("verify_release.yml", verify_http_mode="port_forward", verify_port_forward_local_port=port)
    assert proc.returncode != 0
    text = folded(proc)
    assert "/healthz at http://127.0.0.1:%d/healthz: no answer" % port in text, proc.stdout[-3000:]
    assert "kubectl port-forward said: Forwarding from 127.0.0.1:%d -> 8100" % port in text
    assert "no forward found for port 8100" in text


def test_real_port_forward_through_kwok_reaches_the_server_standing_in_for_the_pod(served, fake_api):
    """The port_forward mode end to end with real parts: the role's kubectl port-forward, the API
    server's portforward subresource and kwok's kubelet endpoint. kwok forwards the pod's port 8100
    to the local server because of a ClusterPortForward (kwok.x-k8s.io, served as a CRD by
    tests/cluster/cluster.sh) for this namespace; the server stands in for the Statewave
    container, which never runs on kwok."""
    life, run, kubectl = served.life, served.run, served.kubectl
    name = "swk-verify-%s" % life.ns
    forward = {"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "ClusterPortForward", "metadata": {"name": name},
               "spec": {"selector": {"matchNamespaces": [life.ns]},
                        "forwards": [{"ports": [8100],
                                      "target": {"address": "127.0.0.1", "port": int(fake_api.url.rsplit(":", 1)[1])}}]}}
    life.apply(forward)
    try:
        with closed_port() as port:
            passed = run("verify_release.yml", verify_http_mode="port_forward", verify_port_forward_local_port=port,
                         verify_api_key=API_KEY)
        assert passed.returncode == 0, passed.stdout[-4000:]
        assert summary_lines(passed)["http"] == "/healthz 200, /readyz 200 (ready), schema 0032 (head)"
        assert fake_api.seen_keys == [API_KEY], "the API key did not travel through the port-forward"
        assert API_KEY not in passed.stdout

        fake_api.ready_code = 503
        fake_api.ready = {"status": "not_ready", "checks": [{"name": "database", "status": "fail", "detail": "pool exhausted"}]}
        with closed_port() as port:
            failed = run("verify_release.yml", verify_http_mode="port_forward", verify_port_forward_local_port=port)
        assert failed.returncode != 0
        text = folded(failed)
        assert "/readyz at http://127.0.0.1:%d/readyz answered 503 with status 'not_ready'" % port in text, failed.stdout[-3000:]
        assert "database fail: pool exhausted" in text
        assert "kubectl port-forward said: Forwarding from 127.0.0.1:%d -> 8100" % port in text
    finally:
        kubectl("delete", "clusterportforward", name, "--ignore-not-found", "--wait=true")


def test_job_mode_needs_a_successful_role_job_for_the_serving_image(served):
    life, run, kubectl = served.life, served.run, served.kubectl
    hook = run("verify_release.yml", verify_migration_mode="hook")
    assert hook.returncode != 0
    assert ("Release %s/%s revision 1 has no migration hook Job (verify_migration_mode is 'hook')" % (life.ns, life.release)
            in folded(hook))

    job = json.loads(kubectl("-n", life.ns, "get", "jobs", "-l", "app.kubernetes.io/component=migrate", "-o", "json").stdout)["items"][0]
    kubectl("-n", life.ns, "delete", "job", job["metadata"]["name"], "--wait=true")
    missing = run("verify_release.yml")
    assert missing.returncode != 0
    assert ("No migration Job of the statewave role (job mode) ran for the image now serving, statewavedev/statewave:1.5.0, in %s"
            % life.ns) in folded(missing)

    # A failed run of the migrations for the serving image (kwok fails pods with this label).
    failing = {"apiVersion": "batch/v1", "kind": "Job",
               "metadata": {"name": "%s-migrate-manual" % life.fullname, "namespace": life.ns, "labels": job["metadata"]["labels"]},
               "spec": {"backoffLimit": 0, "template": {
                   "metadata": {"labels": {"statewave.io/test-fail": "true"}},
                   "spec": {"restartPolicy": "Never", "containers": [
                       {"name": "migrate", "image": "statewavedev/statewave:1.5.0", "command": ["alembic", "upgrade", "head"]}]}}}}
    life.apply(failing)
    kubectl("-n", life.ns, "wait", "--for=condition=Failed", "job/%s" % failing["metadata"]["name"], "--timeout=300s", timeout=320)
    failed = run("verify_release.yml")
    assert failed.returncode != 0
    assert ("Migration Job %s/%s for statewavedev/statewave:1.5.0 has not succeeded: BackoffLimitExceeded"
            % (life.ns, failing["metadata"]["name"])) in folded(failed), failed.stdout[-3000:]
