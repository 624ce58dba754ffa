# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PyStator's inputs are checked before anything changes, on a first deploy: site.yml with the
local inventory (kwok), PyStator enabled beside Statewave, new namespaces and new database names;
each bad input fails with a message naming the variable, and afterwards neither namespace, no Helm
release, no database and no role exist (PyStator's database would be provisioned on the same
managed server as Statewave's)."""

from __future__ import annotations

import re
import uuid

import pytest

from helpers import folded as out, recap
from inputs_helpers import nothing_exists

from conftest import ROOT


def first_deploy_vars(suffix):
    return {
        "pystator_enabled": True, "pystator_namespace": "swk-py-" + suffix, "pystator_release_name": "pystator",
        "pystator_database_name": "swk_py_" + suffix, "pystator_database_user": "swk_py_" + suffix,
        "statewave_namespace": "swk-ps-" + suffix, "pgvector_app_database": "swk_ps_" + suffix,
        "preflight_db_name": "swk_ps_" + suffix,
    }


# (overrides, what the message must say: the variable first, then the condition)
BAD = [
    ({"pystator_namespace": "PyStator_NS"}, ["pystator_namespace=", "PyStator_NS", "is not a namespace name"]),
    ({"pystator_image_tag": "0.0.47:latest"}, ["pystator_image_tag=", "0.0.47:latest", "is not an image tag"]),
    ({"pystator_image_digest": "deadbeef"}, ["pystator_image_digest=", "deadbeef", "is not an image digest"]),
    ({"pystator_worker_drain_timeout_seconds": 60, "pystator_worker_termination_grace_period_seconds": 45},
     ["pystator_worker_termination_grace_period_seconds=45 must be greater than pystator_worker_drain_timeout_seconds=60"]),
    ({"pystator_api_port": 80}, ["pystator_api_port=80 must be 1024 to 65535"]),
    ({"pystator_worker_concurrency": 0}, ["pystator_worker_concurrency=0 must be 1 to 100"]),
    ({"pystator_cors_origins": ["app.example.com"]}, ["pystator_cors_origins=", "must list origins like https://app.example.com"]),
    ({"pystator_extra_config": {"PYSTATOR_DATABASE_URL": "postgresql://u:p@db/x"}},
     ["pystator_extra_config sets", "PYSTATOR_DATABASE_URL is set from"]),
    ({"pystator_auth_jwt_secret": "too-short"}, ["pystator_auth_jwt_secret (not shown) has 9 characters"]),
    ({"pystator_database_dsn_query": {"ssl": "require"}}, ["pystator_database_dsn_query=", "does not work with PyStator's psycopg 3"]),
    ({"pystator_database_name": "postgres"}, ["pystator_database_name=", "postgres", "not a built-in role"]),
    ({"pystator_chart_values": {"database": {"url": "postgresql://u:p@db/x"}}}, ["pystator_chart_values sets database"]),
    ({"pystator_database_provision": False, "pystator_database_existing_secret": "no-such-dsn"},
     ["pystator_database_existing_secret=no-such-dsn", "has no such key (or does not exist) while pystator_database_provision is false"]),
    ({"pystator_migration_deadline_seconds": 5}, ["pystator_migration_deadline_seconds=5 must be 30 to 86400"]),
]


@pytest.mark.parametrize("overrides, expected", BAD, ids=[re.split(r"[= (]", b[1][0])[0] for b in BAD])
def test_bad_pystator_input_fails_before_anything_changes(run_playbook, kubectl, kubeconfig, local_postgres, overrides, expected):
    extra = dict(first_deploy_vars(uuid.uuid4().hex[:6]), **overrides)
    proc = run_playbook(ROOT / "playbooks/site.yml", extra_vars=extra, inventory=ROOT / "inventories/local")
    assert proc.returncode != 0
    text = out(proc)
    for part in expected:
        assert part in text, "%r not in: %s" % (part, proc.stdout[-3000:])
    assert "Input check, nothing was changed. Fix these and run again:" in text, proc.stdout[-3000:]
    assert "Finalization of task args" not in text
    assert recap(proc)["changed"] == 0
    nothing_exists(kubectl, kubeconfig, local_postgres, extra)


def test_every_bad_pystator_input_is_reported_in_one_run(run_playbook, kubectl, kubeconfig, local_postgres):
    extra = dict(first_deploy_vars(uuid.uuid4().hex[:6]), pystator_api_port=80, pystator_worker_concurrency=0,
                 pystator_image_digest="deadbeef")
    proc = run_playbook(ROOT / "playbooks/site.yml", extra_vars=extra, inventory=ROOT / "inventories/local")
    assert proc.returncode != 0
    text = out(proc)
    for variable in ("pystator_api_port=80", "pystator_worker_concurrency=0", "pystator_image_digest="):
        assert variable in text, proc.stdout[-3000:]
    assert recap(proc)["changed"] == 0
    nothing_exists(kubectl, kubeconfig, local_postgres, extra)


def test_jwt_secret_and_admin_password_stay_out_of_output(run_playbook, kubectl, kubeconfig, local_postgres):
    """A bad input beside a JWT secret and an admin password given in the inventory: -vvv of the
    refused run never shows either value."""
    jwt = "jwt-canary-" + uuid.uuid4().hex
    password = "PwCanary" + uuid.uuid4().hex[:12]
    extra = dict(first_deploy_vars(uuid.uuid4().hex[:6]), pystator_api_port=80, pystator_auth_jwt_secret=jwt,
                 pystator_auth_admin_password=password)
    proc = run_playbook(ROOT / "playbooks/site.yml", extra_vars=extra, inventory=ROOT / "inventories/local", verbosity=3)
    assert proc.returncode != 0
    assert "pystator_api_port=80" in out(proc)
    assert jwt not in proc.stdout and password not in proc.stdout
    nothing_exists(kubectl, kubeconfig, local_postgres, extra)
