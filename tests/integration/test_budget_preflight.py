# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The preflight gate on the local inventory: with more replicas than the database allows it
fails before any Kubernetes object is created or changed; when the plan fits it passes.

Needs the local cluster ($SWK_STATE_DIR/kubeconfig) and the shared PostgreSQL servers
(tests/postgres/pgctl.py start), which the local inventory logs in to.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import time
import uuid

import psycopg
import pytest

from pathlib import Path

from helpers import folded

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def names(kubectl, kubeconfig):
    """A namespace and release name of our own; whatever the test created is removed after."""
    suffix = uuid.uuid4().hex[:6]
    ns, release = "swk-budget-%s" % suffix, "swb-%s" % suffix
    yield ns, release
    if release in helm_releases(kubeconfig, release):
        subprocess.run([shutil.which("helm"), "--kubeconfig", str(kubeconfig), "-n", ns, "uninstall", release,
                        "--wait"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300, check=False)
    kubectl("delete", "namespace", ns, "--ignore-not-found", "--wait=false", check=False)


def helm_releases(kubeconfig, release):
    """{name: release} for Helm releases called ``release`` in any namespace, in any state."""
    helm = shutil.which("helm")
    if not helm:
        pytest.fail("helm is not on PATH (source hack/env.sh)")
    proc = subprocess.run([helm, "--kubeconfig", str(kubeconfig), "list", "-A", "-a", "-o", "json"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return {r["name"]: r for r in json.loads(proc.stdout or "[]") if r["name"] == release}


def namespace_exists(kubectl, ns):
    return kubectl("get", "namespace", ns, check=False).returncode == 0


def labelled_objects(kubectl, release):
    proc = kubectl("get", "all,configmaps,secrets,serviceaccounts,ingresses", "-A",
                   "-l", "app.kubernetes.io/instance=%s" % release, "-o", "name")
    return sorted(proc.stdout.split())


def db_limits(local_postgres):
    info = local_postgres["pgvector"]
    with psycopg.connect(host=info["host"], port=info["port"], user=info["admin_user"],
                         password=info["admin_password"], dbname="postgres") as conn:
        row = conn.execute(
            "SELECT current_setting('max_connections')::int, current_setting('superuser_reserved_connections')::int, "
            "coalesce(current_setting('reserved_connections', true), '0')::int, "
            "(SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' "
            " AND pid <> pg_backend_pid() AND usename IS DISTINCT FROM 'statewave')").fetchone()
    return {"max": row[0], "usable": row[0] - row[1] - row[2], "others": row[3]}


def never_fitting_replicas(limits):
    """The smallest replica count whose pods alone exceed the usable connections (no headroom needed)."""
    replicas = 1
    while (replicas + math.ceil(replicas / 4)) * 15 + 1 <= limits["usable"]:
        replicas += 1
    return replicas


def fitting_replicas(limits, replicas=1):
    """``replicas``, after checking that the shared server has room for them now."""
    pods = replicas + math.ceil(replicas / 4)
    need = pods * 15 + 1 + (10 if replicas == 1 else 15 if replicas <= 3 else 25)
    if need > limits["usable"] - limits["others"]:
        pytest.fail("the shared pgvector server has %d connections held by others; %d replica(s) (%d) no longer fit"
                    % (limits["others"], replicas, need))
    return replicas


def gate_vars(ns, release, replicas):
    return {"statewave_namespace": ns, "statewave_release_name": release, "statewave_replicas": replicas,
            "marker_name": "preflight-marker"}


def test_preflight_fails_before_any_object_is_created(local_postgres, kubectl, kubeconfig, run_playbook, names):
    ns, release = names
    limits = db_limits(local_postgres)
    replicas = never_fitting_replicas(limits)
    assert not namespace_exists(kubectl, ns)
    before = labelled_objects(kubectl, release)

    proc = run_playbook("preflight_gate.yml", extra_vars=gate_vars(ns, release, replicas))

    assert proc.returncode != 0, proc.stdout[-3000:]
    assert "Connection budget FAIL - nothing was changed" in proc.stdout
    assert "the plan (%d replicas)" % replicas in proc.stdout
    assert "Create the namespace" not in proc.stdout  # the changing play never started a task
    assert not namespace_exists(kubectl, ns)
    assert labelled_objects(kubectl, release) == before == []
    assert not helm_releases(kubeconfig, release)


def test_preflight_passes_when_it_fits_and_the_next_play_runs(local_postgres, kubectl, run_playbook, names):
    # The positive control: the same playbook with a plan that fits reaches the changing play,
    # so the check above would have seen a change had preflight let it through.
    ns, release = names
    replicas = fitting_replicas(db_limits(local_postgres))
    proc = run_playbook("preflight_gate.yml", extra_vars=gate_vars(ns, release, replicas))
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "OK: the plan (1 replica)" in proc.stdout or "WARN: the plan (1 replica)" in proc.stdout
    assert "helm v" in proc.stdout and "Kubernetes " in proc.stdout  # tool checks ran too
    assert namespace_exists(kubectl, ns)
    assert labelled_objects(kubectl, release) == ["configmap/preflight-marker"]


def test_site_yml_stops_at_preflight(local_postgres, kubectl, kubeconfig, run_playbook, names):
    site = (ROOT / "playbooks" / "site.yml").read_text()
    assert "statewave.kubernetes.preflight" in site, "playbooks/site.yml must run the preflight role"
    ns, release = names
    replicas = never_fitting_replicas(db_limits(local_postgres))
    proc = run_playbook(ROOT / "playbooks" / "site.yml", extra_vars=gate_vars(ns, release, replicas))
    assert proc.returncode != 0
    assert "Connection budget FAIL - nothing was changed" in proc.stdout
    # In managed mode the pgvector role would change the database (role, database, extension). The
    # first play only reads (every role's input checks); after it, preflight stops the run.
    deploy = proc.stdout.split("PLAY [Deploy and verify Statewave and PyStator]", 1)
    assert len(deploy) == 2, proc.stdout[-3000:]
    assert "statewave.kubernetes.pgvector :" not in deploy[1]
    assert "statewave.kubernetes.statewave :" not in deploy[1]
    assert not namespace_exists(kubectl, ns)
    assert labelled_objects(kubectl, release) == []
    assert not helm_releases(kubeconfig, release)


# ------------------------------------------------------------------------------------------------
# Bad input: one error naming the inventory variable, before any connection, nothing changed
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad,text", [
    ({"statewave_replicas": 5000},
     "statewave_replicas (preflight_budget_replicas): must be at most 1000, got 5000; plan 1 to 1000 replicas."),
    ({"preflight_budget_headroom": -5},
     "preflight_budget_headroom: must be at least 0, got -5; upstream uses 10 to 25."),
])
def test_invalid_input_names_the_inventory_variable(local_postgres, kubectl, run_playbook, names, bad, text):
    ns, release = names
    proc = run_playbook("preflight_gate.yml", extra_vars=dict(gate_vars(ns, release, 1), **bad))
    assert proc.returncode != 0
    out = folded(proc)
    assert "Invalid connection budget input, nothing was checked or changed: " + text in out
    assert "Fix it in the inventory" in out
    assert "Read the PostgreSQL connection facts" not in proc.stdout  # refused before connecting
    assert "Create the namespace" not in proc.stdout
    assert not namespace_exists(kubectl, ns)
    assert labelled_objects(kubectl, release) == []


# ------------------------------------------------------------------------------------------------
# cnpg mode, first deploy: the Cluster does not exist yet, so the budget is made against the plan
# ------------------------------------------------------------------------------------------------
CLUSTER_CRD = ROOT / "tests" / "fixtures" / "crds" / "cnpg" / "postgresql.cnpg.io_clusters.yaml"


def cnpg_vars(ns, release, replicas, **extra):
    """cnpg mode with a database login nobody answers: the planned path must not need it."""
    import pglocal

    values = dict(gate_vars(ns, release, replicas), pgvector_mode="cnpg", pgvector_namespace=ns + "-db",
                  pgvector_cnpg_max_connections=60, preflight_db_login_port=pglocal.free_port(56300, 56400))
    values.update(extra)
    return values


def test_cnpg_first_deploy_budgets_the_planned_server(kubectl, run_playbook, names):
    ns, release = names
    # 60 - 3 superuser slots = 57 usable: 2 replicas (3 pods x 15 + 1 + 15 = 61) do not fit ...
    refused = run_playbook("preflight_gate.yml", extra_vars=cnpg_vars(ns, release, 2))
    assert refused.returncode != 0
    out = folded(refused)
    assert ("Planned server (nothing to connect to yet): CloudNativePG Cluster %s-db/statewave-db, not created yet, "
            "with pgvector_cnpg_max_connections 60" % ns) in out
    assert "binding limit server: 61 of 57 usable (107%) on the planned server" in out
    assert "Connection budget FAIL - nothing was changed" in out
    assert "Could not read the connection facts" not in out
    assert not namespace_exists(kubectl, ns)

    # ... and through the planned Pooler (3 instances x 5 pooled connections, from the pgvector
    # role's variables) they do, and the play after preflight runs.
    passed = run_playbook("preflight_gate.yml", extra_vars=cnpg_vars(
        ns, release, 2, pgvector_cnpg_pooler_enabled=True, pgvector_cnpg_pooler_instances=3,
        pgvector_cnpg_pooler_default_pool_size=5, pgvector_cnpg_pooler_image="ghcr.io/cloudnative-pg/pgbouncer:1.23.1"))
    assert passed.returncode == 0, passed.stdout[-4000:]
    out = folded(passed)
    assert ("PgBouncer: 3 instance(s), pool_mode transaction, default_pool_size 5, max_client_conn 1000, "
            "version 1.23.1 (from the pgvector_cnpg_pooler_* variables)") in out
    assert ("OK: the plan (2 replicas) needs 30 connections at peak (15 PgBouncer server connections (3 instance(s)) "
            "+ 0 migration Job (through PgBouncer) + 0 other consumers + 15 headroom (auto) = 30)") in out
    assert namespace_exists(kubectl, ns)


def test_cnpg_with_an_existing_cluster_reads_the_real_server(kubectl, run_playbook, names, tmp_path):
    # The control: once the Cluster exists, preflight asks its database and does not guess.
    # (Only the Cluster CRD, the same file the pgvector tests apply; no operator acts on it here.)
    ns, release = names
    kubectl("apply", "-f", str(CLUSTER_CRD))
    kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd/clusters.postgresql.cnpg.io")
    kubectl("create", "namespace", ns + "-db")
    try:
        manifest = tmp_path / "cluster.json"
        manifest.write_text(json.dumps({"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster",
                                        "metadata": {"name": "statewave-db", "namespace": ns + "-db"},
                                        "spec": {"instances": 1, "storage": {"size": "1Gi"}}}))
        kubectl("apply", "-f", str(manifest))
        refused = run_playbook("preflight_gate.yml", extra_vars=cnpg_vars(ns, release, 1))
        assert refused.returncode != 0
        out = folded(refused)
        assert "Could not read the connection facts from PostgreSQL" in out
        assert "Planned server" not in out
        assert not namespace_exists(kubectl, ns)
    finally:
        kubectl("delete", "namespace", ns + "-db", "--ignore-not-found", "--wait=false", check=False)


def test_multicluster_inventory_budgets_each_region_from_its_pooler(kubeconfig, run_playbook):
    # The example inventory sets no PgBouncer numbers for the budget, only the pooler's (us-1 has
    # three instances, eu-1 the group's two); on a first run there is no Cluster yet.
    suffix = uuid.uuid4().hex[:6]
    proc = run_playbook("preflight.yml", inventory=ROOT / "inventories" / "multicluster", extra_vars={
        "statewave_kubeconfig": str(kubeconfig), "statewave_kube_context": "",
        "vault_pgvector_app_password": "unused-" + suffix, "pgvector_namespace": "swk-mc-" + suffix})
    assert proc.returncode == 0, proc.stdout[-4000:]
    out = folded(proc)
    for instances, pool, hpa_max in ((2, 80, 10), (3, 120, 16)):
        assert ("PgBouncer: %d instance(s), pool_mode transaction, default_pool_size 40, max_client_conn 1000, "
                "version 1.25.1 (from the pgvector_cnpg_pooler_* variables, with preflight_budget_pgbouncer over them)"
                % instances) in out
        assert "OK: the plan (HPA max %d) needs" % hpa_max in out
        assert "(%d PgBouncer server connections (%d instance(s)) + 1 migration Job" % (pool, instances) in out
    assert out.count("Planned server (nothing to connect to yet): CloudNativePG Cluster swk-mc-%s/statewave-db" % suffix) == 2


# ------------------------------------------------------------------------------------------------
# playbooks/scale.yml
# ------------------------------------------------------------------------------------------------
def namespace_state(kubectl, ns):
    """What a change would show: objects, their spec generations / resourceVersions, no status."""
    state = {}
    kinds = "deployments,replicasets,services,secrets,configmaps,serviceaccounts,horizontalpodautoscalers,jobs"
    items = json.loads(kubectl("-n", ns, "get", kinds, "-o", "json").stdout)["items"]
    for obj in items:
        meta = obj["metadata"]
        key = "%s/%s" % (obj["kind"], meta["name"])
        if obj["kind"] in ("Deployment", "ReplicaSet", "HorizontalPodAutoscaler", "Job"):
            state[key] = (meta.get("generation"), json.dumps(obj.get("spec"), sort_keys=True))
        else:
            state[key] = meta["resourceVersion"]
    return state


def deployment_replicas(kubectl, ns, release):
    items = json.loads(kubectl("-n", ns, "get", "deployments", "-l", "app.kubernetes.io/instance=%s" % release,
                               "-o", "json").stdout)["items"]
    assert len(items) == 1
    return items[0]["spec"]["replicas"]


def wait_settled(kubectl, ns, release, bound=120):
    """Until the Deployment has rolled out and no migration Job pod is left."""
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        dep = json.loads(kubectl("-n", ns, "get", "deployments", "-l", "app.kubernetes.io/instance=%s" % release,
                                 "-o", "json").stdout)["items"]
        jobs_pods = kubectl("-n", ns, "get", "pods", "-l", "app.kubernetes.io/component=migrate", "-o", "name").stdout
        if dep and dep[0].get("status", {}).get("observedGeneration") == dep[0]["metadata"]["generation"] \
                and dep[0]["status"].get("readyReplicas") == dep[0]["spec"]["replicas"] and not jobs_pods.strip():
            return
        time.sleep(1)
    pytest.fail("release %s in %s did not settle within %ds" % (release, ns, bound))


def test_scale_rechecks_the_budget_before_changing_the_release(local_postgres, kubectl, kubeconfig, run_playbook,
                                                               names):
    ns, release = names
    limits = db_limits(local_postgres)
    scale_vars = {"statewave_namespace": ns, "statewave_release_name": release}
    prepared = run_playbook("pgvector_local.yml", extra_vars=scale_vars)
    if prepared.returncode != 0:
        pytest.fail("pgvector_local.yml (database and DSN Secret) failed:\n" + prepared.stdout[-3000:])

    fits = run_playbook(ROOT / "playbooks" / "scale.yml",
                        extra_vars=dict(scale_vars, statewave_replicas=fitting_replicas(limits, 2)))
    assert fits.returncode == 0, fits.stdout[-4000:]
    assert "Apply the new scale to the release" in fits.stdout
    wait_settled(kubectl, ns, release)
    assert deployment_replicas(kubectl, ns, release) == 2
    revision = helm_releases(kubeconfig, release)[release]["revision"]
    before = namespace_state(kubectl, ns)

    too_many = never_fitting_replicas(limits)
    refused = run_playbook(ROOT / "playbooks" / "scale.yml", extra_vars=dict(scale_vars, statewave_replicas=too_many))
    assert refused.returncode != 0
    assert "Connection budget FAIL - nothing was changed" in refused.stdout
    assert "statewave.kubernetes.statewave :" not in refused.stdout  # the release role never started
    assert helm_releases(kubeconfig, release)[release]["revision"] == revision
    assert deployment_replicas(kubectl, ns, release) == 2
    assert namespace_state(kubectl, ns) == before

    # HPA bounds whose maximum does not fit: refused the same way, and no HPA appears.
    refused_hpa = run_playbook(ROOT / "playbooks" / "scale.yml", extra_vars=dict(
        scale_vars, statewave_autoscaling_enabled=True, statewave_autoscaling_min_replicas=2,
        statewave_autoscaling_max_replicas=too_many))
    assert refused_hpa.returncode != 0
    out = folded(refused_hpa)
    assert "HPA 2-%d replicas for release %s" % (too_many, release) in out
    assert "Connection budget FAIL - nothing was changed" in out
    assert "the plan (HPA max %d)" % too_many in out
    assert "lower statewave_autoscaling_max_replicas" in out
    assert "statewave.kubernetes.statewave :" not in refused_hpa.stdout
    assert helm_releases(kubeconfig, release)[release]["revision"] == revision
    assert deployment_replicas(kubectl, ns, release) == 2
    assert not [k for k in namespace_state(kubectl, ns) if k.startswith("HorizontalPodAutoscaler/")]
    assert namespace_state(kubectl, ns) == before
