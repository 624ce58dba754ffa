# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The bad inputs of every role, shared by test_inputs_first_deploy.py and test_inputs_existing.py:
site.yml with the local inventory (kwok) and Statewave, PyStator and Heddle enabled; each case must
stop in the first play (the preflight role's entry point validate) with one message that names the
variable the operator set, and change nothing: ``nothing_exists`` on a first deploy, ``snapshot``
compared before and after on an existing deployment.

Heddle cannot be deployed on kwok (its Valkey and NATS claims are never bound), so the existing
deployment is Statewave and PyStator; Heddle's bad inputs run beside it and must leave it as it was.
"""

from __future__ import annotations

import json
import re
import subprocess

from helpers import folded, recap

PROCESSOR = {"worker_kind": "processor", "processing_backend": "heddle.contrib.subprocess.SubprocessBackend",
             "backend_config": {"command": ["tr", "a-z", "A-Z"], "io_mode": "stdin_stdout"}}
HEADER = "Input check, nothing was changed. Fix these and run again:"
INGRESS_ON = {"ingress_enabled": True, "ingress_host": "statewave.example.com"}
# Namespaced kinds a run of site.yml may create or change.
KINDS = ("deployments,statefulsets,services,configmaps,secrets,jobs,serviceaccounts,roles,rolebindings,"
         "ingresses,poddisruptionbudgets,horizontalpodautoscalers,persistentvolumeclaims")


def base_vars(suffix, heddle=True):
    """New namespaces and database names (a first deploy), every system enabled, ports of their own."""
    extra = {
        "statewave_namespace": "swk-ia-" + suffix, "pgvector_app_database": "swk_ia_" + suffix,
        "preflight_db_name": "swk_ia_" + suffix,
        "pystator_enabled": True, "pystator_namespace": "swk-ip-" + suffix,
        "pystator_database_name": "swk_ip_" + suffix, "pystator_database_user": "swk_ip_" + suffix,
        "verify_port_forward_local_port": 18421, "pystator_verify_api_local_port": 18422,
        "pystator_verify_worker_local_port": 18423,
        "heddle_enabled": heddle,
    }
    if heddle:
        extra.update({"heddle_namespace": "swk-ih-" + suffix, "heddle_image_repository": "registry.example.com/ai/heddle",
                      "heddle_workers": [{"name": "upper", "config": dict(PROCESSOR)}]})
    return extra


def case(overrides, expected, absent=(), id=None):
    """One bad input: extra vars, the parts the message must have (the variable first), and names it must not use."""
    return {"overrides": overrides, "expected": expected, "absent": list(absent), "id": id or next(iter(overrides))}


# At least 25, across every role site.yml runs. The first ones are those the README's promise broke on
# (they changed things before failing when the checks lived in later roles).
BAD = [
    case({"statewave_embedding_dimensions": 768}, ["statewave_embedding_dimensions is 768", "fixed at 1536"]),
    case({"statewave_pdb_enabled": True}, ["statewave_pdb_enabled is true with 1 replica(s)"]),
    case({"statewave_replicas": 2, "statewave_pdb_min_available": 1, "statewave_pdb_max_unavailable": 1},
         ["statewave_pdb_min_available (1) and statewave_pdb_max_unavailable (1) are both set"], id="pdb_both_bounds"),
    case(dict(INGRESS_ON, ingress_controller="nginx-plus"),
         ["[ingress] ingress_controller: 'nginx-plus' is not a known controller"], id="ingress_controller"),
    case(dict(INGRESS_ON, ingress_controller="ingress-nginx", ingress_timeout=30),
         ["[ingress] ingress_timeout: 30 s is below the 60 s minimum"], id="ingress_timeout"),
    case({"statewave_image_tag": "1.5 beta"}, ['statewave_image_tag="1.5 beta" is not an image tag']),
    case({"statewave_migration_deadline_seconds": -60},
         ["statewave_migration_deadline_seconds=-60 must be a whole number of seconds from 1 to 86400"]),
    case({"statewave_replicas": "two"}, ["statewave_replicas", "expected a whole number, got 'two'"]),
    case({"statewave_namespace": "StateWave"}, ['statewave_namespace="StateWave" is not a namespace name'],
         absent=["pgvector_namespace", "preflight_namespace", "ingress_namespace"]),
    case({"statewave_image_digest": "sha256:1234"}, ['statewave_image_digest="sha256:1234" is not an image digest']),
    case({"statewave_image_repository": "Statewave/API:1.5.0"},
         ['statewave_image_repository="Statewave/API:1.5.0" is not an image repository']),
    # (the budget's check, which reads the same variable, speaks first)
    case({"statewave_rolling_max_surge": "lots"}, ["statewave_rolling_max_surge", "expected a whole number, got 'lots'"],
         absent=["preflight_budget_max_surge:"]),
    case({"statewave_helm_history_max": 1}, ["statewave_helm_history_max=1 must be at least 2"]),
    case({"statewave_llm_api_base": "api.openai.com"}, ['statewave_llm_api_base="api.openai.com" must be empty']),
    case({"statewave_release_name": "Statewave_Release"}, ["statewave_release_name", "'Statewave_Release' is not a valid Kubernetes"],
         absent=["ingress_release_name"]),
    case({"statewave_chart_values": {"database": {"url": "postgresql+asyncpg://u:p@h/d"}}},
         ["statewave_chart_values carries a credential"], id="chart_values_credential"),
    case({"statewave_extra_env": [{"name": "STATEWAVE_LLM_MODEL", "value": "x"}]},
         ["statewave_extra_env: STATEWAVE_LLM_MODEL is not a setting Statewave knows"]),
    case({"statewave_autoscaling_enabled": True, "statewave_autoscaling_min_replicas": 3, "statewave_autoscaling_max_replicas": 2},
         ["statewave_autoscaling_min_replicas=3 and statewave_autoscaling_max_replicas=2 must be whole numbers with 1 <= min <= max"],
         id="autoscaling_bounds"),
    case({"statewave_rate_limit_strategy": "redis"}, ['statewave_rate_limit_strategy="redis" must be one of'],
         absent=["preflight_budget_rate_limit_strategy"]),
    case({"pgvector_app_database": "postgres"}, ['pgvector_app_database="postgres" must be 1-63 characters']),
    case({"pgvector_dsn_query": {"sslmode": "require"}}, ["libpq-only parameters sslmode"]),
    case({"pgvector_dsn_secret_name": "Bad_Secret"}, ['pgvector_dsn_secret_name="Bad_Secret" is not a Secret name']),
    case({"pystator_api_port": 80}, ["[pystator] pystator_api_port=80 must be 1024 to 65535"]),
    case({"pystator_image_tag": "0.0.47:latest"}, ["pystator_image_tag=", "is not an image tag"]),
    case({"pystator_worker_concurrency": 0}, ["pystator_worker_concurrency=0 must be 1 to 100"]),
    case({"pystator_migration_deadline_seconds": 5}, ["pystator_migration_deadline_seconds=5 must be 30 to 86400"]),
    case({"pystator_database_name": "swk_ia_same", "pgvector_app_database": "swk_ia_same"},
         ["are Statewave's too"], id="pystator_shares_statewave_database"),
    case({"heddle_valkey_storage_size": "ten gigs"}, ["[heddle] heddle_valkey_storage_size: 'ten gigs' is not a Kubernetes storage quantity"]),
    case({"heddle_workers": [{"name": "upper"}]}, ["heddle_workers[0].config: None is missing"]),
    case({"heddle_nats_client_port": 70000}, ["heddle_nats_client_port: 70000 is not a whole number from 1 to 65535"]),
]
IDS = [c["id"] for c in BAD]


def problem_lines(proc):
    """The numbered lines of the input check's message."""
    return [line.strip() for line in proc.stdout.splitlines() if re.match(r"^\s+[0-9]+\. \[[a-z]+\] ", line)]


def assert_refused(proc, bad):
    """The run stopped in the input check with the case's message, naming the operator's variable."""
    assert proc.returncode != 0, proc.stdout[-3000:]
    text = folded(proc)
    assert HEADER in text, proc.stdout[-3000:]
    for part in bad["expected"]:
        assert part in text, "%r not in: %s" % (part, proc.stdout[-3000:])
    lines = problem_lines(proc)
    assert lines, proc.stdout[-3000:]
    for name in bad["absent"]:
        assert not [line for line in lines if name in line], lines
    assert "Finalization of task args" not in text
    # Stopped in the first play: nothing ran that changes anything.
    assert "PLAY [Deploy and verify Statewave and PyStator]" not in proc.stdout
    assert recap(proc)["changed"] == 0


def nothing_exists(kubectl, kubeconfig, local_postgres, extra):
    """No namespace, no Helm release, no database and no role of a first deploy that was refused."""
    import psycopg

    valid = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
    namespaces = [extra[k] for k in ("statewave_namespace", "pystator_namespace", "heddle_namespace") if k in extra]
    for ns in namespaces:
        if not valid.match(ns):
            continue
        got = kubectl("get", "namespace", ns, "--ignore-not-found", "-o", "name", check=False).stdout.strip()
        assert got == "", "namespace %s exists" % ns
    releases = subprocess.run(["helm", "list", "-A", "-o", "json", "--kubeconfig", str(kubeconfig)],
                              stdout=subprocess.PIPE, text=True, check=True).stdout
    assert not [r for r in json.loads(releases) if r["namespace"] in namespaces]
    facts = local_postgres["pgvector"]
    builtin = ("postgres", "template0", "template1")
    names = [n for n in (extra.get("pgvector_app_database"), extra.get("pystator_database_name")) if n and n not in builtin]
    with psycopg.connect(host=facts["host"], port=facts["port"], user=facts["admin_user"], password=facts["admin_password"],
                         dbname="postgres") as conn:
        dbs = conn.execute("SELECT datname FROM pg_database WHERE datname = ANY(%s)", (names,)).fetchall()
        roles = conn.execute("SELECT rolname FROM pg_roles WHERE rolname = %s", (extra.get("pystator_database_user"),)).fetchall()
    assert dbs == [], "database(s) %s exist" % dbs
    assert roles == [], "role %s exists" % extra.get("pystator_database_user")


def snapshot(kubectl, kubeconfig, local_postgres, extra):
    """What an existing deployment is made of: every object's resourceVersion in its namespaces, the Helm
    history of its releases, and its databases and roles."""
    import psycopg

    state = {}
    for key, release in (("statewave_namespace", "statewave"), ("pystator_namespace", "pystator")):
        ns = extra[key]
        ns_obj = json.loads(kubectl("get", "namespace", ns, "-o", "json").stdout)
        state["namespace/" + ns] = ns_obj["metadata"]["resourceVersion"]
        items = json.loads(kubectl("-n", ns, "get", KINDS, "-o", "json").stdout)["items"]
        for item in items:
            state["%s/%s/%s" % (ns, item["kind"], item["metadata"]["name"])] = item["metadata"]["resourceVersion"]
        history = subprocess.run(["helm", "history", release, "-n", ns, "-o", "json", "--kubeconfig", str(kubeconfig)],
                                 stdout=subprocess.PIPE, text=True, check=True).stdout
        state["helm/%s/%s" % (ns, release)] = [(r["revision"], r["status"]) for r in json.loads(history)]
    facts = local_postgres["pgvector"]
    with psycopg.connect(host=facts["host"], port=facts["port"], user=facts["admin_user"], password=facts["admin_password"],
                         dbname="postgres") as conn:
        # Only this file's names (swk_i*): other test files create and drop databases at the same time.
        state["databases"] = sorted(r[0] for r in conn.execute(
            "SELECT datname || ':' || pg_get_userbyid(datdba) FROM pg_database WHERE datname LIKE 'swk\\_i%'").fetchall())
        state["roles"] = sorted(r[0] for r in conn.execute("SELECT rolname FROM pg_roles WHERE rolname LIKE 'swk\\_i%'").fetchall())
    return state
