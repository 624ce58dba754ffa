# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The release role on the local control plane: install, upgrade and idempotence; migrations that
gate the rollout (a failed hook stops the upgrade, a failed first install is cleaned up); recovery
of a run interrupted in pending-install, -upgrade or -rollback (release_helpers.py): refused while the
pending revision is younger than statewave_pending_recovery_min_age_seconds (a helm may still work
on it), and with the hook Job still in flight stopped before the rollback or uninstall."""

from __future__ import annotations

# The fixture release is used by name.
from release_helpers import (  # noqa: F401 pylint: disable=unused-import
    FAIL_LABEL, HOLD_LABEL, HOLD_LONG, deployment, deployment_image, helm, helm_history, helm_status, hook_job, interrupt,
    recap, release, run)
from helpers import folded as out


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

    # The upgrade ran helm once with the hook watcher beside it (after asking helm in check mode).
    assert WATCHER in second.stdout and HELM_RUN in second.stdout, second.stdout[-4000:]

    # A check-mode run with a new tag: helm's answer says the release would change; nothing changes.
    checked = run(run_playbook, release, check=True, statewave_image_tag="1.5.2")
    assert checked.returncode == 0, checked.stdout[-4000:]
    assert "changed: [local]" in after(checked, ASK_HELM), checked.stdout[-4000:]
    assert len(helm_history(kubeconfig, release["ns"])) == 2
    assert deployment_image(kubectl, release["ns"]) == "statewavedev/statewave:1.5.1"

    # Nothing to change: helm's check-mode answer is the result; no second helm run, no watcher.
    third = run(run_playbook, release, statewave_image_tag="1.5.1")
    assert third.returncode == 0, third.stdout[-4000:]
    assert recap(third)["changed"] == 0
    assert len(helm_history(kubeconfig, release["ns"])) == 2
    assert ASK_HELM in third.stdout and WATCHER not in third.stdout, third.stdout[-4000:]
    assert "ok: [local]" in after(third, ASK_HELM) and "skipping: [local]" in after(third, HELM_RUN)


ASK_HELM = "TASK [statewave.kubernetes.workload : Ask helm whether it would change release statewave]"
HELM_RUN = "TASK [statewave.kubernetes.workload : Install or upgrade release statewave]"
WATCHER = "TASK [statewave.kubernetes.workload : Watch in the background hook Job statewave-migrate]"


def after(proc, task):
    """What a run printed for one task: the lines between its header and the next task's."""
    return proc.stdout.split(task, 1)[1].split("TASK [", 1)[0] if task in proc.stdout else ""


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
    ns = release["ns"]
    assert run(run_playbook, release).returncode == 0

    # Hold the pre-upgrade migration pod Running, then kill the whole run while Helm waits.
    interrupt(release, ansible_env, tmp_path, kubeconfig, "pending-upgrade", statewave_image_tag="1.7.0",
              also=lambda: hook_job(kubectl, ns), statewave_migration_pod_labels=HOLD_LABEL,
              statewave_migration_pod_annotations={"statewave.io/test-hold-duration": "600s"})
    held = hook_job(kubectl, ns)
    assert held and not held["status"].get("conditions"), held.get("status")   # in flight, never finishes in time

    # A re-run at once: the pending revision is seconds old, a helm may still work on it. Refused, nothing changed.
    refused = run(run_playbook, release, statewave_image_tag="1.7.0")
    assert refused.returncode != 0
    assert ("Release %s/statewave is pending-upgrade (revision 2), written " % ns) in out(refused)
    assert ("ago, less than statewave_pending_recovery_min_age_seconds=1860: the helm process that started it may still be "
            "running") in out(refused)
    assert "Nothing was changed. Wait for that helm process to end, or find and kill it" in out(refused)
    assert "lower statewave_pending_recovery_min_age_seconds (0 recovers at once)" in out(refused)
    assert recap(refused)["changed"] == 0
    assert [r["status"] for r in helm_history(kubeconfig, ns)] == ["deployed", "pending-upgrade"]
    assert hook_job(kubectl, ns)["metadata"]["uid"] == held["metadata"]["uid"]

    # Older than the threshold (0): the held hook Job is stopped first, then the rollback and the upgrade.
    recovered = run(run_playbook, release, statewave_image_tag="1.7.0", statewave_pending_recovery_min_age_seconds=0)
    assert recovered.returncode == 0, recovered.stdout[-4000:]
    text = out(recovered)
    assert "Stopped migration Job(s) %s/statewave-migrate of release statewave, still running from the interrupted run" % ns in text
    assert text.index("Stopped migration Job(s)") < text.index("rolled back to revision 1")
    assert "it was pending-upgrade at revision 2" in text
    assert "rolled back to revision 1" in text
    history = helm_history(kubeconfig, ns)
    assert history[-1]["status"] == "deployed" and [r["status"] for r in history].count("deployed") == 1
    assert deployment_image(kubectl, ns) == "statewavedev/statewave:1.7.0"
    # The held Job is gone (the upgrade's own hook Job succeeded and Helm deleted it).
    now = hook_job(kubectl, ns)
    assert not now or now["metadata"]["uid"] != held["metadata"]["uid"]


def test_interrupted_first_install_leaves_pending_install_and_the_next_run_recovers(run_playbook, release, kubectl, kubeconfig,
                                                                                    ansible_env, tmp_path):
    history = interrupt(release, ansible_env, tmp_path, kubeconfig, "pending-install", also=lambda: hook_job(kubectl, release["ns"]),
                        statewave_migration_pod_labels=HOLD_LABEL, statewave_migration_pod_annotations=HOLD_LONG)
    assert [r["revision"] for r in history] == [1]

    held = hook_job(kubectl, release["ns"])
    recovered = run(run_playbook, release, statewave_pending_recovery_min_age_seconds=0)
    assert recovered.returncode == 0, recovered.stdout[-4000:]
    assert "Stopped migration Job(s) %s/statewave-migrate" % release["ns"] in out(recovered)
    assert (hook_job(kubectl, release["ns"]) or {"metadata": {}})["metadata"].get("uid") != held["metadata"]["uid"]
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

    recovered = run(run_playbook, release, statewave_pending_recovery_min_age_seconds=0)
    assert recovered.returncode == 0, recovered.stdout[-4000:]
    assert "it was pending-rollback at revision 4" in out(recovered)
    assert "Stopped migration Job" not in out(recovered)
    assert "rolled back to revision 3 (the last deployed one)" in out(recovered)
    history = helm_history(kubeconfig, ns)
    assert history[-1]["status"] == "deployed" and history[-1]["description"] == "Rollback to 3"
    assert "statewave.io/test-fail" not in deployment(kubectl, ns)["spec"]["template"]["metadata"].get("labels", {})
