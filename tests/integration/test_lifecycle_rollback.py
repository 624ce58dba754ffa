# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/upgrade.yml and playbooks/rollback.yml on the local cluster: an image change prints
the backup reminder (and is refused until confirmed when acknowledgement is required), the
rollback to revision 1 works, warns that the schema is not rolled back, and a second rollback
changes nothing."""

from __future__ import annotations

# The fixtures (lifecycle, installed) are used by name.
from lifecycle_helpers import folded, installed, lifecycle, recap  # noqa: F401 pylint: disable=unused-import

SCHEMA_WARNING = "WARNING: the database schema is NOT rolled back."


def test_upgrade_then_rollback_to_revision_1(installed):
    life = installed
    image_1 = "statewavedev/statewave:1.5.0"
    image_2 = "statewavedev/statewave:1.5.1"
    assert life.image() == image_1

    # Acknowledgement required and not given: the reminder, then a stop before any change.
    refused = life.run("upgrade.yml", statewave_image_tag="1.5.1", statewave_upgrade_require_backup_ack=True)
    text = folded(refused)
    assert refused.returncode != 0
    assert "The image changes: %s -> %s." % (image_1, image_2) in text
    assert "pg_dump -Fc --host=%s --port=%s --dbname=%s --file=%s-%s-" % (
        life.admin["host"], life.admin["port"], life.db, life.release, life.db) in text
    assert "-e statewave_upgrade_backup_confirmed=true. Nothing was changed." in text
    assert life.password not in refused.stdout and life.admin["admin_password"] not in refused.stdout
    assert recap(refused)["changed"] == 0
    assert len(life.history()) == 1 and life.image() == image_1

    upgraded = life.run("upgrade.yml", statewave_image_tag="1.5.1", statewave_upgrade_require_backup_ack=True,
                        statewave_upgrade_backup_confirmed=True)
    assert upgraded.returncode == 0, upgraded.stdout[-4000:]
    assert [r["status"] for r in life.history()] == ["superseded", "deployed"]
    assert life.image() == image_2

    rolled = life.run("rollback.yml", rollback_revision=1)
    assert rolled.returncode == 0, rolled.stdout[-4000:]
    assert recap(rolled)["changed"] == 1
    assert folded(rolled).count(SCHEMA_WARNING) == 2   # before and after
    assert "alembic downgrade" in folded(rolled) and "pg_dump backup" in folded(rolled)
    history = life.history()
    assert [r["revision"] for r in history] == [1, 2, 3]
    assert history[-1]["status"] == "deployed" and history[-1]["description"] == "Rollback to 1"
    assert life.image() == image_1
    # verify ran on the rolled-back release
    assert "release: %s/%s revision 3 (deployed)" % (life.ns, life.release) in folded(rolled)

    again = life.run("rollback.yml", rollback_revision=1)
    assert again.returncode == 0, again.stdout[-4000:]
    assert recap(again)["changed"] == 0
    assert "already runs revision 1" in folded(again) and SCHEMA_WARNING not in folded(again)
    assert len(life.history()) == 3


def test_upgrade_refuses_a_release_that_does_not_exist(lifecycle):
    proc = lifecycle.run("upgrade.yml", statewave_image_tag="1.5.1")
    assert proc.returncode != 0
    assert ("Release %s does not exist in namespace %s. upgrade.yml changes an existing release; install it with "
            "playbooks/site.yml" % (lifecycle.release, lifecycle.ns)) in folded(proc)
    assert recap(proc)["changed"] == 0
    assert lifecycle.history() == []
