# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/diagnose.yml on the local cluster: read-only (changed=0) in every case; a healthy
release has no error; a deleted DSN Secret is reported with the reference that needs it; a
release that does not exist is said to not exist."""

from __future__ import annotations

# The fixtures (lifecycle, installed) are used by name.
from lifecycle_helpers import folded, installed, lifecycle, recap  # noqa: F401 pylint: disable=unused-import


def test_healthy_release_then_a_deleted_dsn_secret(installed):
    life = installed
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
