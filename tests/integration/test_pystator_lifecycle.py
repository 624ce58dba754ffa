# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lifecycle playbooks reach PyStator where pystator_enabled (kwok, local inventory): a
PyStator-only rollback or uninstall leaves Statewave alone (its play ends first), a refused run
changes nothing, and diagnose.yml reports a PyStator release that is not there as an error finding.
No release is installed: each run must refuse or only read."""

from __future__ import annotations

import uuid

from helpers import folded as out, recap

from conftest import ROOT


def pystator_vars(**more):
    suffix = uuid.uuid4().hex[:6]
    return dict({"pystator_enabled": True, "pystator_namespace": "swk-pl-" + suffix,
                 "statewave_namespace": "swk-pls-" + suffix}, **more)


def assert_nothing_created(kubectl, extra):
    for ns in (extra["pystator_namespace"], extra["statewave_namespace"]):
        assert kubectl("get", "namespace", ns, "--ignore-not-found", "-o", "name", check=False).stdout.strip() == ""


def test_pystator_rollback_without_a_release_is_refused(run_playbook, kubectl):
    extra = pystator_vars(pystator_rollback_revision=2)
    proc = run_playbook(ROOT / "playbooks/rollback.yml", extra_vars=extra, inventory=ROOT / "inventories/local")
    text = out(proc)
    assert proc.returncode != 0
    assert "Release pystator does not exist in namespace %s: nothing to roll back. Nothing was changed." % extra["pystator_namespace"] in text
    # Statewave's play ended before its own checks (no rollback_revision for it).
    assert "missing required arguments: rollback_revision" not in text
    assert recap(proc)["changed"] == 0
    assert_nothing_created(kubectl, extra)


def test_pystator_uninstall_needs_the_release_name(run_playbook, kubectl):
    extra = pystator_vars(pystator_uninstall_confirm="statewave")
    proc = run_playbook(ROOT / "playbooks/uninstall.yml", extra_vars=extra, inventory=ROOT / "inventories/local")
    text = out(proc)
    assert proc.returncode != 0
    assert "pystator_uninstall_confirm: 'statewave' is not the PyStator release name" in text
    assert "Nothing was changed." in text
    assert "uninstall_confirm must equal the release name" not in text  # Statewave's play ended first
    assert recap(proc)["changed"] == 0
    assert_nothing_created(kubectl, extra)


def test_pystator_diagnose_reports_a_missing_release(run_playbook, kubectl):
    extra = pystator_vars(statewave_enabled=False)
    proc = run_playbook(ROOT / "playbooks/diagnose.yml", extra_vars=extra, inventory=ROOT / "inventories/local")
    text = out(proc)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "[ERROR] release: %s/pystator does not exist" % extra["pystator_namespace"] in text
    assert "DIAGNOSE SUMMARY (pystator): 1 error(s), 0 warning(s)" in text
    assert recap(proc)["changed"] == 0
    assert_nothing_created(kubectl, extra)
