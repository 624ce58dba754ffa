# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The release role on the local control plane: install, upgrade, idempotence, migrations that
gate the rollout (hook and job mode), recovery of an interrupted run, and input checks.

Pods never run here (kwok simulates them). A migration failure is made with the pod label
statewave.io/test-fail=true and a Helm wait is held open with statewave.io/test-hold (see
tests/cluster/stage-test-fail.yaml)."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import uuid
from pathlib import Path

import pytest

from helpers import folded as out, recap, wait_for

ROOT = Path(__file__).resolve().parents[2]
FAIL_LABEL = {"statewave.io/test-fail": "true"}


@pytest.fixture
def release(kubectl, kubeconfig, tmp_path):
    """A namespace with a DSN Secret, and the extra vars for a release in it."""
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
    yield {"ns": ns, "vars": extra, "dsn": dsn}
    subprocess.run(["helm", "uninstall", "statewave", "-n", ns, "--kubeconfig", str(kubeconfig), "--wait"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    kubectl("delete", "namespace", ns, "--wait=false", check=False)


def run(run_playbook, release, **overrides):
    extra = dict(release["vars"], **overrides)
    return run_playbook("release.yml", extra_vars=extra, inventory=ROOT / "inventories/local")


def helm_history(kubeconfig, ns):
    out = subprocess.run(["helm", "history", "statewave", "-n", ns, "-o", "json", "--kubeconfig", str(kubeconfig)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False)
    return json.loads(out.stdout) if out.returncode == 0 else []


def helm_status(kubeconfig, ns):
    out = subprocess.run(["helm", "status", "statewave", "-n", ns, "-o", "json", "--kubeconfig", str(kubeconfig)],
                         stdout=subprocess.PIPE, text=True, check=True)
    return json.loads(out.stdout)


def deployment_image(kubectl, ns):
    d = json.loads(kubectl("-n", ns, "get", "deployment", "statewave", "-o", "json").stdout)
    return d["spec"]["template"]["spec"]["containers"][0]["image"]


def test_install_upgrade_then_nothing_changes(run_playbook, release, kubectl, kubeconfig):
    first = run(run_playbook, release)
    assert first.returncode == 0, first.stdout[-4000:]
    assert recap(first)["changed"] >= 1
    assert [r["status"] for r in helm_history(kubeconfig, release["ns"])] == ["deployed"]

    second = run(run_playbook, release, statewave_image_tag="1.5.1")
    assert second.returncode == 0, second.stdout[-4000:]
    history = helm_history(kubeconfig, release["ns"])
    assert [r["revision"] for r in history] == [1, 2] and history[-1]["status"] == "deployed"
    assert deployment_image(kubectl, release["ns"]) == "statewavedev/statewave:1.5.1"
    # The pre-upgrade migration Job ran again for revision 2 and succeeded.
    status = helm_status(kubeconfig, release["ns"])
    hooks = [h for h in status["hooks"] if h["kind"] == "Job"]
    assert hooks and hooks[0]["last_run"]["phase"] == "Succeeded"
    assert status["version"] == 2

    third = run(run_playbook, release, statewave_image_tag="1.5.1")
    assert third.returncode == 0, third.stdout[-4000:]
    assert recap(third)["changed"] == 0
    assert len(helm_history(kubeconfig, release["ns"])) == 2


def test_failed_migration_stops_the_rollout_and_the_next_run_recovers(run_playbook, release, kubectl, kubeconfig):
    assert run(run_playbook, release).returncode == 0

    failed = run(run_playbook, release, statewave_image_tag="1.6.0", statewave_migration_pod_labels=FAIL_LABEL)
    assert failed.returncode != 0
    assert "Migration Job %s/statewave-migrate failed: BackoffLimitExceeded" % release["ns"] in out(failed)
    assert "still serves statewavedev/statewave:1.5.0" in out(failed)
    assert "kubectl -n %s logs job/statewave-migrate" % release["ns"] in out(failed)
    assert deployment_image(kubectl, release["ns"]) == "statewavedev/statewave:1.5.0"

    fixed = run(run_playbook, release, statewave_image_tag="1.6.0")
    assert fixed.returncode == 0, fixed.stdout[-4000:]
    assert deployment_image(kubectl, release["ns"]) == "statewavedev/statewave:1.6.0"
    assert helm_history(kubeconfig, release["ns"])[-1]["status"] == "deployed"


def test_failed_first_install_then_next_run_installs(run_playbook, release, kubectl, kubeconfig):
    failed = run(run_playbook, release, statewave_migration_pod_labels=FAIL_LABEL)
    assert failed.returncode != 0
    assert "nothing was deployed yet" in out(failed)
    fixed = run(run_playbook, release)
    assert fixed.returncode == 0, fixed.stdout[-4000:]
    assert "it had never deployed, so it was uninstalled" in out(fixed)
    assert helm_history(kubeconfig, release["ns"])[-1]["status"] == "deployed"


def test_interrupted_run_leaves_pending_and_the_next_run_recovers(run_playbook, release, kubectl, kubeconfig, ansible_env, tmp_path):
    assert run(run_playbook, release).returncode == 0

    # Hold the pre-upgrade migration pod Running, then kill the whole run while Helm waits.
    extra = dict(release["vars"], statewave_image_tag="1.7.0",
                 statewave_migration_pod_labels={"statewave.io/test-hold": "true"},
                 statewave_migration_pod_annotations={"statewave.io/test-hold-duration": "600s"})
    vars_file = tmp_path / "vars.json"
    vars_file.write_text(json.dumps(extra))
    proc = subprocess.Popen(["ansible-playbook", "-i", str(ROOT / "inventories/local"),
                             str(ROOT / "tests/integration/playbooks/release.yml"), "-e", "@%s" % vars_file],
                            cwd=str(ROOT), env=ansible_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        wait_for(lambda: any(r["status"] == "pending-upgrade" for r in helm_history(kubeconfig, release["ns"])),
                 "a pending-upgrade revision")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert helm_history(kubeconfig, release["ns"])[-1]["status"] == "pending-upgrade"

    recovered = run(run_playbook, release, statewave_image_tag="1.7.0")
    assert recovered.returncode == 0, recovered.stdout[-4000:]
    assert "it was pending-upgrade at revision 2" in out(recovered)
    assert "rolled back to revision 1" in out(recovered)
    assert helm_history(kubeconfig, release["ns"])[-1]["status"] == "deployed"
    assert deployment_image(kubectl, release["ns"]) == "statewavedev/statewave:1.7.0"


def test_job_mode_runs_its_own_job_once_per_image(run_playbook, release, kubectl, kubeconfig):
    first = run(run_playbook, release, statewave_migration_mode="job")
    assert first.returncode == 0, first.stdout[-4000:]
    jobs = json.loads(kubectl("-n", release["ns"], "get", "jobs", "-l", "app.kubernetes.io/component=migrate",
                              "-o", "json").stdout)["items"]
    assert len(jobs) == 1 and jobs[0]["status"].get("succeeded") == 1
    env = jobs[0]["spec"]["template"]["spec"]["containers"][0]["env"]
    assert env[0]["valueFrom"]["secretKeyRef"]["name"] == "statewave-database"
    # The chart's hook Job is off in job mode.
    status = helm_status(kubeconfig, release["ns"])
    assert not [h for h in status.get("hooks", []) if h["kind"] == "Job"]

    again = run(run_playbook, release, statewave_migration_mode="job")
    assert again.returncode == 0 and recap(again)["changed"] == 0

    failed = run(run_playbook, release, statewave_migration_mode="job", statewave_image_tag="2.0.0",
                 statewave_migration_pod_labels=FAIL_LABEL)
    assert failed.returncode != 0
    assert "failed: BackoffLimitExceeded" in out(failed)
    assert deployment_image(kubectl, release["ns"]) == "statewavedev/statewave:1.5.0"
    assert len(helm_history(kubeconfig, release["ns"])) == 1


@pytest.mark.parametrize("overrides, expected", [
    ({"statewave_extra_env": [{"name": "STATEWAVE_LLM_MODEL", "value": "x"}]}, "STATEWAVE_LLM_MODEL is not a setting Statewave knows"),
    ({"statewave_extra_env": [{"name": "STATEWAVE_DATABASE_POOL_SIZE", "value": "20"}]}, "no STATEWAVE_DATABASE_POOL_* settings"),
    ({"statewave_extra_env": [{"name": "STATEWAVE_DATABASE_URL", "value": "x"}]}, "use that variable instead"),
    ({"statewave_pdb_enabled": True}, "statewave_pdb_enabled is true with 1 replica(s)"),
    ({"statewave_embedding_dimensions": 768}, "statewave_embedding_dimensions is 768"),
    ({"statewave_database_existing_secret": "nope"}, "nope/STATEWAVE_DATABASE_URL (namespace/name/key) does not exist"),
    ({"statewave_chart_values": {"database": {"url": "postgresql+asyncpg://u:p@h/d"}}}, "statewave_chart_values carries a credential"),
    ({"statewave_chart_source": "oci", "statewave_chart_ref": "oci://example/statewave"}, "a pinned statewave_chart_version"),
    ({"statewave_chart_values": {"podDisruptionBudget": {"maxUnavailable": 1}}, "statewave_replicas": 2},
     "Both podDisruptionBudget.minAvailable and maxUnavailable"),
])
def test_bad_input_fails_clearly_and_changes_nothing(run_playbook, release, kubectl, overrides, expected):
    proc = run(run_playbook, release, **overrides)
    assert proc.returncode != 0
    assert expected in out(proc), proc.stdout[-3000:]
    assert recap(proc)["changed"] == 0
    assert kubectl("-n", release["ns"], "get", "deployments", "-o", "name").stdout.strip() == ""


def test_dsn_without_asyncpg_driver_is_refused(run_playbook, release, kubectl):
    kubectl("-n", release["ns"], "create", "secret", "generic", "psycopg-dsn",
            "--from-literal=STATEWAVE_DATABASE_URL=postgresql://u:p@h:5432/d")
    proc = run(run_playbook, release, statewave_database_existing_secret="psycopg-dsn")
    assert proc.returncode != 0
    assert "does not start with postgresql+asyncpg://" in out(proc)


def test_secret_rotation_rolls_the_pods(run_playbook, release, kubectl):
    assert run(run_playbook, release).returncode == 0

    def checksum():
        d = json.loads(kubectl("-n", release["ns"], "get", "deployment", "statewave", "-o", "json").stdout)
        return d["spec"]["template"]["metadata"]["annotations"]["statewave.io/secrets-checksum"]

    before = checksum()
    new = base64.b64encode(b"postgresql+asyncpg://statewave:rotated@127.0.0.1:55432/statewave").decode()
    kubectl("-n", release["ns"], "patch", "secret", "statewave-database", "-p",
            json.dumps({"data": {"STATEWAVE_DATABASE_URL": new}}))
    assert run(run_playbook, release).returncode == 0
    assert checksum() != before


def test_no_secret_in_verbose_output(run_playbook, release):
    extra = dict(release["vars"], statewave_api_key="api-key-9f8e7d6c5b4a", statewave_llm_api_key="llm-key-1a2b3c4d5e6f")
    proc = run_playbook("release.yml", extra_vars=extra, inventory=ROOT / "inventories/local", verbosity=3)
    assert proc.returncode == 0, proc.stdout[-4000:]
    password = release["dsn"].split("//")[1].split("@")[0].split(":")[1]
    for secret in ("api-key-9f8e7d6c5b4a", "llm-key-1a2b3c4d5e6f", password, release["dsn"]):
        assert secret not in proc.stdout and secret not in out(proc)
