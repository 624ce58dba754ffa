# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every role's bad inputs against an existing deployment (issue 17): Statewave and PyStator deployed
once by site.yml (module fixture), then each case of inputs_helpers.BAD; each stops in the first play
with its message, and every object of both namespaces keeps its resourceVersion, Helm's history of
both releases and the databases and roles stay as they were."""

from __future__ import annotations

import subprocess
import uuid

import pytest

from conftest import ROOT, kubectl_runner, playbook_runner
from helpers import recap
from inputs_helpers import BAD, IDS, assert_refused, base_vars, snapshot


@pytest.fixture(scope="module")
def deployed(ansible_env, tmp_path_factory, kubeconfig, local_postgres):
    # The budget check is off here only: the shared test server has max_connections 100, and
    # PyStator's worker alone plans 90 per pod. The bad inputs stop before the budget is read.
    extra = dict(base_vars(uuid.uuid4().hex[:6], heddle=False), preflight_budget_enabled=False)
    run = playbook_runner(ansible_env, tmp_path_factory.mktemp("inputs-existing"))
    proc = run(ROOT / "playbooks/site.yml", extra_vars=extra, inventory=ROOT / "inventories/local")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert recap(proc)["failed"] == 0
    kubectl = kubectl_runner(kubeconfig)
    try:
        yield {"vars": extra, "before": snapshot(kubectl, kubeconfig, local_postgres, extra)}
    finally:
        _remove(kubectl, kubeconfig, local_postgres, extra)


def _remove(kubectl, kubeconfig, local_postgres, extra):
    import psycopg

    for key, release in (("statewave_namespace", "statewave"), ("pystator_namespace", "pystator")):
        subprocess.run(["helm", "uninstall", release, "-n", extra[key], "--kubeconfig", str(kubeconfig)], check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        kubectl("delete", "namespace", extra[key], "--wait=false", check=False)
    facts = local_postgres["pgvector"]
    with psycopg.connect(host=facts["host"], port=facts["port"], user=facts["admin_user"], password=facts["admin_password"],
                         dbname="postgres", autocommit=True) as conn:
        for database in (extra["pgvector_app_database"], extra["pystator_database_name"]):
            conn.execute("DROP DATABASE IF EXISTS %s WITH (FORCE)" % database)
        conn.execute("DROP ROLE IF EXISTS %s" % extra["pystator_database_user"])


@pytest.mark.parametrize("bad", BAD, ids=IDS)
def test_bad_input_on_an_existing_deployment_changes_nothing(run_playbook, kubectl, kubeconfig, local_postgres, deployed, bad):
    overrides = dict(bad["overrides"])
    # Heddle beside the deployment: only where the case is Heddle's (it cannot run on kwok).
    extra = dict(deployed["vars"], **overrides)
    if any(k.startswith("heddle_") for k in overrides):
        heddle = base_vars(uuid.uuid4().hex[:6])
        extra = dict(deployed["vars"], **{k: v for k, v in heddle.items() if k.startswith("heddle_")})
        extra.update(overrides)
    proc = run_playbook(ROOT / "playbooks/site.yml", extra_vars=extra, inventory=ROOT / "inventories/local")
    assert_refused(proc, bad)
    assert snapshot(kubectl, kubeconfig, local_postgres, deployed["vars"]) == deployed["before"]
