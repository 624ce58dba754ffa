# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The preflight role's budget entry point against a throwaway PostgreSQL.

Every run uses -vvv: the login password (random) must never appear in Ansible's output, and each
run must also show that it really logged in (or really failed), so a run that never touched the
password cannot pass.
"""

from __future__ import annotations

import pytest

VERBOSE = 3


@pytest.fixture(scope="module")
def pg(throwaway_postgres_module):
    return throwaway_postgres_module(name="nolog")


def login_vars(pg, password=None, port=None):
    return {
        "preflight_db_login_host": "127.0.0.1",
        "preflight_db_login_port": port or pg.port,
        "preflight_db_login_user": pg.admin_user,
        "preflight_db_login_password": password if password is not None else pg.admin_password,
        "preflight_db_ssl_mode": "disable",
    }


def assert_no_password(output, password):
    assert password not in output
    # also not split by Ansible's YAML line folding
    assert password[:12] not in output


def test_preflight_budget_passing_run(pg, run_playbook):
    proc = run_playbook("preflight_budget.yml", extra_vars=dict(login_vars(pg), statewave_replicas=1),
                        verbosity=VERBOSE)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "OK: the plan (1 replica)" in proc.stdout
    assert "max_connections %s," % pg.query("SHOW max_connections")[0][0] in proc.stdout
    assert_no_password(proc.stdout, pg.admin_password)


def test_preflight_budget_failing_run(pg, run_playbook):
    proc = run_playbook("preflight_budget.yml", extra_vars=dict(login_vars(pg), statewave_replicas=9),
                        verbosity=VERBOSE)
    assert proc.returncode != 0
    assert "Connection budget FAIL - nothing was changed" in proc.stdout
    assert_no_password(proc.stdout, pg.admin_password)


def test_preflight_connection_failure(pg, run_playbook):
    # The right password to a port nobody listens on: the error is reported, the password is not.
    import pglocal

    proc = run_playbook("preflight_budget.yml",
                        extra_vars=login_vars(pg, port=pglocal.free_port(56300, 56400)), verbosity=VERBOSE)
    assert proc.returncode != 0
    assert "Could not read the connection facts from PostgreSQL" in proc.stdout
    assert "Connection refused" in proc.stdout or "connection failed" in proc.stdout
    assert_no_password(proc.stdout, pg.admin_password)


def test_preflight_wrong_password(pg, run_playbook):
    wrong = "Wr0ng-" + pg.admin_password[::-1]
    proc = run_playbook("preflight_budget.yml", extra_vars=login_vars(pg, password=wrong), verbosity=VERBOSE)
    assert proc.returncode != 0
    assert "password authentication failed" in proc.stdout
    assert_no_password(proc.stdout, wrong)
    assert_no_password(proc.stdout, pg.admin_password)


def test_module_masks_password_without_task_no_log(pg, run_playbook):
    env = {"PGHOST": "127.0.0.1", "PGPORT": str(pg.port), "PGUSER": pg.admin_user,
           "PGPASSWORD": pg.admin_password}
    proc = run_playbook("capacity_nolog.yml", verbosity=VERBOSE, env=env, extra_vars={
        "pg": {"host": "127.0.0.1", "port": pg.port, "user": pg.admin_user, "password": pg.admin_password}})
    assert proc.returncode == 0, proc.stdout[-3000:]
    max_connections = pg.query("SHOW max_connections")[0][0]
    assert "option: max_connections=%s; env: max_connections=%s" % (max_connections, max_connections) in proc.stdout
    # both module invocations show the option as masked
    assert proc.stdout.count("login_password: VALUE_SPECIFIED_IN_NO_LOG_PARAMETER") == 2
    assert_no_password(proc.stdout, pg.admin_password)


def test_preflight_budget_uses_the_hpa_maximum(pg, run_playbook):
    max_connections = int(pg.query("SHOW max_connections")[0][0])
    # an HPA whose maximum cannot fit: its pods alone exceed max_connections
    hpa_max = max_connections // 15 + 1
    proc = run_playbook("preflight_budget.yml", verbosity=VERBOSE, extra_vars=dict(
        login_vars(pg), statewave_replicas=1, statewave_autoscaling_enabled=True,
        statewave_autoscaling_min_replicas=1, statewave_autoscaling_max_replicas=hpa_max))
    assert proc.returncode != 0
    assert "the plan (HPA max %d)" % hpa_max in proc.stdout
    assert "budgeted for the HPA maximum (%d)" % hpa_max in proc.stdout
    assert_no_password(proc.stdout, pg.admin_password)


def test_preflight_rejects_inconsistent_hpa_bounds_before_connecting(pg, run_playbook):
    proc = run_playbook("preflight_budget.yml", verbosity=VERBOSE, extra_vars=dict(
        login_vars(pg), statewave_autoscaling_enabled=True, statewave_autoscaling_min_replicas=4,
        statewave_autoscaling_max_replicas=2))
    assert proc.returncode != 0
    assert ("statewave_autoscaling_max_replicas (preflight_budget_autoscaling_max_replicas): is 2, below the HPA "
            "minimum 4; set the maximum to at least the minimum") in " ".join(proc.stdout.split())
    assert "Read the PostgreSQL connection facts" not in proc.stdout
    assert_no_password(proc.stdout, pg.admin_password)


def test_preflight_rejects_a_fail_on_above_one_naming_the_variable(pg, run_playbook):
    proc = run_playbook("preflight_budget.yml", extra_vars=dict(login_vars(pg), preflight_budget_fail_on=1.5))
    assert proc.returncode != 0
    assert ("Invalid connection budget input, nothing was checked or changed: preflight_budget_fail_on: must be "
            "greater than 0 and at most 1 (100%), got 1.5.") in " ".join(proc.stdout.split())
    assert "Read the PostgreSQL connection facts" not in proc.stdout


def test_distributed_rate_limiter_adds_three_per_pod(pg, run_playbook):
    proc = run_playbook("preflight_budget.yml", verbosity=VERBOSE, extra_vars=dict(
        login_vars(pg), statewave_replicas=1, statewave_rate_limit_rpm=600,
        statewave_rate_limit_strategy="distributed"))
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "2 pods (1 replica + 1 surge) x 18" in proc.stdout
    assert_no_password(proc.stdout, pg.admin_password)
