# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared by the release role's tests (test_release*.py): a namespace with a DSN Secret per test
(``release``) or per module (``refused``, for runs that must change nothing), the release
playbook, an interrupted run, and readers of Helm's and the cluster's state.

Pods never run here (kwok simulates them). A migration failure is made with the pod label
statewave.io/test-fail=true and a Helm wait is held open with statewave.io/test-hold (see
tests/cluster/stage-test-fail.yaml)."""

from __future__ import annotations

import base64
import contextlib
import gzip
import json
import os
import signal
import subprocess
import uuid
from pathlib import Path

import pytest

from conftest import kubectl_runner
from helpers import recap, wait_for

ROOT = Path(__file__).resolve().parents[2]
FAIL_LABEL = {"statewave.io/test-fail": "true"}
HOLD_LABEL = {"statewave.io/test-hold": "true"}
HOLD_LONG = {"statewave.io/test-hold-duration": "3600s"}


@contextlib.contextmanager
def release_namespace(kubectl, kubeconfig):
    """A namespace with a DSN Secret, and the extra vars for a release in it; removed after."""
    ns = "swk-rel-%s" % uuid.uuid4().hex[:6]
    kubectl("create", "namespace", ns)
    dsn = "postgresql+asyncpg://statewave:s3cr%%40t-%s@127.0.0.1:55432/statewave" % uuid.uuid4().hex[:8]
    kubectl("-n", ns, "create", "secret", "generic", "statewave-database",
            "--from-literal=STATEWAVE_DATABASE_URL=%s" % dsn)
    extra = {
        "statewave_kubeconfig": str(kubeconfig),
        "statewave_namespace": ns,
        "statewave_release_name": "statewave",
        "statewave_chart_path": str(ROOT / "tests/fixtures/charts/statewave"),
        "statewave_image_tag": "1.5.0",
        "statewave_database_existing_secret": "statewave-database",
        "statewave_migration_backoff_limit": 0,
    }
    try:
        yield {"ns": ns, "vars": extra, "dsn": dsn}
    finally:
        subprocess.run(["helm", "uninstall", "statewave", "-n", ns, "--kubeconfig", str(kubeconfig), "--wait"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        kubectl("delete", "namespace", ns, "--wait=false", check=False)


@pytest.fixture
def release(kubectl, kubeconfig):
    """A namespace of the test's own with a DSN Secret, and the extra vars for a release in it."""
    with release_namespace(kubectl, kubeconfig) as made:
        yield made


@pytest.fixture(scope="module")
def refused(kubeconfig):
    """One namespace (DSN Secret included) for the runs that must be refused before anything changes:
    each test checks that the namespace still has no Deployment, no role-made Secret and no Helm
    release, so a run that changed it fails that test (and the ones after it)."""
    with release_namespace(kubectl_runner(kubeconfig), kubeconfig) as made:
        yield made


def run(run_playbook, release, env=None, check=False, **overrides):
    extra = dict(release["vars"], **overrides)
    return run_playbook("release.yml", extra_vars=extra, inventory=ROOT / "inventories/local", env=env, check=check)


def interrupt(release, ansible_env, tmp_path, kubeconfig, status, argv=None, also=None, **overrides):
    """Start the release playbook (or argv), kill its whole process group once the release shows a
    revision in `status` (and `also()` is true: Helm writes the pending record a moment before it
    creates the hook Job, so a test that needs the Job in flight waits for it too), and return the
    history."""
    if argv is None:
        vars_file = tmp_path / ("vars-%s.json" % uuid.uuid4().hex[:6])
        vars_file.write_text(json.dumps(dict(release["vars"], **overrides)))
        argv = ["ansible-playbook", "-i", str(ROOT / "inventories/local"),
                str(ROOT / "tests/integration/playbooks/release.yml"), "-e", "@%s" % vars_file]
    # The killed run cannot remove its temporary files (the hook watcher's directory, module payloads):
    # they go to the test's own directory, not the machine's /tmp.
    run_tmp = tmp_path / ("tmp-%s" % uuid.uuid4().hex[:6])
    run_tmp.mkdir()
    proc = subprocess.Popen(argv, cwd=str(ROOT), env=dict(ansible_env, TMPDIR=str(run_tmp)), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for(lambda: any(r["status"] == status for r in helm_history(kubeconfig, release["ns"])) and (also is None or also()),
                 "a %s revision%s" % (status, "" if also is None else " and the hook Job"))
    finally:
        # Everything the run started, by PID: the helm that kubernetes.core.helm runs is not in the
        # run's process group, and a helm left waiting would finish the install behind the next run.
        tree = descendants(proc.pid)
        os.killpg(proc.pid, signal.SIGKILL)
        for pid in tree:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        proc.wait()
    history = helm_history(kubeconfig, release["ns"])
    assert history[-1]["status"] == status
    return history


def descendants(pid):
    """PIDs of every process below pid (read from /proc)."""
    children = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def helm(kubeconfig, ns, *args):
    proc = subprocess.run(["helm", "--kubeconfig", str(kubeconfig), "-n", ns] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600, check=False)
    assert proc.returncode == 0, "helm %s: %s" % (" ".join(args), proc.stderr)
    return proc.stdout


def migrate_jobs(kubectl, ns):
    """The role's own migration Jobs (job mode), oldest first."""
    items = json.loads(kubectl("-n", ns, "get", "jobs", "-l", "app.kubernetes.io/managed-by=statewave.kubernetes",
                               "-o", "json").stdout)["items"]
    return sorted(items, key=lambda j: j["metadata"]["creationTimestamp"])


def hook_job(kubectl, ns, name="statewave-migrate"):
    """The chart's migration hook Job, or None."""
    proc = kubectl("-n", ns, "get", "job", name, "-o", "json", "--ignore-not-found")
    return json.loads(proc.stdout) if proc.stdout.strip() else None


def job_image(job):
    return job["spec"]["template"]["spec"]["containers"][0]["image"]


def helm_history(kubeconfig, ns):
    out = subprocess.run(["helm", "history", "statewave", "-n", ns, "-o", "json", "--kubeconfig", str(kubeconfig)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False)
    return json.loads(out.stdout) if out.returncode == 0 else []


def helm_status(kubeconfig, ns):
    out = subprocess.run(["helm", "status", "statewave", "-n", ns, "-o", "json", "--kubeconfig", str(kubeconfig)],
                         stdout=subprocess.PIPE, text=True, check=True)
    return json.loads(out.stdout)


def deployment(kubectl, ns):
    return json.loads(kubectl("-n", ns, "get", "deployment", "statewave", "-o", "json").stdout)


def deployment_image(kubectl, ns):
    return deployment(kubectl, ns)["spec"]["template"]["spec"]["containers"][0]["image"]


def assert_installed_from(source_run, again, kubectl, kubeconfig, ns):
    """Installed with the chart's appVersion as the image, and a re-run changes nothing."""
    assert source_run.returncode == 0, source_run.stdout[-4000:]
    history = helm_history(kubeconfig, ns)
    assert [(r["status"], r["chart"], r["app_version"]) for r in history] == [("deployed", "statewave-0.2.1", "1.5.0")]
    assert deployment_image(kubectl, ns) == "statewavedev/statewave:1.5.0"
    assert again.returncode == 0, again.stdout[-4000:]
    assert recap(again)["changed"] == 0
    assert len(helm_history(kubeconfig, ns)) == 1


def release_record(kubectl, ns, release, revision):
    """Helm's record of one revision: (the Secret, the decoded release body)."""
    secret = json.loads(kubectl("-n", ns, "get", "secret", "sh.helm.release.v1.%s.v%d" % (release, revision), "-o", "json").stdout)
    body = json.loads(gzip.decompress(base64.b64decode(base64.b64decode(secret["data"]["release"]))))
    return secret, body


def forge_revision_status(kubectl, kubeconfig, ns, release, revision, status):
    """Rewrite one revision's status as a raced helm would leave it: in the encoded release body (what
    `helm history` and `helm status` read) and in the Secret's status label (what the roles' recovery
    reads). Returns the Secret as written."""
    secret, body = release_record(kubectl, ns, release, revision)
    body["info"]["status"] = status
    encoded = base64.b64encode(gzip.compress(json.dumps(body).encode())).decode()
    secret["data"]["release"] = base64.b64encode(encoded.encode()).decode()
    secret["metadata"]["labels"]["status"] = status
    for key in ("managedFields", "resourceVersion", "uid", "creationTimestamp"):
        secret["metadata"].pop(key, None)
    # kubectl replace on stdin: the record holds the release's values.
    proc = subprocess.run(["kubectl", "--kubeconfig", str(kubeconfig), "-n", ns, "replace", "-f", "-"], input=json.dumps(secret), text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return secret
