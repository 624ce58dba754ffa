# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The release role's chart values against the chart contract, without a cluster.

tests/unit/playbooks/release_values.yml runs the real role code (the ingress role's pure plan
step, then the statewave role's validate.yml: input checks, values.yml.j2, the merge with
statewave_chart_values and the checks on the merged values) and writes the values per host.

* For every example inventory (local, dev, staging, prod, multicluster) each emitted key must be
  a key of the chart contract (tests/fixtures/chart-contract.yml, the copy of table 1.5), and
  real `helm template` of the contract chart with those values must render what the inventory
  asks for. That is what "works with the upstream chart unchanged" can be checked against here.
* Cases on top of the local inventory (one ansible-playbook run, one host per case) pin the
  image rendering, the PodDisruptionBudget bounds, the extraEnv merge and the refusals, each of
  which must name the variable to change.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOK = ROOT / "tests" / "unit" / "playbooks" / "release_values.yml"
CHART = ROOT / "tests" / "fixtures" / "charts" / "statewave"
CONTRACT = yaml.safe_load((ROOT / "tests" / "fixtures" / "chart-contract.yml").read_text(encoding="utf-8"))
INVENTORIES = {"local": ["local"], "dev": ["dev"], "staging": ["staging"], "prod": ["prod"], "multicluster": ["eu-1", "us-1"]}
# `helm template` checks the chart's kubeVersion against its default capabilities (v1.20.0 for a
# helm built from source): render for a version in the supported range.
KUBE_VERSION = "v1.30.0"
DIGEST = "sha256:" + "0123456789abcdef" * 4
IMAGE = "statewavedev/statewave:1.5.0"
NGINX = {"ingress_enabled": True, "ingress_controller": "ingress-nginx", "ingress_class_name": "nginx",
         "ingress_host": "statewave.test.example"}
READ_TIMEOUT = "nginx.ingress.kubernetes.io/proxy-read-timeout"


def tool(name):
    found = shutil.which(name, path=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    if not found:
        pytest.fail("%s is not on PATH: run `make setup`, then `. hack/env.sh`" % name, pytrace=False)
    return found


def ansible_env():
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def start_render(inventories, extra_vars_files=(), hosts=None):
    """Start the values playbook (json callback: the results are parsed from its output)."""
    cmd = [tool("ansible-playbook"), str(PLAYBOOK)]
    for inventory in inventories:
        cmd += ["-i", str(inventory)]
    for path in extra_vars_files:
        cmd += ["-e", "@%s" % path]
    if hosts:
        cmd += ["-e", "release_values_hosts=%s" % hosts]
    env = dict(ansible_env(), ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json")
    return subprocess.Popen(cmd, cwd=str(ROOT), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish_render(proc, hosts):
    """{host: {"values": ..., "error": ...}} from the playbook's last task."""
    output, errors = proc.communicate(timeout=600)
    assert proc.returncode == 0, (output[-4000:], errors[-2000:])
    last = json.loads(output)["plays"][0]["tasks"][-1]["hosts"]
    assert sorted(last) == sorted(hosts), errors[-2000:]
    return {host: last[host]["release_values_result"] for host in hosts}


def helm_template(values, tmp_path, name="values"):
    values_file = tmp_path / ("%s.json" % name)
    values_file.write_text(json.dumps(values), encoding="utf-8")
    proc = subprocess.run([tool("helm"), "template", "statewave", str(CHART), "--namespace", "statewave",
                           "--kube-version", KUBE_VERSION, "--values", str(values_file)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120, check=False)
    assert proc.returncode == 0, "helm template failed:\n%s" % proc.stderr
    return [d for d in yaml.safe_load_all(proc.stdout) if d]


def objects(docs, kind):
    return [d for d in docs if d["kind"] == kind]


def one(docs, kind):
    found = objects(docs, kind)
    assert len(found) == 1, "expected one %s, got %s" % (kind, [d["kind"] for d in docs])
    return found[0]


def container(docs, kind):
    return one(docs, kind)["spec"]["template"]["spec"]["containers"][0]


def env_of(docs, kind="Deployment"):
    return {e["name"]: e for e in container(docs, kind).get("env", [])}


def leaf_paths(tree, prefix=""):
    """Dotted paths of the leaves (scalars, lists, empty mappings) of a mapping."""
    out = []
    for key, value in tree.items():
        path = "%s.%s" % (prefix, key) if prefix else str(key)
        if isinstance(value, dict) and value:
            out += leaf_paths(value, path)
        else:
            out.append(path)
    return out


def contract_keys():
    """{dotted key: default} of table 1.5, plus the keys the templates read that values.yaml
    only carries as a comment (podDisruptionBudget.maxUnavailable)."""
    keys = dict(CONTRACT["values"])
    keys.update({k: None for k in CONTRACT["values_commented_only"]})
    return keys


def unknown_keys(values):
    """Emitted paths that are not chart keys. A path below a key is a chart key when that key's
    default is a mapping (a structured default such as resources, or a free-form map such as
    podAnnotations or ingress.annotations)."""
    keys = contract_keys()
    bad = []
    for path in leaf_paths(values):
        if path in keys:
            continue
        parents = [k for k in keys if path.startswith(k + ".")]
        if not any(isinstance(keys[k], dict) for k in parents):
            bad.append(path)
    return bad


# --------------------------------------------------------------------------- example inventories


@pytest.fixture(scope="module")
def inventory_values():
    """{inventory: {host: {"values": ..., "error": ...}}} for every example inventory (run in parallel)."""
    running = {}
    for inventory in INVENTORIES:
        vault = ROOT / "inventories" / inventory / "group_vars" / "all" / "vault.yml.example"
        running[inventory] = start_render([ROOT / "inventories" / inventory], [vault] if vault.is_file() else [])
    return {inv: finish_render(proc, INVENTORIES[inv]) for inv, proc in running.items()}


INVENTORY_HOSTS = [(inv, host) for inv, hosts in INVENTORIES.items() for host in hosts]


def inventory_vars(inventory, host):
    """The inventory's statewave_* settings for the host (group_vars/all, then host_vars)."""
    base = ROOT / "inventories" / inventory
    merged = {}
    for path in sorted((base / "group_vars" / "all").glob("*.yml")) + sorted((base / "host_vars").glob("%s.yml" % host)):
        merged.update(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    return merged


@pytest.mark.parametrize("inventory, host", INVENTORY_HOSTS, ids=["%s-%s" % p for p in INVENTORY_HOSTS])
def test_inventory_values_are_chart_contract_keys(inventory_values, inventory, host):
    result = inventory_values[inventory][host]
    assert result["error"] == ""
    assert result["values"], "no values rendered"
    assert unknown_keys(result["values"]) == []


@pytest.mark.parametrize("inventory, host", INVENTORY_HOSTS, ids=["%s-%s" % p for p in INVENTORY_HOSTS])
def test_inventory_values_render_with_the_contract_chart(inventory_values, inventory, host, tmp_path):
    values = inventory_values[inventory][host]["values"]
    settings = inventory_vars(inventory, host)
    docs = helm_template(values, tmp_path)

    assert container(docs, "Deployment")["image"] == IMAGE
    env = env_of(docs)
    db = env["STATEWAVE_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
    # Every example names the DSN Secret the pgvector role writes.
    assert db == {"name": "statewave-database", "key": "STATEWAVE_DATABASE_URL"}
    # Credentials only ever by Secret name: the chart's inline-credentials Secret is not rendered.
    assert not [d for d in objects(docs, "Secret") if d["metadata"]["name"].endswith("-credentials")]
    if settings.get("statewave_llm_api_key"):
        assert env["STATEWAVE_LITELLM_API_KEY"]["valueFrom"]["secretKeyRef"] == {"name": "statewave-llm", "key": "STATEWAVE_LITELLM_API_KEY"}
        assert env["STATEWAVE_API_KEY"]["valueFrom"]["secretKeyRef"] == {"name": "statewave-api-key", "key": "STATEWAVE_API_KEY"}
    else:
        assert "STATEWAVE_LITELLM_API_KEY" not in env and "STATEWAVE_API_KEY" not in env
    assert ("STATEWAVE_STRICT_SCHEMA" in env) == bool(settings.get("statewave_strict_schema"))

    # The migration Job is the chart's hook in hook mode, and off in job mode (the role runs its own).
    hook = settings.get("statewave_migration_mode", "hook") == "hook"
    assert len(objects(docs, "Job")) == (1 if hook else 0)
    if hook:
        assert one(docs, "Job")["spec"]["activeDeadlineSeconds"] == settings.get("statewave_migration_deadline_seconds", 600)

    pdbs = objects(docs, "PodDisruptionBudget")
    assert len(pdbs) == (1 if settings.get("statewave_pdb_enabled") else 0)
    for pdb in pdbs:
        assert sorted(k for k in ("minAvailable", "maxUnavailable") if k in pdb["spec"]) == ["minAvailable"]
        assert pdb["spec"]["minAvailable"] == settings["statewave_pdb_min_available"]

    hpa = settings.get("statewave_autoscaling_enabled", False)
    assert len(objects(docs, "HorizontalPodAutoscaler")) == (1 if hpa else 0)
    assert ("replicas" in one(docs, "Deployment")["spec"]) == (not hpa)

    ingresses = objects(docs, "Ingress")
    assert len(ingresses) == (1 if settings.get("ingress_enabled") else 0)
    for ingress in ingresses:
        annotations = ingress["metadata"].get("annotations") or {}
        for key, value in (settings.get("ingress_extra_annotations") or {}).items():
            assert annotations[key] == value
        assert [r["host"] for r in ingress["spec"]["rules"]] == [settings["ingress_host"]]


def test_staging_ingress_keeps_the_computed_timeouts(inventory_values, tmp_path):
    docs = helm_template(inventory_values["staging"]["staging"]["values"], tmp_path)
    annotations = one(docs, "Ingress")["metadata"]["annotations"]
    assert annotations[READ_TIMEOUT] == "120"
    assert annotations["nginx.ingress.kubernetes.io/proxy-send-timeout"] == "120"


# --------------------------------------------------------------------------- cases


BAD_CASES = {
    "digest_not_sha256": ({"statewave_image_digest": "sha256:abc"},
                          ['statewave_image_digest="sha256:abc" is not an image digest', "64 lowercase hex digits"]),
    "digest_with_at": ({"statewave_image_digest": "@" + DIGEST}, ['statewave_image_digest="@sha256:', "leading '@'"]),
    "digest_without_tag": ({"statewave_image_tag": "", "statewave_image_digest": DIGEST},
                           ["statewave_image_digest is set but statewave_image_tag is empty", "<repository>:<tag>",
                            "set statewave_image_tag"]),
    "tag_with_digest": ({"statewave_image_tag": "1.5.0@" + DIGEST}, ['statewave_image_tag="1.5.0@sha256:', "statewave_image_digest"]),
    "pdb_both_variables": ({"statewave_replicas": 2, "statewave_pdb_enabled": True, "statewave_pdb_min_available": 1,
                            "statewave_pdb_max_unavailable": 1},
                           ["statewave_pdb_min_available (1) and statewave_pdb_max_unavailable (1) are both set"]),
    "pdb_variable_max_chart_min": ({"statewave_replicas": 2, "statewave_pdb_enabled": True, "statewave_pdb_max_unavailable": 1,
                                    "statewave_chart_values": {"podDisruptionBudget": {"minAvailable": 1}}},
                                   ["minAvailable (1, from statewave_chart_values.podDisruptionBudget)",
                                    "maxUnavailable (1, from statewave_pdb_max_unavailable)"]),
    "pdb_chart_max": ({"statewave_replicas": 2, "statewave_chart_values": {"podDisruptionBudget": {"maxUnavailable": 1}}},
                      ["from statewave_pdb_min_available or its default 1", "maxUnavailable (1, from statewave_chart_values.podDisruptionBudget)"]),
    "chart_env_unknown": ({"statewave_chart_values": {"extraEnv": [{"name": "STATEWAVE_LLM_MODEL", "value": "x"}]}},
                          ["statewave_chart_values.extraEnv: STATEWAVE_LLM_MODEL is not a setting Statewave knows"]),
    "chart_env_owned": ({"statewave_chart_values": {"extraEnv": [{"name": "STATEWAVE_API_KEY", "value": "x"}]}},
                        ["statewave_chart_values.extraEnv: STATEWAVE_API_KEY is set by the chart from statewave_api_key"]),
    "extra_env_unknown": ({"statewave_extra_env": [{"name": "STATEWAVE_DATABASE_POOL_SIZE", "value": "20"}]},
                          ["statewave_extra_env: STATEWAVE_DATABASE_POOL_SIZE is not a setting"]),
    "ingress_annotation_conflict": (dict(NGINX, statewave_chart_values={"ingress": {"annotations": {READ_TIMEOUT: "30"}}}),
                                    ["statewave_chart_values sets ingress.annotations.%s (the ingress role computes \"120\")" % READ_TIMEOUT,
                                     "set ingress_timeout"]),
    "service_annotation_conflict": ({"ingress_enabled": True, "ingress_controller": "traefik", "ingress_class_name": "traefik",
                                     "ingress_host": "statewave.test.example",
                                     "statewave_chart_values": {"service": {"annotations": {
                                         "traefik.ingress.kubernetes.io/service.serverstransport": "other@kubernetescrd"}}}},
                                    ["statewave_chart_values sets service.annotations.traefik.ingress.kubernetes.io/service.serverstransport"]),
}

# Good cases share hosts where their settings do not interact (each host costs a few seconds).
GOOD_CASES = {
    "pinned": dict(NGINX, statewave_image_digest=DIGEST, statewave_replicas=2, statewave_pdb_enabled=True,
                   statewave_pdb_max_unavailable=1, statewave_strict_schema=True,
                   statewave_extra_env=[{"name": "STATEWAVE_REGION", "value": "eu-central-1"}],
                   statewave_chart_values={
                       "extraEnv": [{"name": "STATEWAVE_KIND_TTL_DAYS", "value": "{}"}, {"name": "HTTP_PROXY", "value": "http://proxy:3128"}],
                       "ingress": {"annotations": {"nginx.ingress.kubernetes.io/proxy-body-size": "10m", READ_TIMEOUT: "120"}}}),
    "pdb_max_unavailable_percent": {"statewave_replicas": 3, "statewave_pdb_enabled": True, "statewave_pdb_max_unavailable": "34%"},
    "pdb_default_min": {"statewave_replicas": 2, "statewave_pdb_enabled": True},
    "pdb_min_available": {"statewave_replicas": 3, "statewave_pdb_enabled": True, "statewave_pdb_min_available": 2},
}


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    """{case: {"values": ..., "error": ...}}: every case as a host of one run on top of inventories/local."""
    base = tmp_path_factory.mktemp("release-cases")
    hosts = {}
    for name, overrides in list(GOOD_CASES.items()) + [(n, c[0]) for n, c in BAD_CASES.items()]:
        hosts[name] = dict(overrides, ansible_connection="local", ansible_python_interpreter="{{ ansible_playbook_python }}")
    inventory = base / "cases.yml"
    inventory.write_text(yaml.safe_dump({"release_cases": {"hosts": hosts}}), encoding="utf-8")
    proc = start_render([ROOT / "inventories" / "local", inventory], hosts="release_cases")
    return finish_render(proc, list(hosts))


@pytest.mark.parametrize("name", sorted(BAD_CASES))
def test_bad_value_is_refused_naming_the_variable(cases, name):
    error = " ".join(cases[name]["error"].split())
    assert error, "expected a refusal, got values %s" % cases[name]["values"]
    for expected in BAD_CASES[name][1]:
        assert expected in error


@pytest.mark.parametrize("name", sorted(GOOD_CASES))
def test_good_case_values_are_chart_contract_keys(cases, name):
    assert cases[name]["error"] == ""
    assert unknown_keys(cases[name]["values"]) == []


def render_case(cases, name, tmp_path):
    assert cases[name]["error"] == ""
    return helm_template(cases[name]["values"], tmp_path, name)


def test_digest_renders_a_valid_reference_for_pods_and_migration_job(cases, tmp_path):
    docs = render_case(cases, "pinned", tmp_path)
    assert cases["pinned"]["values"]["image"]["tag"] == "1.5.0@" + DIGEST
    assert container(docs, "Deployment")["image"] == "%s@%s" % (IMAGE, DIGEST)
    assert container(docs, "Job")["image"] == "%s@%s" % (IMAGE, DIGEST)


@pytest.mark.parametrize("name, expected", [("pinned", {"maxUnavailable": 1}),
                                            ("pdb_max_unavailable_percent", {"maxUnavailable": "34%"}),
                                            ("pdb_default_min", {"minAvailable": 1}),
                                            ("pdb_min_available", {"minAvailable": 2})])
def test_pdb_renders_exactly_one_bound(cases, tmp_path, name, expected):
    spec = one(render_case(cases, name, tmp_path), "PodDisruptionBudget")["spec"]
    assert {k: spec[k] for k in ("minAvailable", "maxUnavailable") if k in spec} == expected


def test_chart_values_extra_env_is_appended_not_replacing(cases, tmp_path):
    names = [e["name"] for e in container(render_case(cases, "pinned", tmp_path), "Deployment")["env"]]
    tail = names[-4:]
    assert tail == ["STATEWAVE_REGION", "STATEWAVE_STRICT_SCHEMA", "STATEWAVE_KIND_TTL_DAYS", "HTTP_PROXY"]


def test_chart_values_annotations_merge_under_the_computed_ones(cases, tmp_path):
    annotations = one(render_case(cases, "pinned", tmp_path), "Ingress")["metadata"]["annotations"]
    assert annotations[READ_TIMEOUT] == "120"
    assert annotations["nginx.ingress.kubernetes.io/proxy-body-size"] == "10m"
