# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/diagnose.yml on the local cluster: read-only (changed=0) in every case; a healthy
release has no error, also with the verify role's failed in-cluster check Job beside it (not a
migration Job); a deleted DSN Secret is reported with the reference that needs it; a release that
does not exist is said to not exist; a failed upgrade's hook Job after a rollback is history, not an
error; a history with two deployed revisions (a recovery that raced a helm left running) is one."""

from __future__ import annotations

import json

from helpers import wait_for
# The fixtures (lifecycle, installed) are used by name.
from lifecycle_helpers import CHART, folded, installed, lifecycle, recap  # noqa: F401 pylint: disable=unused-import
from release_helpers import forge_revision_status


def verify_check_job(life):
    """A Job shaped like the verify role's in-cluster check (roles/verify/templates/http-check-job.yml.j2:
    instance and component=verify labels), made to fail (kwok's test-fail label)."""
    name = "%s-verify-x7k2p" % life.release
    labels = {"app.kubernetes.io/instance": life.release, "app.kubernetes.io/component": "verify"}
    life.apply({"apiVersion": "batch/v1", "kind": "Job",
                "metadata": {"name": name, "namespace": life.ns,
                             "labels": dict(labels, **{"app.kubernetes.io/managed-by": "statewave.kubernetes"})},
                "spec": {"backoffLimit": 0, "template": {
                    "metadata": {"labels": dict(labels, **{"statewave.io/test-fail": "true"})},
                    "spec": {"restartPolicy": "Never", "containers": [{"name": "check", "image": "swk.local/curl:bookworm"}]}}}})
    return name


def job_failed(life, name):
    job = json.loads(life.kubectl("-n", life.ns, "get", "job", name, "-o", "json").stdout)
    return any(c["type"] == "Failed" and c["status"] == "True" for c in job.get("status", {}).get("conditions", []))


def test_healthy_release_then_a_deleted_dsn_secret(installed):
    life = installed
    # The verify role's check Job, failed, is not a migration Job of the release.
    check = verify_check_job(life)
    wait_for(lambda: job_failed(life, check), "the check Job %s to fail" % check)
    healthy = life.run("diagnose.yml")
    text = folded(healthy)
    assert healthy.returncode == 0, healthy.stdout[-4000:]
    assert recap(healthy)["changed"] == 0
    assert "DIAGNOSE SUMMARY: 0 error(s)" in text
    assert "[INFO] release: revision 1 deployed" in text
    assert "[INFO] readiness: Deployment %s: 1/1 ready" % life.fullname in text
    assert "[INFO] secrets: all" in text and "%s/STATEWAVE_DATABASE_URL" % life.dsn_secret in text
    # The budget ran against the shared server for this release's database.
    assert "[INFO] budget: OK" in text
    assert "not migration Jobs, not checked here: %s (app.kubernetes.io/component=verify)" % check in text
    assert "[ERROR] migration" not in text and "migration Job %s" % check not in text
    assert life.password not in healthy.stdout and life.admin["admin_password"] not in healthy.stdout

    life.kubectl("-n", life.ns, "delete", "secret", life.dsn_secret)
    broken = life.run("diagnose.yml")
    text = folded(broken)
    assert broken.returncode == 0, broken.stdout[-4000:]
    assert recap(broken)["changed"] == 0
    assert ("[ERROR] secrets: Secret %s/%s referenced by Deployment/%s container api env STATEWAVE_DATABASE_URL "
            "does not exist" % (life.ns, life.dsn_secret, life.fullname)) in text
    assert "DIAGNOSE SUMMARY: 1 error(s)" in text
    assert "Next: re-run the pgvector role" in text

    strict = life.run("diagnose.yml", diagnose_fail_on_error=True)
    assert strict.returncode != 0 and "1 error finding(s)" in folded(strict)
    assert recap(strict)["changed"] == 0


def test_release_that_does_not_exist(lifecycle):
    proc = lifecycle.run("diagnose.yml")
    text = folded(proc)
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert recap(proc)["changed"] == 0
    assert ("[ERROR] release: release %s does not exist in namespace %s (helm history finds no revision)"
            % (lifecycle.release, lifecycle.ns)) in text
    assert "playbooks/site.yml" in text
    # The inventory's DSN Secret is still checked without a Deployment.
    assert "[INFO] secrets: all 1 Secret reference(s) resolve: %s/STATEWAVE_DATABASE_URL" % lifecycle.dsn_secret in text


def test_superseded_failed_hook_is_history_and_two_deployed_revisions_are_an_error(installed, kubeconfig):
    life = installed
    # Revision 2: an upgrade whose pre-upgrade hook fails (helm, as the role runs it), then a rollback
    # to revision 1 (revision 3). The failed hook Job stays (hook-delete-policy keeps failed ones).
    failed = life.helm("upgrade", life.release, str(CHART), "--reuse-values", "--set-string", "image.tag=1.6.0",
                       "--set", "migrationJob.backoffLimit=0",
                       "--set-string", "migrationJob.podLabels.statewave\\.io/test-fail=true",
                       "--wait", "--timeout", "120s", check=False)
    assert failed.returncode != 0 and "BackoffLimitExceeded" in failed.stderr, failed.stderr
    life.helm("rollback", life.release, "1", "--wait", "--timeout", "120s")
    assert [r["status"] for r in life.history()] == ["superseded", "failed", "deployed"]
    assert job_failed(life, "%s-migrate" % life.fullname)

    rolled = life.run("diagnose.yml")
    text = folded(rolled)
    assert rolled.returncode == 0, rolled.stdout[-4000:]
    assert recap(rolled)["changed"] == 0
    assert "DIAGNOSE SUMMARY: 0 error(s)" in text, text[-3000:]
    assert "[INFO] release: revision 3 deployed" in text
    assert ("[INFO] migration: migration Job %s-migrate failed (BackoffLimitExceeded)" % life.fullname) in text
    assert "before revision 3 (deployed" in text and "history of a superseded attempt" in text

    # A raced recovery: revision 1 marked deployed again beside revision 3 (in the release body
    # helm history reads, and in the record's label).
    forge_revision_status(life.kubectl, kubeconfig, life.ns, life.release, 1, "deployed")
    assert [r["status"] for r in life.history()] == ["deployed", "failed", "deployed"]
    raced = life.run("diagnose.yml", diagnose_fail_on_error=True)
    text = folded(raced)
    assert raced.returncode != 0 and "1 error finding(s)" in text, raced.stdout[-4000:]
    assert recap(raced)["changed"] == 0
    assert "[ERROR] release: revisions 1, 3 are all marked deployed; Helm keeps one." in text
    assert "helm -n %s rollback %s 3" % (life.ns, life.release) in text
