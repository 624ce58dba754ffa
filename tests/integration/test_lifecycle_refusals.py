# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Refused lifecycle runs on one release installed once for the module (``installed_shared``):
rollback.yml with a missing or unknown revision, uninstall.yml without (or with a wrong)
confirmation or a database login that does not work. Every run here must change nothing, and each
test checks that: the release is still revision 1, deployed, with the same objects at the same
resourceVersions and the rows in its database. A run that changed something fails its own test
(and the ones after it, which find the release changed)."""

from __future__ import annotations

import uuid

import pytest

from conftest import kubectl_runner, playbook_runner
from lifecycle_helpers import Lifecycle, folded, recap


@pytest.fixture(scope="module")
def installed_shared(kubeconfig, local_postgres, ansible_env, tmp_path_factory):
    """A lifecycle release (lifecycle_helpers.Lifecycle) installed once with site.yml."""
    life = Lifecycle(kubectl_runner(kubeconfig), kubeconfig,
                     playbook_runner(ansible_env, tmp_path_factory.mktemp("lifecycle-shared")),
                     local_postgres["pgvector"], uuid.uuid4().hex[:6])
    try:
        life.create()
        proc = life.run("site.yml")
        assert proc.returncode == 0, proc.stdout[-4000:]
        yield life
    finally:
        life.cleanup()


def test_rollback_names_a_missing_or_unknown_revision(installed_shared):
    life = installed_shared
    assert [r["status"] for r in life.history()] == ["deployed"]
    missing = life.run("rollback.yml")
    assert missing.returncode != 0 and "missing required arguments: rollback_revision" in folded(missing)

    unknown = life.run("rollback.yml", rollback_revision=7)
    assert unknown.returncode != 0
    assert ("rollback_revision=7 is not in the history of release %s (revisions: 1;" % life.release) in folded(unknown)
    for proc in (missing, unknown):
        assert recap(proc)["changed"] == 0
    assert len(life.history()) == 1


def test_uninstall_without_confirmation_changes_nothing(installed_shared):
    life = installed_shared
    assert [r["status"] for r in life.history()] == ["deployed"]
    before = life.release_objects(with_versions=True)
    history = life.history()

    missing = life.run("uninstall.yml")
    assert missing.returncode != 0
    assert ("uninstall_confirm must equal the release name to uninstall release %s from namespace %s" % (life.release, life.ns)
            in folded(missing))
    assert "it is not set. Nothing was changed." in folded(missing)

    wrong = life.run("uninstall.yml", uninstall_confirm="statewave")
    assert wrong.returncode != 0 and "it is 'statewave'" in folded(wrong)

    # Dropping the database needs its name as well, checked before anything changes.
    no_db_name = life.run("uninstall.yml", uninstall_confirm=life.release, uninstall_drop_database=True)
    assert no_db_name.returncode != 0
    assert "uninstall_drop_database_confirm must equal the database name (%s)" % life.db in folded(no_db_name)

    # Confirmed, but the admin login does not work: found out before anything changes.
    bad_login = life.run("uninstall.yml", uninstall_confirm=life.release, uninstall_drop_database=True,
                         uninstall_drop_database_confirm=life.db, pgvector_admin_password="not-the-password")
    assert bad_login.returncode != 0
    assert "uninstall_drop_database: cannot log in to PostgreSQL as %s@" % life.admin["admin_user"] in folded(bad_login)
    assert "not-the-password" not in bad_login.stdout

    for proc in (missing, wrong, no_db_name, bad_login):
        assert recap(proc)["changed"] == 0
    assert life.release_objects(with_versions=True) == before
    assert life.history() == history
    assert life.rows() == ["kept-1", "kept-2"]
