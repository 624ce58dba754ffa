# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PyStator's pods in the connection budget: the per-pod figures read in the pystator 0.0.47
package (module docstring of connection_budget.py names the file and function of each), alone on
a server and together with Statewave's pods; Statewave's own figures do not move."""

import pytest

from ansible_collections.statewave.kubernetes.plugins.module_utils import connection_budget as cb

SERVER = {"max_connections": 300, "superuser_reserved_connections": 3, "reserved_connections": 0}


def api(**kw):
    return dict({"name": "pystator-api", "profile": "pystator_api", "replicas": 1, "migration_job": True,
                 "replicas_variable": "pystator_api_replicas"}, **kw)


def worker(**kw):
    return dict({"name": "pystator-worker", "profile": "pystator_worker", "replicas": 1,
                 "replicas_variable": "pystator_worker_replicas"}, **kw)


def test_the_figures_read_in_the_package():
    # pystator/db/base.py get_engine(): no pool arguments, so SQLAlchemy's QueuePool 5 + 10 per engine.
    assert cb.SQLALCHEMY_ENGINE_CONNECTIONS == 15
    # worker/runner.py Worker.start(): state store, driver, driver's machine store, trigger and
    # apply-data event sources; the DLQ store (dlq/database_store.py) while DLQ_ENABLED (default).
    assert cb.PYSTATOR_WORKER_ENGINES == 5 and cb.PYSTATOR_WORKER_DLQ_ENGINES == 1
    assert cb.pystator_worker_connections() == 90
    assert cb.pystator_worker_connections(dlq_enabled=False) == 75
    assert cb.pystator_worker_connections(notify_listener=True) == 91
    # db/cli.py cmd_upgrade: one connection at a time.
    assert cb.PYSTATOR_MIGRATION_JOB_CONNECTIONS == 1
    # The API's engines are per request (api/dependencies/database.py get_db_session): a figure, not a bound.
    assert cb.PYSTATOR_API_CONNECTIONS_PER_POD == 20


def test_pystator_alone_one_api_and_one_worker_with_default_surge():
    result = cb.evaluate({"primary_enabled": False, "additional_pods": [api(), worker()]}, SERVER)
    demand = result["breakdown"]
    # (1 + 1 surge) x 20 + (1 + 1 surge) x 90 + 1 migration Job = 221; headroom 15 for 2 replicas.
    assert [(g["name"], g["pods_at_peak"], g["connections_per_pod"], g["connections"]) for g in demand["groups"]] == [
        ("pystator-api", 2, 20, 40), ("pystator-worker", 2, 90, 180)]
    assert demand["app_connections"] == 221
    assert (demand["headroom"], demand["peak_connections"]) == (15, 236)
    assert result["verdict"] == "warn"      # the pods alone may open 220 of 300 (> 70 %)
    assert result["msg"].startswith("WARN: the plan (pystator-api 1 replica, pystator-worker 1 replica) needs 236 connections "
                                    "at peak (pystator-api: 2 pods (1 replica + 1 surge) x 20 + pystator-worker: 2 pods "
                                    "(1 replica + 1 surge) x 90 + 1 migration Job + 0 other consumers + 15 headroom (auto) = 236)")
    assert result["largest_fitting_per_group"] == {"pystator-api": 3, "pystator-worker": 1}
    assert result["msg"].endswith("largest replica count that fits: pystator-api 3, pystator-worker 1")


def test_a_server_of_the_default_100_connections_does_not_fit_one_worker_and_says_what_fits():
    result = cb.evaluate({"primary_enabled": False, "additional_pods": [api(), worker()]},
                         {"max_connections": 100, "superuser_reserved_connections": 3})
    assert result["verdict"] == "fail"
    assert "pystator-worker: at most 0 replicas fit with the other pods unchanged: lower pystator_worker_replicas, " \
           "or raise the limit" in result["advice"]


def test_statewave_and_pystator_share_one_server():
    shared = cb.evaluate({"replicas": 1, "additional_pods": [api(), worker()]}, SERVER)
    demand = shared["breakdown"]
    # Statewave 2 x 15 + its Job 1, PyStator 40 + 180 + its Job 1; headroom for 3 replicas in all.
    assert demand["app_connections"] == 30 + 1 + 40 + 180 + 1
    assert demand["role_connections"] == 31           # Statewave's role and database limits see Statewave's pods
    assert demand["headroom"] == 15
    assert "statewave: 2 pods (1 replica + 1 surge) x 15 + pystator-api" in demand["formula"]
    assert "+ 2 migration Jobs +" in demand["formula"]
    alone = cb.evaluate({"replicas": 1}, SERVER)
    assert shared["peak_connections"] - alone["peak_connections"] == 221 + 15 - 10
    assert shared["msg"].endswith("largest replica count that fits: statewave %d, pystator-api %d, pystator-worker %d" % (
        shared["largest_fitting_replicas"], shared["largest_fitting_per_group"]["pystator-api"],
        shared["largest_fitting_per_group"]["pystator-worker"]))


def test_statewave_figures_do_not_change_without_additional_pods():
    plain = cb.evaluate({"replicas": 5}, {"max_connections": 100})
    assert plain["peak_connections"] == 131
    assert "statewave:" not in plain["msg"]
    assert plain["largest_fitting_per_group"] == {}


def test_hpa_maximum_and_a_pod_count_surge_of_a_group():
    result = cb.evaluate({"primary_enabled": False, "additional_pods": [
        api(autoscaling_enabled=True, autoscaling_min_replicas=2, autoscaling_max_replicas=4, max_surge=1),
        worker(replicas=2, max_surge=0, dlq_enabled=False)]}, {"max_connections": 1000})
    groups = result["breakdown"]["groups"]
    assert (groups[0]["replicas"], groups[0]["pods_at_peak"]) == (4, 5)
    assert (groups[1]["pods_at_peak"], groups[1]["connections_per_pod"]) == (2, 75)
    assert result["breakdown"]["app_connections"] == 5 * 20 + 2 * 75 + 1


def test_an_operator_figure_for_the_api():
    result = cb.evaluate({"primary_enabled": False, "additional_pods": [api(connections_per_pod=45)]}, SERVER)
    assert result["breakdown"]["groups"][0]["connections_per_pod"] == 45
    assert result["breakdown"]["groups"][0]["per_pod_source"] == "set"


def test_role_limit_applies_to_pystator_alone():
    facts = dict(SERVER, role="pystator", role_connection_limit=100)
    result = cb.evaluate({"primary_enabled": False, "additional_pods": [api(), worker()]}, facts)
    role = [c for c in result["limits"] if c["name"] == "role"][0]
    assert (role["needed"], role["fits"]) == (221, False)


@pytest.mark.parametrize("plan, param", [
    ({"primary_enabled": False}, "primary_enabled"),
    ({"additional_pods": [{"profile": "pystator_api"}]}, "additional_pods[0].name"),
    ({"additional_pods": [api(profile="redis")]}, "additional_pods.pystator-api.profile"),
    ({"additional_pods": [api(replicas=-1)]}, "additional_pods.pystator-api.replicas"),
    ({"additional_pods": [api(max_surge="150%")]}, "additional_pods.pystator-api.max_surge"),
    ({"additional_pods": [api(colour="red")]}, "additional_pods.pystator-api.colour"),
    ({"additional_pods": [{"name": "x", "profile": "custom"}]}, "additional_pods.x.connections_per_pod"),
    ({"additional_pods": [api(), api()]}, "additional_pods"),
    ({"additional_pods": [worker(autoscaling_enabled=True, autoscaling_min_replicas=3, autoscaling_max_replicas=2)]},
     "additional_pods.pystator-worker.autoscaling_max_replicas"),
])
def test_bad_group_input_names_the_parameter(plan, param):
    problem = cb.input_error(plan)
    assert problem is not None and problem["param"] == param, problem
