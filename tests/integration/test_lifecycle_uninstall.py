# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/uninstall.yml on the local cluster: it removes every object of the release, the
hook Secret and ServiceAccount that helm uninstall leaves behind included, keeps the database
and its data, changes nothing without the confirmation, and a second run changes nothing."""

from __future__ import annotations

# The fixtures (lifecycle, installed) are used by name.
from lifecycle_helpers import CHART, folded, installed, lifecycle, recap  # noqa: F401 pylint: disable=unused-import


def add_leftovers(life):
    """What a real release accumulates besides the chart's plain objects:
    * the chart's hook Secret <fullname>-credentials, from an earlier upgrade with an inline
      credential (hooks are not part of the release, so helm uninstall keeps them);
    * a job-mode migration Job the release role created (labelled with the instance).
    """
    life.helm("upgrade", life.release, str(CHART), "--reuse-values", "--set", "llm.apiKey=inline-test-value", "--wait")
    assert life.exists("secret", life.fullname + "-credentials")
    job = {"apiVersion": "batch/v1", "kind": "Job",
           "metadata": {"name": life.fullname[:40] + "-migrate-0123456789", "namespace": life.ns,
                        "labels": {"app.kubernetes.io/instance": life.release, "app.kubernetes.io/component": "migrate",
                                   "app.kubernetes.io/managed-by": "statewave.kubernetes"}},
           "spec": {"backoffLimit": 0, "template": {
               "metadata": {"labels": {"app.kubernetes.io/instance": life.release, "app.kubernetes.io/component": "migrate"}},
               "spec": {"restartPolicy": "Never", "containers": [{"name": "migrate", "image": "statewavedev/statewave:1.5.0"}]}}}}
    life.apply(job)


def test_uninstall_removes_every_object_and_keeps_the_data(installed):
    life = installed
    add_leftovers(life)
    before = life.release_objects()
    assert "ServiceAccount/%s" % life.fullname in before and "Secret/%s-credentials" % life.fullname in before
    assert "Deployment/%s" % life.fullname in before

    proc = life.run("uninstall.yml", uninstall_confirm=life.release)
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert recap(proc)["changed"] >= 3
    assert "Database %s untouched: its data is still there." % life.db in folded(proc)

    assert life.release_objects() == []
    assert life.history() == []
    assert not life.exists("secret", life.fullname + "-credentials")
    assert not life.exists("serviceaccount", life.fullname)
    # Kept unless asked: the namespace, the DSN Secret, the database and its rows.
    assert life.kubectl("get", "namespace", life.ns, check=False).returncode == 0
    assert life.exists("secret", life.dsn_secret)
    assert life.rows() == ["kept-1", "kept-2"]

    again = life.run("uninstall.yml", uninstall_confirm=life.release)
    assert again.returncode == 0, again.stdout[-4000:]
    assert recap(again)["changed"] == 0


def test_uninstall_drops_the_database_only_when_confirmed_by_name(installed):
    life = installed
    proc = life.run("uninstall.yml", uninstall_confirm=life.release, uninstall_drop_database=True,
                    uninstall_drop_database_confirm=life.db, uninstall_delete_database_secret=True,
                    uninstall_delete_namespace=True)
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert "Database %s DROPPED." % life.db in folded(proc)
    assert life.password not in proc.stdout
    assert not life.database_exists()
    assert life.kubectl("get", "namespace", life.ns, "--ignore-not-found", "-o", "name").stdout.strip() == ""
    assert life.history() == []
