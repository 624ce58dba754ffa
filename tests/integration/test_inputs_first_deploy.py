# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every role's bad inputs on a first deploy (issue 17): site.yml with Statewave, PyStator and Heddle
enabled, new namespaces and new database names; each of the cases in inputs_helpers.BAD stops in
the first play with one message naming the operator's variable, and afterwards no namespace, no
Helm release, no database and no role exist. A run with several bad variables reports all of them."""

from __future__ import annotations

import uuid

import pytest

from conftest import ROOT
from inputs_helpers import BAD, IDS, assert_refused, base_vars, nothing_exists, problem_lines


@pytest.mark.parametrize("bad", BAD, ids=IDS)
def test_bad_input_on_a_first_deploy_changes_nothing(run_playbook, kubectl, kubeconfig, local_postgres, bad):
    extra = dict(base_vars(uuid.uuid4().hex[:6]), **bad["overrides"])
    proc = run_playbook(ROOT / "playbooks/site.yml", extra_vars=extra, inventory=ROOT / "inventories/local")
    assert_refused(proc, bad)
    nothing_exists(kubectl, kubeconfig, local_postgres, extra)


def test_every_bad_input_of_every_role_is_reported_in_one_run(run_playbook, kubectl, kubeconfig, local_postgres):
    chosen = [b for b in BAD if b["id"] in ("statewave_embedding_dimensions", "ingress_timeout", "pgvector_dsn_secret_name",
                                            "pystator_api_port", "heddle_valkey_storage_size", "statewave_migration_deadline_seconds")]
    extra = base_vars(uuid.uuid4().hex[:6])
    for bad in chosen:
        extra.update(bad["overrides"])
    proc = run_playbook(ROOT / "playbooks/site.yml", extra_vars=extra, inventory=ROOT / "inventories/local")
    assert proc.returncode != 0
    lines = problem_lines(proc)
    for bad in chosen:
        assert [line for line in lines if bad["expected"][0] in line], (bad["id"], lines)
    assert len(lines) == len(chosen), lines
    nothing_exists(kubectl, kubeconfig, local_postgres, extra)
