# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The release role on the local control plane: install, upgrade, idempotence, migrations that
gate the rollout (hook and job mode), recovery of an interrupted run, and input checks.

Pods never run here (kwok simulates them). A migration failure is made with the pod label
statewave.io/test-fail=true and a Helm wait is held open with statewave.io/test-hold (see
tests/cluster/stage-test-fail.yaml). The chart sources other than a path (a git repository, a
Helm repository and an OCI registry) are real servers on 127.0.0.1 (chart_source_helpers.py)."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import signal
import subprocess
import uuid
from pathlib import Path

import pytest

from chart_source_helpers import SourceUnavailable, chart_copy, chart_repo_server, git_chart_repo, oci_registry
from helpers import folded as out, recap, wait_for

ROOT = Path(__file__).resolve().parents[2]
FAIL_LABEL = {"statewave.io/test-fail": "true"}
HOLD_LABEL = {"statewave.io/test-hold": "true"}
HOLD_LONG = {"statewave.io/test-hold-duration": "3600s"}


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


def run(run_playbook, release, env=None, **overrides):
    extra = dict(release["vars"], **overrides)
    return run_playbook("release.yml", extra_vars=extra, inventory=ROOT / "inventories/local", env=env)


def interrupt(release, ansible_env, tmp_path, kubeconfig, status, argv=None, **overrides):
    """Start the release playbook (or argv), kill its whole process group once the release shows a
    revision in `status`, and return the history."""
    if argv is None:
        vars_file = tmp_path / ("vars-%s.json" % uuid.uuid4().hex[:6])
        vars_file.write_text(json.dumps(dict(release["vars"], **overrides)))
        argv = ["ansible-playbook", "-i", str(ROOT / "inventories/local"),
                str(ROOT / "tests/integration/playbooks/release.yml"), "-e", "@%s" % vars_file]
    proc = subprocess.Popen(argv, cwd=str(ROOT), env=ansible_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        wait_for(lambda: any(r["status"] == status for r in helm_history(kubeconfig, release["ns"])), "a %s revision" % status)
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
    interrupt(release, ansible_env, tmp_path, kubeconfig, "pending-upgrade", statewave_image_tag="1.7.0",
              statewave_migration_pod_labels=HOLD_LABEL, statewave_migration_pod_annotations={"statewave.io/test-hold-duration": "600s"})

    recovered = run(run_playbook, release, statewave_image_tag="1.7.0")
    assert recovered.returncode == 0, recovered.stdout[-4000:]
    assert "it was pending-upgrade at revision 2" in out(recovered)
    assert "rolled back to revision 1" in out(recovered)
    assert helm_history(kubeconfig, release["ns"])[-1]["status"] == "deployed"
    assert deployment_image(kubectl, release["ns"]) == "statewavedev/statewave:1.7.0"


def test_interrupted_first_install_leaves_pending_install_and_the_next_run_recovers(run_playbook, release, kubectl, kubeconfig,
                                                                                    ansible_env, tmp_path):
    history = interrupt(release, ansible_env, tmp_path, kubeconfig, "pending-install",
                        statewave_migration_pod_labels=HOLD_LABEL, statewave_migration_pod_annotations=HOLD_LONG)
    assert [r["revision"] for r in history] == [1]

    recovered = run(run_playbook, release)
    assert recovered.returncode == 0, recovered.stdout[-4000:]
    assert "it was pending-install at revision 1" in out(recovered)
    assert "it had never deployed, so it was uninstalled and is installed afresh" in out(recovered)
    assert [r["status"] for r in helm_history(kubeconfig, release["ns"])] == ["deployed"]
    assert deployment_image(kubectl, release["ns"]) == "statewavedev/statewave:1.5.0"


def test_interrupted_rollback_leaves_pending_rollback_and_the_next_run_recovers(run_playbook, release, kubectl, kubeconfig,
                                                                                ansible_env, tmp_path):
    ns = release["ns"]
    assert run(run_playbook, release).returncode == 0                                   # revision 1
    # Revision 2: API pods that never become ready (kwok fails them), recorded as deployed
    # because this upgrade does not wait.
    helm(kubeconfig, ns, "upgrade", "statewave", release["vars"]["statewave_chart_path"], "--reuse-values",
         "--set-string", "podLabels.statewave\\.io/test-fail=true")
    fixed = run(run_playbook, release)                                                   # revision 3
    assert fixed.returncode == 0, fixed.stdout[-4000:]
    assert [r["status"] for r in helm_history(kubeconfig, ns)] == ["superseded", "superseded", "deployed"]

    # A rollback to revision 2 waits for pods that never get ready: kill it while it waits.
    interrupt(release, ansible_env, tmp_path, kubeconfig, "pending-rollback",
              argv=["helm", "--kubeconfig", str(kubeconfig), "-n", ns, "rollback", "statewave", "2", "--wait", "--timeout", "600s"])

    recovered = run(run_playbook, release)
    assert recovered.returncode == 0, recovered.stdout[-4000:]
    assert "it was pending-rollback at revision 4" in out(recovered)
    assert "rolled back to revision 3 (the last deployed one)" in out(recovered)
    history = helm_history(kubeconfig, ns)
    assert history[-1]["status"] == "deployed" and history[-1]["description"] == "Rollback to 3"
    assert "statewave.io/test-fail" not in deployment(kubectl, ns)["spec"]["template"]["metadata"].get("labels", {})


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


def test_job_mode_chart_app_version_bump_without_tag_runs_migrations_again(run_playbook, release, kubectl, kubeconfig, tmp_path):
    ns = release["ns"]
    job_mode = {"statewave_migration_mode": "job", "statewave_image_tag": ""}
    first = run(run_playbook, release, statewave_chart_path=str(chart_copy(tmp_path / "chart-a")), **job_mode)
    assert first.returncode == 0, first.stdout[-4000:]
    [job] = migrate_jobs(kubectl, ns)
    assert job["status"].get("succeeded") == 1
    assert job_image(job) == job["metadata"]["annotations"]["statewave.io/image"] == "statewavedev/statewave:1.5.0"
    assert deployment_image(kubectl, ns) == "statewavedev/statewave:1.5.0"

    # Only the chart's appVersion changes: the image does, so a new Job must run before the upgrade.
    bumped = run(run_playbook, release, statewave_chart_path=str(chart_copy(tmp_path / "chart-b", app_version="1.6.0")), **job_mode)
    assert bumped.returncode == 0, bumped.stdout[-4000:]
    jobs = migrate_jobs(kubectl, ns)
    assert len(jobs) == 2 and jobs[0]["metadata"]["name"] != jobs[1]["metadata"]["name"]
    assert jobs[1]["status"].get("succeeded") == 1 and job_image(jobs[1]) == "statewavedev/statewave:1.6.0"
    assert deployment_image(kubectl, ns) == "statewavedev/statewave:1.6.0"
    assert [r["status"] for r in helm_history(kubeconfig, ns)] == ["superseded", "deployed"]


def assert_installed_from(source_run, again, kubectl, kubeconfig, ns):
    """Installed with the chart's appVersion as the image, and a re-run changes nothing."""
    assert source_run.returncode == 0, source_run.stdout[-4000:]
    history = helm_history(kubeconfig, ns)
    assert [(r["status"], r["chart"], r["app_version"]) for r in history] == [("deployed", "statewave-0.2.1", "1.5.0")]
    assert deployment_image(kubectl, ns) == "statewavedev/statewave:1.5.0"
    assert again.returncode == 0, again.stdout[-4000:]
    assert recap(again)["changed"] == 0
    assert len(helm_history(kubeconfig, ns)) == 1


def test_chart_from_a_git_checkout_pinned_to_a_commit(run_playbook, release, kubectl, kubeconfig, tmp_path):
    url, commit = git_chart_repo(tmp_path)
    cache = tmp_path / "charts"
    source = {"statewave_chart_source": "git", "statewave_chart_git_repo": url, "statewave_chart_git_version": commit,
              "statewave_chart_cache_dir": str(cache), "statewave_chart_path": "", "statewave_image_tag": ""}
    first = run(run_playbook, release, **source)
    assert_installed_from(first, run(run_playbook, release, **source), kubectl, kubeconfig, release["ns"])
    [checkout] = list(cache.iterdir())
    assert checkout.name.endswith("-" + commit) and (checkout / "helm" / "statewave" / "Chart.yaml").is_file()


def test_chart_from_a_helm_repository_in_job_mode(run_playbook, release, kubectl, kubeconfig, tmp_path):
    with chart_repo_server(tmp_path) as url:
        source = {"statewave_chart_source": "repo", "statewave_chart_repo_url": url, "statewave_chart_ref": "statewave",
                  "statewave_chart_version": "0.2.1", "statewave_chart_path": "", "statewave_image_tag": "",
                  "statewave_migration_mode": "job"}
        first = run(run_playbook, release, **source)
        assert_installed_from(first, run(run_playbook, release, **source), kubectl, kubeconfig, release["ns"])
    # The appVersion came from the repository (helm show chart --repo --version).
    [job] = migrate_jobs(kubectl, release["ns"])
    assert job_image(job) == "statewavedev/statewave:1.5.0"


def test_chart_from_an_oci_registry_in_job_mode(run_playbook, release, kubectl, kubeconfig, tmp_path):
    try:
        registry = oci_registry(tmp_path)
        oci = registry.__enter__()  # pylint: disable=unnecessary-dunder-call
    except SourceUnavailable as exc:
        if os.environ.get("SWK_REQUIRE_SERVICES") == "1":
            pytest.fail("required service missing: %s" % exc, pytrace=False)
        pytest.skip(str(exc))
    try:
        source = {"statewave_chart_source": "oci", "statewave_chart_ref": oci["ref"], "statewave_chart_version": "0.2.1",
                  "statewave_chart_path": "", "statewave_image_tag": "", "statewave_migration_mode": "job"}
        # Helm trusts the registry's throwaway CA through SSL_CERT_FILE.
        env = {"SSL_CERT_FILE": oci["ca_file"]}
        first = run(run_playbook, release, env=env, **source)
        assert_installed_from(first, run(run_playbook, release, env=env, **source), kubectl, kubeconfig, release["ns"])
        [job] = migrate_jobs(kubectl, release["ns"])
        assert job_image(job) == "statewavedev/statewave:1.5.0"
    finally:
        registry.__exit__(None, None, None)


def test_migration_deadline_ends_the_play_at_the_job_failure(run_playbook, release, kubectl, kubeconfig):
    ns = release["ns"]
    # The migration pod is held Running far longer than the Job's deadline.
    failed = run(run_playbook, release, statewave_migration_deadline_seconds=20,
                 statewave_migration_pod_labels=HOLD_LABEL, statewave_migration_pod_annotations=HOLD_LONG)
    assert failed.returncode != 0
    text = out(failed)
    assert "Migration Job %s/statewave-migrate failed: DeadlineExceeded" % ns in text
    assert "statewave_migration_deadline_seconds=20" in text and "raise statewave_migration_deadline_seconds" in text
    assert "timed out" not in text
    # What Helm was given: kubernetes.core.helm reports its command line with the failure.
    assert re.search(r"helm .*upgrade .*--timeout 320s", failed.stdout), failed.stdout[-4000:]
    job = json.loads(kubectl("-n", ns, "get", "job", "statewave-migrate", "-o", "json").stdout)
    assert job["spec"]["activeDeadlineSeconds"] == 20
    assert [c["reason"] for c in job["status"]["conditions"] if c["type"] == "Failed" and c["status"] == "True"] == ["DeadlineExceeded"]


DIGEST = "sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize("overrides, expected, variables", [
    ({"statewave_extra_env": [{"name": "STATEWAVE_LLM_MODEL", "value": "x"}]}, "STATEWAVE_LLM_MODEL is not a setting Statewave knows",
     ["statewave_extra_env"]),
    ({"statewave_extra_env": [{"name": "STATEWAVE_DATABASE_POOL_SIZE", "value": "20"}]}, "no STATEWAVE_DATABASE_POOL_* settings",
     ["statewave_extra_env"]),
    ({"statewave_extra_env": [{"name": "STATEWAVE_DATABASE_URL", "value": "x"}]}, "use that variable instead",
     ["statewave_extra_env", "statewave_database_existing_secret"]),
    ({"statewave_chart_values": {"extraEnv": [{"name": "STATEWAVE_WEBHOOK_URLS", "value": "x"}]}},
     "STATEWAVE_WEBHOOK_URLS is not a setting Statewave knows", ["statewave_chart_values.extraEnv"]),
    ({"statewave_pdb_enabled": True}, "statewave_pdb_enabled is true with 1 replica(s)", ["statewave_pdb_enabled", "statewave_replicas"]),
    ({"statewave_pdb_enabled": True, "statewave_replicas": 2, "statewave_pdb_min_available": 1, "statewave_pdb_max_unavailable": 1},
     "are both set", ["statewave_pdb_min_available", "statewave_pdb_max_unavailable"]),
    ({"statewave_chart_values": {"podDisruptionBudget": {"maxUnavailable": 1}}, "statewave_replicas": 2},
     "The PodDisruptionBudget would get both minAvailable", ["statewave_chart_values", "statewave_pdb_min_available"]),
    ({"statewave_embedding_dimensions": 768}, "statewave_embedding_dimensions is 768", ["statewave_embedding_dimensions"]),
    ({"statewave_image_tag": "", "statewave_image_digest": DIGEST}, "The chart always renders the image as <repository>:<tag>",
     ["statewave_image_digest", "statewave_image_tag"]),
    ({"statewave_image_digest": "sha256:1234"}, "is not an image digest", ["statewave_image_digest"]),
    ({"statewave_database_existing_secret": "nope"}, "nope/STATEWAVE_DATABASE_URL (namespace/name/key) does not exist",
     ["statewave_database_existing_secret", "statewave_database_existing_secret_key"]),
    ({"statewave_chart_values": {"database": {"url": "postgresql+asyncpg://u:p@h/d"}}}, "statewave_chart_values carries a credential",
     ["statewave_chart_values", "statewave_database_existing_secret"]),
    ({"statewave_chart_source": "oci", "statewave_chart_ref": "oci://example/statewave"}, "a pinned statewave_chart_version",
     ["statewave_chart_version"]),
])
def test_bad_input_fails_clearly_and_changes_nothing(run_playbook, release, kubectl, kubeconfig, overrides, expected, variables):
    # With an API key to store: a Secret the role would create if it got that far.
    proc = run(run_playbook, release, statewave_api_key="api-key-not-stored", **overrides)
    assert proc.returncode != 0
    text = out(proc)
    assert expected in text, proc.stdout[-3000:]
    for variable in variables:
        assert variable in text
    assert recap(proc)["changed"] == 0
    assert kubectl("-n", release["ns"], "get", "deployments", "-o", "name").stdout.strip() == ""
    assert kubectl("-n", release["ns"], "get", "secret", "statewave-api-key", "--ignore-not-found", "-o", "name").stdout.strip() == ""
    assert helm_history(kubeconfig, release["ns"]) == []


def test_dsn_without_asyncpg_driver_is_refused(run_playbook, release, kubectl, kubeconfig):
    kubectl("-n", release["ns"], "create", "secret", "generic", "psycopg-dsn",
            "--from-literal=STATEWAVE_DATABASE_URL=postgresql://u:p@h:5432/d")
    proc = run(run_playbook, release, statewave_database_existing_secret="psycopg-dsn", statewave_api_key="api-key-not-stored")
    assert proc.returncode != 0
    text = out(proc)
    assert "The DSN in Secret %s/psycopg-dsn/STATEWAVE_DATABASE_URL" % release["ns"] in text
    assert "from statewave_database_existing_secret / statewave_database_existing_secret_key" in text
    assert "does not start with postgresql+asyncpg://" in text
    assert "Rewrite the Secret's value as postgresql+asyncpg://USER:PASS@HOST:5432/DB" in text
    assert "u:p@h" not in proc.stdout
    assert recap(proc)["changed"] == 0
    assert kubectl("-n", release["ns"], "get", "deployments", "-o", "name").stdout.strip() == ""
    assert kubectl("-n", release["ns"], "get", "secret", "statewave-api-key", "--ignore-not-found", "-o", "name").stdout.strip() == ""
    assert helm_history(kubeconfig, release["ns"]) == []


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


def test_no_secret_in_verbose_output_and_credentials_only_by_secret_name(run_playbook, release, kubectl, kubeconfig):
    ns = release["ns"]
    keys = {"api": "api-key-9f8e7d6c5b4a", "llm": "llm-key-1a2b3c4d5e6f"}
    extra = dict(release["vars"], statewave_api_key=keys["api"], statewave_llm_api_key=keys["llm"])
    proc = run_playbook("release.yml", extra_vars=extra, inventory=ROOT / "inventories/local", verbosity=3)
    assert proc.returncode == 0, proc.stdout[-4000:]
    password = release["dsn"].split("//")[1].split("@")[0].split(":")[1]
    for secret in (keys["api"], keys["llm"], password, release["dsn"]):
        assert secret not in proc.stdout and secret not in out(proc)

    # The role made one Secret per credential; the chart's inline-credentials Secret does not exist.
    secrets = {s["metadata"]["name"]: s for s in json.loads(kubectl("-n", ns, "get", "secrets", "-o", "json").stdout)["items"]}
    assert "statewave-credentials" not in secrets
    stored = {name: {k: base64.b64decode(v).decode() for k, v in secrets[name]["data"].items()}
              for name in ("statewave-llm", "statewave-api-key")}
    assert stored == {"statewave-llm": {"STATEWAVE_LITELLM_API_KEY": keys["llm"]}, "statewave-api-key": {"STATEWAVE_API_KEY": keys["api"]}}

    # The pods read every credential through a secretKeyRef to those Secrets.
    env = {e["name"]: e for e in deployment(kubectl, ns)["spec"]["template"]["spec"]["containers"][0]["env"]}
    refs = {name: env[name]["valueFrom"]["secretKeyRef"] for name in ("STATEWAVE_DATABASE_URL", "STATEWAVE_LITELLM_API_KEY", "STATEWAVE_API_KEY")}
    assert refs == {"STATEWAVE_DATABASE_URL": {"name": "statewave-database", "key": "STATEWAVE_DATABASE_URL"},
                    "STATEWAVE_LITELLM_API_KEY": {"name": "statewave-llm", "key": "STATEWAVE_LITELLM_API_KEY"},
                    "STATEWAVE_API_KEY": {"name": "statewave-api-key", "key": "STATEWAVE_API_KEY"}}
    assert not [e for e in env.values() if "value" in e and e["name"] in refs]

    # Helm's release record holds Secret names only.
    values = json.loads(helm(kubeconfig, ns, "get", "values", "statewave", "--all", "-o", "json"))
    dumped = json.dumps(values)
    for secret in (keys["api"], keys["llm"], password):
        assert secret not in dumped
    assert (values["database"]["url"], values["llm"]["apiKey"], values["auth"]["apiKey"]) == ("", "", "")
    assert (values["database"]["existingSecret"], values["llm"]["existingSecret"], values["auth"]["existingSecret"]) == (
        "statewave-database", "statewave-llm", "statewave-api-key")
