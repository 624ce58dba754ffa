# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""postgres_capacity_info and connection_budget through Ansible against a real PostgreSQL.

A throwaway PostgreSQL 16 + pgvector gets max_connections, superuser_reserved_connections and
reserved_connections set, an app role and database with CONNECTION LIMITs, and connections held
open by another role. The facts must match what PostgreSQL reports, and the verdict must flip
from ok to fail exactly where the documented formula (computed here independently) says.
"""

from __future__ import annotations

import json
import math
import secrets

import pytest

MAX_CONNECTIONS = 100
SUPERUSER_RESERVED = 3
RESERVED = 2
APP_ROLE = "statewave"
APP_DB = "statewave"
OTHER_ROLE = "other_app"
REPLICA_COUNTS = list(range(1, 9))


@pytest.fixture(scope="module")
def server(throwaway_postgres_module):
    pg = throwaway_postgres_module(settings={
        "max_connections": MAX_CONNECTIONS,
        "superuser_reserved_connections": SUPERUSER_RESERVED,
        "reserved_connections": RESERVED,
    }, name="budget")
    app_password = secrets.token_urlsafe(16)
    other_password = secrets.token_urlsafe(16)
    with pg.connect() as conn:
        conn.execute("CREATE ROLE %s LOGIN PASSWORD '%s'" % (APP_ROLE, app_password))
        conn.execute("CREATE ROLE %s LOGIN PASSWORD '%s'" % (OTHER_ROLE, other_password))
        conn.execute("CREATE DATABASE %s OWNER %s" % (APP_DB, APP_ROLE))
    with pg.connect(dbname=APP_DB) as conn:
        conn.execute("CREATE EXTENSION vector")
    pg.app_password = app_password  # for the unprivileged login test
    # Connections held open for the whole module: 2 by the app role (the "current deployment"),
    # 4 by another application (2 of them in the app database).
    held = []
    try:
        for dbname in (APP_DB, APP_DB):
            held.append(pg.connect(dbname=dbname, user=APP_ROLE, password=app_password))
        for dbname in (APP_DB, APP_DB, "postgres", "postgres"):
            held.append(pg.connect(dbname=dbname, user=OTHER_ROLE, password=other_password))
        yield pg
    finally:
        for conn in held:
            conn.close()


def set_limits(pg, role_limit, db_limit):
    with pg.connect() as conn:
        conn.execute("ALTER ROLE %s CONNECTION LIMIT %d" % (APP_ROLE, role_limit))
        conn.execute("ALTER DATABASE %s CONNECTION LIMIT %d" % (APP_DB, db_limit))


def observed(pg):
    """What PostgreSQL itself reports (queried directly, without this session)."""
    with pg.connect() as conn:
        def one(sql, *args):
            return conn.execute(sql, args or None).fetchone()[0]

        activity = conn.execute(
            "SELECT count(*) FILTER (WHERE usename = %s), count(*) FILTER (WHERE usename <> %s), "
            "count(*) FILTER (WHERE usename <> %s AND datname = %s) FROM pg_stat_activity "
            "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()",
            (APP_ROLE, APP_ROLE, APP_ROLE, APP_DB)).fetchone()
        num = int(one("SHOW server_version_num"))
        return {
            "server_version": "%d.%d" % (num // 10000, num % 10000),
            "server_version_num": num,
            "max_connections": int(one("SHOW max_connections")),
            "superuser_reserved_connections": int(one("SHOW superuser_reserved_connections")),
            "reserved_connections": int(one("SHOW reserved_connections")),
            "role_connection_limit": one("SELECT rolconnlimit FROM pg_roles WHERE rolname = %s", APP_ROLE),
            "database_connection_limit": one("SELECT datconnlimit FROM pg_database WHERE datname = %s", APP_DB),
            "connections_app_role": activity[0],
            "connections_other": activity[1],
            "connections_other_in_database": activity[2],
            "pgvector_default_version": one(
                "SELECT default_version FROM pg_available_extensions WHERE name = 'vector'"),
        }


def installed_vector(pg):
    with pg.connect(dbname=APP_DB) as conn:
        return conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()[0]


def expected_verdict(facts, replicas, threshold=0.7):
    """The documented formula, written out independently of module_utils."""
    surge = min(replicas, math.ceil(replicas * 25 / 100))
    pods = replicas + surge
    app = pods * 15 + 1
    headroom = 10 if replicas == 1 else 15 if replicas <= 3 else 25
    fits = app + headroom <= (facts["max_connections"] - facts["superuser_reserved_connections"]
                              - facts["reserved_connections"] - facts["connections_other"])
    if facts["role_connection_limit"] >= 0:
        fits = fits and app <= facts["role_connection_limit"]
    if facts["database_connection_limit"] >= 0:
        fits = fits and app <= facts["database_connection_limit"] - facts["connections_other_in_database"]
    if not fits:
        return "fail"
    return "warn" if pods * 15 >= threshold * facts["max_connections"] else "ok"


def run_budget(run_playbook, pg, tmp_path, check_mode=False):
    out = tmp_path / ("budget-%s.json" % ("check" if check_mode else "run"))
    proc = run_playbook("budget_modules.yml", extra_vars={
        "pg": {"host": "127.0.0.1", "port": pg.port, "user": pg.admin_user, "password": pg.admin_password},
        "app_role": APP_ROLE, "app_db": APP_DB, "replica_counts": REPLICA_COUNTS, "out": str(out),
        "check_mode_run": check_mode,
    })
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert pg.admin_password not in proc.stdout
    return json.loads(out.read_text())


@pytest.mark.parametrize("binding,role_limit,db_limit", [
    ("server", -1, -1),
    ("role", 50, -1),
    ("database", -1, 40),
])
def test_facts_match_postgres_and_verdict_flips_at_predicted_count(
        server, run_playbook, tmp_path, binding, role_limit, db_limit):
    set_limits(server, role_limit, db_limit)
    before = observed(server)
    result = run_budget(run_playbook, server, tmp_path)
    after = observed(server)
    assert before == after, "the server changed during the run; the comparison would be meaningless"

    capacity = result["capacity"]
    for key, value in before.items():
        assert capacity[key] == value, key
    assert capacity["role_exists"] is True and capacity["database_exists"] is True
    assert capacity["role_is_superuser"] is False
    assert capacity["pgvector_available"] is True
    assert capacity["pgvector_installed_version"] == installed_vector(server)
    assert capacity["pgvector_default_version"] in capacity["pgvector_available_versions"]
    # The held connections are what the module counts (others: 4 of another role, 2 in the app db).
    assert (capacity["connections_app_role"], capacity["connections_other"],
            capacity["connections_other_in_database"]) == (2, 4, 2)

    verdicts = [b["verdict"] for b in result["budgets"]]
    predicted = [expected_verdict(before, r) for r in REPLICA_COUNTS]
    assert verdicts == predicted
    largest = max([r for r, v in zip(REPLICA_COUNTS, predicted) if v != "fail"] or [0])
    assert 0 < largest < REPLICA_COUNTS[-1], "the scenario must flip inside the tested range"
    assert predicted[largest - 1] in ("ok", "warn") and predicted[largest] == "fail"
    for budget in result["budgets"]:
        assert budget["largest_fitting_replicas"] == largest
        assert budget["changed"] is False
    failing = result["budgets"][largest]  # replicas = largest + 1
    assert failing["binding_limit"] == binding
    assert failing["required"] > failing["usable"]


def test_check_mode_gives_the_same_facts_and_verdicts(server, run_playbook, tmp_path):
    set_limits(server, 50, -1)
    normal = run_budget(run_playbook, server, tmp_path)
    checked = run_budget(run_playbook, server, tmp_path, check_mode=True)
    keys = [k for k in normal["capacity"] if k not in ("invocation", "changed", "warnings")]
    assert {k: checked["capacity"][k] for k in keys} == {k: normal["capacity"][k] for k in keys}
    assert [b["verdict"] for b in checked["budgets"]] == [b["verdict"] for b in normal["budgets"]]


def test_capacity_info_on_postgres15_without_pgvector(throwaway_postgres, run_playbook, tmp_path):
    pg = throwaway_postgres(flavour="debian15", name="plain15")
    out = tmp_path / "plain.json"
    proc = run_playbook("budget_modules.yml", extra_vars={
        "pg": {"host": "127.0.0.1", "port": pg.port, "user": pg.admin_user, "password": pg.admin_password},
        "app_role": APP_ROLE, "app_db": APP_DB, "replica_counts": [1], "out": str(out),
    })
    assert proc.returncode == 0, proc.stdout[-4000:]
    capacity = json.loads(out.read_text())["capacity"]
    num = int(pg.query("SHOW server_version_num")[0][0])
    assert capacity["server_version_num"] == num and num // 10000 == 15
    assert capacity["reserved_connections"] is None  # the setting exists from PostgreSQL 16 on
    assert capacity["max_connections"] == int(pg.query("SHOW max_connections")[0][0])
    assert capacity["pgvector_available"] is False
    assert capacity["pgvector_default_version"] is None and capacity["pgvector_available_versions"] == []
    assert capacity["role_exists"] is False and capacity["database_exists"] is False


def test_wrong_password_fails_clearly(server, run_playbook, tmp_path):
    wrong = "wrong-" + secrets.token_urlsafe(12)
    proc = run_playbook("budget_modules.yml", extra_vars={
        "pg": {"host": "127.0.0.1", "port": server.port, "user": server.admin_user, "password": wrong},
        "app_role": APP_ROLE, "app_db": APP_DB, "replica_counts": [1], "out": str(tmp_path / "x.json"),
    })
    assert proc.returncode != 0
    assert wrong not in proc.stdout
    assert "output has been hidden" in proc.stdout  # the task is no_log; the role reports separately


def test_unprivileged_login_counts_the_other_roles_held_connections(server, run_playbook, tmp_path):
    """Logged in as the app role (no superuser, no pg_monitor), as inventories/multicluster does.

    PostgreSQL hides backend_type of the other role's sessions from it, so a filter on
    backend_type = 'client backend' alone would see none of them.
    """
    set_limits(server, -1, -1)
    with server.connect(dbname="postgres", user=APP_ROLE, password=server.app_password) as conn:
        naive = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' "
                             "AND usename <> %s AND pid <> pg_backend_pid()", (APP_ROLE,)).fetchone()[0]
    assert naive == 0, "the login is privileged after all; this test would prove nothing"

    out = tmp_path / "unprivileged.json"
    proc = run_playbook("budget_modules.yml", extra_vars={
        "pg": {"host": "127.0.0.1", "port": server.port, "user": APP_ROLE, "password": server.app_password},
        "app_role": APP_ROLE, "app_db": APP_DB, "replica_counts": [1], "out": str(out),
    })
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert server.app_password not in proc.stdout
    capacity = json.loads(out.read_text())["capacity"]
    privileged = observed(server)
    assert capacity["login_user"] == APP_ROLE and capacity["login_is_superuser"] is False
    # the 4 connections other_app holds (2 in the app database), and the app role's own 2
    assert (capacity["connections_other"], capacity["connections_other_in_database"],
            capacity["connections_app_role"]) == (privileged["connections_other"],
                                                  privileged["connections_other_in_database"],
                                                  privileged["connections_app_role"]) == (4, 2, 2)
    # the other role's sessions are hidden from this login (its own are not), and it says so
    assert capacity["connections_hidden"] == 4
    assert any("may not see the type of 4 session(s)" in w for w in capacity.get("warnings", []))
    # the server's own background processes are not counted as connections
    assert capacity["connections_total"] == 6
