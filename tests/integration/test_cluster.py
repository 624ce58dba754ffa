# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The local control plane itself: real version, admission and RBAC, the project's kwok Stages,
and a lifecycle where starting twice leaves no strays and stopping stops everything."""

from __future__ import annotations

import json
import os
import re
import subprocess
import uuid
from pathlib import Path

import pytest

from helpers import wait_for

ROOT = Path(__file__).resolve().parents[2]
CLUSTER_SH = ROOT / "tests" / "cluster" / "cluster.sh"


def pinned_versions():
    text = (ROOT / "tests" / "cluster" / "versions.env").read_text()
    return dict(re.findall(r"^(\w+)=(\S+)$", text, re.M))


@pytest.fixture
def namespace(kubectl):
    name = "swk-cluster-%s" % uuid.uuid4().hex[:6]
    kubectl("create", "namespace", name)
    yield name
    kubectl("delete", "namespace", name, "--wait=false", check=False)


def job_manifest(name, namespace, labels):
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "backoffLimit": 0,
            "template": {
                "metadata": {"labels": labels},
                "spec": {"restartPolicy": "Never", "containers": [{"name": "migrate", "image": "example.invalid/migrate:1"}]},
            },
        },
    }


def apply(kubectl, obj, tmp_path):
    path = tmp_path / ("%s.json" % uuid.uuid4().hex[:8])
    path.write_text(json.dumps(obj))
    kubectl("apply", "-f", path)


def job_state(kubectl, namespace, name):
    job = json.loads(kubectl("-n", namespace, "get", "job", name, "-o", "json").stdout)
    for cond in job.get("status", {}).get("conditions", []):
        if cond["type"] in ("Complete", "Failed") and cond["status"] == "True":
            return cond["type"], cond.get("reason", "")
    return None


def test_server_reports_the_pinned_semver(kubectl):
    out = json.loads(kubectl("version", "-o", "json").stdout)
    server = out["serverVersion"]
    assert server["gitVersion"] == pinned_versions()["K8S_VERSION"]
    assert re.fullmatch(r"v1\.\d+\.\d+", server["gitVersion"])
    assert server["major"] == "1" and server["minor"] == server["gitVersion"].split(".")[1]


def test_labelled_job_pod_fails_and_unlabelled_completes(kubectl, namespace, tmp_path):
    apply(kubectl, job_manifest("ok", namespace, {"app": "t"}), tmp_path)
    apply(kubectl, job_manifest("fail", namespace, {"app": "t", "statewave.io/test-fail": "true"}), tmp_path)

    assert wait_for(lambda: job_state(kubectl, namespace, "ok"), "job ok") == ("Complete", "CompletionsReached")
    assert wait_for(lambda: job_state(kubectl, namespace, "fail"), "job fail") == ("Failed", "BackoffLimitExceeded")

    pods = json.loads(kubectl("-n", namespace, "get", "pods", "-l", "statewave.io/test-fail=true", "-o", "json").stdout)
    terminated = pods["items"][0]["status"]["containerStatuses"][0]["state"]["terminated"]
    assert terminated["exitCode"] == 1
    assert "statewave.io/test-fail" in terminated["message"]


def test_admission_and_rbac_are_on(kubectl, namespace, tmp_path):
    # ServiceAccount admission: a pod naming a missing ServiceAccount is refused, as in a real cluster.
    pod = {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": namespace},
        "spec": {"serviceAccountName": "does-not-exist", "containers": [{"name": "c", "image": "x"}]},
    }
    path = tmp_path / "pod.json"
    path.write_text(json.dumps(pod))
    proc = kubectl("apply", "-f", path, check=False)
    assert proc.returncode != 0 and "does-not-exist" in proc.stderr

    # RBAC: a namespace's default ServiceAccount may not read Secrets.
    proc = kubectl("auth", "can-i", "list", "secrets", "-n", namespace,
                   "--as", "system:serviceaccount:%s:default" % namespace, check=False)
    assert proc.stdout.strip() == "no"


def our_processes(workdir):
    out = subprocess.run(["pgrep", "-f", "--", str(workdir)], stdout=subprocess.PIPE, text=True, check=False).stdout
    return sorted(int(p) for p in out.split())


def test_lifecycle_up_twice_then_down_leaves_nothing(kubeconfig, tmp_path):
    """A second cluster in its own state dir: up, up again (same processes), down (none left)."""
    state = tmp_path / "state"
    env = dict(os.environ, SWK_STATE_DIR=str(state), SWK_CLUSTER_NAME="swk-lifecycle")
    workdir = state / "kwok" / "clusters" / "swk-lifecycle"

    def cluster(cmd):
        return subprocess.run(["bash", str(CLUSTER_SH), cmd], env=env, stdout=subprocess.PIPE, check=False,
                              stderr=subprocess.STDOUT, text=True, timeout=600)

    try:
        first = cluster("up")
        assert first.returncode == 0, first.stdout
        pids = our_processes(workdir)
        # etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok-controller
        assert len(pids) >= 5, first.stdout

        second = cluster("up")
        assert second.returncode == 0 and "already running" in second.stdout
        assert our_processes(workdir) == pids

        status = cluster("status")
        assert status.returncode == 0 and pinned_versions()["K8S_VERSION"] in status.stdout
    finally:
        down = cluster("down")
    assert down.returncode == 0, down.stdout
    assert our_processes(workdir) == []
    assert not (state / "kubeconfig").exists()
    assert cluster("status").returncode == 1
