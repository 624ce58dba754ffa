"""The contract chart (tests/fixtures/charts/statewave) against the chart contract.

Three layers, so that drift anywhere is caught:

1. tests/fixtures/chart-contract.yml (our machine-readable copy of statewave-contract.md
   section 1) against the reference document itself, when ../shared/reference is present;
2. the chart's Chart.yaml and values.yaml against chart-contract.yml;
3. what the chart renders (real `helm lint` / `helm template`, parsed with PyYAML)
   against the naming, label, hook and env facts of the contract.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "tests" / "fixtures" / "charts" / "statewave"
CONTRACT_FILE = REPO / "tests" / "fixtures" / "chart-contract.yml"
REFERENCE = REPO.parent / "shared" / "reference" / "statewave-contract.md"

# `helm template` checks the chart's kubeVersion (>=1.24.0-0) against its default
# capabilities, which are v1.20.0 for a helm built from source without release ldflags.
# Render for a version inside the supported range instead.
KUBE_VERSION = "v1.30.0"
NAMESPACE = "sw-test"

CONTRACT = yaml.safe_load(CONTRACT_FILE.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- helpers


def flatten(tree, prefix=""):
    """Dotted leaf paths of a mapping. Non-empty mappings are walked; everything else
    (scalars, lists, empty mappings) is a leaf."""
    out = {}
    for key, value in tree.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict) and value:
            out.update(flatten(value, path))
        else:
            out[path] = value
    return out


def contract_leaves():
    """chart-contract.yml `values` (key path -> default, defaults may be structured) as
    dotted leaf paths, comparable with flatten(values.yaml)."""
    out = {}
    for key, default in CONTRACT["values"].items():
        if isinstance(default, dict) and default:
            out.update(flatten(default, key))
        else:
            out[key] = default
    return out


def same(a, b):
    """Equality that also compares types (1 != 1.0 != True, "" != None)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def helm_bin():
    path = shutil.which("helm")
    if path is None:
        pytest.fail(
            "helm is not on PATH. Run `make setup`, then `. hack/env.sh`, to build the "
            "pinned helm these tests call.",
            pytrace=False,
        )
    return path


class Rendered:
    """The objects of one `helm template` run."""

    def __init__(self, docs):
        self.docs = docs

    def kinds(self):
        return sorted(d["kind"] for d in self.docs)

    def all(self, kind):
        return [d for d in self.docs if d["kind"] == kind]

    def one(self, kind):
        found = self.all(kind)
        assert len(found) == 1, f"expected one {kind}, got {len(found)}: {self.kinds()}"
        return found[0]

    def has(self, kind):
        return bool(self.all(kind))


@functools.lru_cache(maxsize=None)
def _render_cached(helm, release, values_json, kube_version):
    with tempfile.TemporaryDirectory() as tmp:
        values_file = Path(tmp) / "values.json"  # JSON is YAML
        values_file.write_text(values_json, encoding="utf-8")
        proc = subprocess.run(
            [helm, "template", release, str(CHART), "--namespace", NAMESPACE,
             "--kube-version", kube_version, "--values", str(values_file)],
            capture_output=True, text=True, check=False,
        )
    return proc.returncode, proc.stdout, proc.stderr


def render(release="statewave", values=None, kube_version=KUBE_VERSION):
    code, out, err = _render_cached(
        helm_bin(), release, json.dumps(values or {}, sort_keys=True), kube_version)
    assert code == 0, f"helm template failed ({code}):\n{err}"
    return Rendered([d for d in yaml.safe_load_all(out) if d])


def deploy_container(r):
    containers = r.one("Deployment")["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == [CONTRACT["api"]["container"]]
    return containers[0]


def job_container(r):
    containers = r.one("Job")["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == [CONTRACT["migration_job"]["container"]]
    return containers[0]


def env_by_name(container):
    env = container.get("env", [])
    names = [e["name"] for e in env]
    assert len(names) == len(set(names)), f"duplicate env names: {names}"
    return {e["name"]: e for e in env}


def secret_ref(entry):
    assert "value" not in entry, f"{entry['name']} must come from a Secret"
    ref = entry["valueFrom"]["secretKeyRef"]
    return ref["name"], ref["key"]


def fullname_for(release, values=None):
    return render(release, values).one("Deployment")["metadata"]["name"]


# ------------------------------------------------ layer 1: our copy vs the reference


def reference_text():
    if not REFERENCE.is_file():
        pytest.skip(f"reference contract not found at {REFERENCE} (only present in the "
                    "project workspace, not in a clone of the collection)")
    return REFERENCE.read_text(encoding="utf-8")


def md_table(text, heading):
    """Rows (lists of cells, header and separator dropped) of the first table after the
    heading line that starts with `heading`."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith(heading)), None)
    assert start is not None, f"heading {heading!r} not found in {REFERENCE}"
    rows = []
    for line in lines[start + 1:]:
        if line.startswith("#"):
            break
        if line.startswith("|"):
            rows.append([c.strip() for c in line.strip().strip("|").split("|")])
        elif rows:
            break
    assert len(rows) > 2, f"no table under {heading!r}"
    return rows[2:]


TICKED = re.compile(r"`([^`]*)`")


def parse_keys(cell):
    """`a.b` / `.c` / `d` -> [a.b, a.c, d] (a leading dot is relative to the first key)."""
    keys = []
    for token in cell.split(" / "):
        match = re.fullmatch(r"`([^`]+)`", token.strip())
        assert match, f"key cell not understood: {cell!r}"
        key = match.group(1)
        if key.startswith("."):
            key = keys[0].rsplit(".", 1)[0] + key
        keys.append(key)
    return keys


PROBE_FIELDS = {"initialDelay": "initialDelaySeconds", "period": "periodSeconds",
                "timeout": "timeoutSeconds", "failureThreshold": "failureThreshold"}


def parse_prose_default(cell):
    """Structured defaults the table states in words."""
    res = re.fullmatch(
        r"req (?:cpu )?`([^`]+)` ?/ ?(?:mem )?`([^`]+)`; "
        r"lim (?:cpu )?`([^`]+)` ?/ ?(?:mem )?`([^`]+)`", cell)
    if res:
        return {"requests": {"cpu": res[1], "memory": res[2]},
                "limits": {"cpu": res[3], "memory": res[4]}}
    probe = re.fullmatch(r"GET `([^`]+)` on port `([^`]+)`; (.+)", cell)
    if probe:
        out = {"httpGet": {"path": probe[1], "port": probe[2]}}
        for part in probe[3].split(", "):
            name, value = part.split(" ")
            out[PROBE_FIELDS[name]] = int(value)
        return out
    hosts = re.fullmatch(r"one host `([^`]+)`, path `([^`]+)`, pathType `([^`]+)`", cell)
    if hosts:
        return [{"host": hosts[1], "paths": [{"path": hosts[2], "pathType": hosts[3]}]}]
    pairs = [re.fullmatch(r"([A-Za-z][\w.]*) (\S.*)", p) for p in cell.split(", ")]
    if all(pairs):
        out = {}
        for pair in pairs:
            node = out
            *parents, leaf = pair[1].split(".")
            for parent in parents:
                node = node.setdefault(parent, {})
            node[leaf] = yaml.safe_load(pair[2])
        return out
    raise AssertionError(f"default not understood: {cell!r}")


def reference_values(text):
    """Table 1.5 as {key path: default}, and the keys it says exist only as comments."""
    values, commented = {}, set()
    for key_cell, default_cell, meaning in md_table(text, "### 1.5"):
        keys = parse_keys(key_cell)
        if len(keys) > 1:
            parts = [p.strip() for p in default_cell.split(" / ")]
            assert len(parts) == len(keys), f"row not understood: {key_cell} | {default_cell}"
            defaults = []
            for part in parts:
                match = re.fullmatch(r"`([^`]*)`", part)
                assert match, f"default not understood: {default_cell!r}"
                defaults.append(yaml.safe_load(match[1]))
        else:
            single = re.fullmatch(r"`([^`]*)`(?: \([^)]*\))?", default_cell)
            defaults = [yaml.safe_load(single[1]) if single
                        else parse_prose_default(default_cell)]
        for key, default in zip(keys, defaults):
            assert key not in values, f"{key} twice in table 1.5"
            values[key] = default
        if "exists only as a comment" in meaning:
            parent = keys[0].rsplit(".", 1)[0]
            commented.update(f"{parent}.{k}" for k in TICKED.findall(meaning))
    return values, commented


def test_reference_values_table_matches_contract_copy():
    ref, commented = reference_values(reference_text())
    ours = CONTRACT["values"]
    assert len(ref) >= 50, "table 1.5 parsed to suspiciously few keys"
    assert sorted(set(ref) - set(ours)) == [], "keys in the reference, missing in our copy"
    assert sorted(set(ours) - set(ref)) == [], "keys in our copy, not in the reference"
    differ = {k: {"reference": ref[k], "ours": ours[k]}
              for k in ref if not same(ref[k], ours[k])}
    assert differ == {}
    assert sorted(commented) == sorted(CONTRACT["values_commented_only"])


def test_reference_identity_matches_contract_copy():
    rows = {cells[0]: cells[1] for cells in md_table(reference_text(), "### 1.1")}
    found = {}
    for field in ("name", "version", "appVersion"):
        found[field] = yaml.safe_load(TICKED.findall(rows[f"`{field}`"])[0])
    kind = re.search(r"apiVersion (\w+), type (\w+)", rows["`name`"])
    found["apiVersion"], found["type"] = kind[1], kind[2]
    ours = {k: v for k, v in CONTRACT["chart"].items() if k in found}
    assert found == ours
    container = rows["Container"]
    assert TICKED.findall(container)[:3] == [
        CONTRACT["api"]["container"], CONTRACT["api"]["port_name"],
        str(CONTRACT["api"]["container_port"])]
    assert TICKED.findall(rows["Image"])[0].startswith(CONTRACT["api"]["image"] + ":")
    assert TICKED.findall(rows["Command"])[0].split() == CONTRACT["api"]["command"]


def test_reference_hooks_match_contract_copy():
    found = {}
    for obj, hook, weight, policy in md_table(reference_text(), "### 1.6"):
        found[obj.split()[0]] = {
            "hook": [h.strip() for h in hook.split(",")],
            "weight": int(TICKED.findall(weight)[0]),
            "delete_policy": [p.strip() for p in policy.split(",")],
        }
    assert found == CONTRACT["hooks"]


ABBREVIATIONS = {"HPA": "HorizontalPodAutoscaler", "PDB": "PodDisruptionBudget"}


def test_reference_resource_names_match_contract_copy():
    names, sa_cell = {}, None
    for resource, name in md_table(reference_text(), "### 1.2"):
        if resource == "ServiceAccount":
            sa_cell = name
            continue
        pattern = TICKED.findall(name)
        assert len(pattern) == 1, f"name cell not understood: {name!r}"
        pattern = pattern[0].replace("<fullname>", "{fullname}")
        kinds = resource.split(", ") if "," in resource else [resource.split()[-1]]
        for kind in kinds:
            names[ABBREVIATIONS.get(kind, kind)] = pattern
    assert names == CONTRACT["naming"]["resource_names"]
    sa = CONTRACT["naming"]["service_account"]
    assert sa_cell is not None
    assert re.search(r"`<fullname>` if create=true and name empty", sa_cell)
    assert sa["create_with_empty_name"] == "{fullname}"
    no_create = re.search(r"`([^`]+)` if create=false and name empty", sa_cell)
    assert no_create[1] == sa["no_create_with_empty_name"]


def test_reference_deployment_env_matches_contract_copy():
    text = reference_text()
    bullet = re.search(r"Deployment runtime env \(always\):(.*?)Conditional:(.*?)`extraEnv`",
                       text, re.S)
    assert bullet, "1.7 'Deployment runtime env (always)' bullet not found"
    always = [t.split("=")[0] for t in TICKED.findall(bullet[1])]
    always = ["STATEWAVE_DATABASE_URL" if t == "DB URL" else t for t in always]
    # The bullet names the DB URL in words ("DB URL"), not as a ticked name.
    assert bullet[1].lstrip().startswith("DB URL")
    ours = CONTRACT["env"]["deployment_always"]
    assert ["STATEWAVE_DATABASE_URL", *always] == ours


# -------------------------------------------- layer 2: chart files vs our copy


def chart_values():
    return yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8"))


def test_chart_yaml_matches_contract():
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text(encoding="utf-8"))
    for field, expected in CONTRACT["chart"].items():
        assert same(chart.get(field), expected), f"Chart.yaml {field}"


def test_values_defaults_match_contract():
    values = flatten(chart_values())
    contract = contract_leaves()
    missing = sorted(set(contract) - set(values))
    assert missing == [], "contract keys missing from values.yaml"
    differ = {k: {"values.yaml": values[k], "contract": contract[k]}
              for k in contract if not same(values[k], contract[k])}
    assert differ == {}, "values.yaml defaults differ from the contract"


def test_values_has_no_keys_beyond_contract():
    allowed = CONTRACT["values_extra_allowed"] or {}
    for key, reason in allowed.items():
        assert isinstance(reason, str) and reason.strip(), f"{key}: give the reason"
    extra = sorted(
        k for k in set(flatten(chart_values())) - set(contract_leaves())
        if not any(k == a or k.startswith(a + ".") for a in allowed))
    assert extra == [], "values.yaml keys not in the contract (justify them in " \
        "chart-contract.yml values_extra_allowed)"


def test_commented_only_keys_are_comments_in_values():
    text = (CHART / "values.yaml").read_text(encoding="utf-8")
    values = flatten(chart_values())
    for key in CONTRACT["values_commented_only"]:
        assert key not in values, f"{key} must not be a key by default"
        leaf = key.rsplit(".", 1)[-1]
        assert re.search(rf"^\s*#\s*{re.escape(leaf)}:", text, re.M), f"{key} not commented"


# -------------------------------------------- layer 3: the chart as helm sees it


def test_helm_lint_strict():
    proc = subprocess.run([helm_bin(), "lint", "--strict", str(CHART)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_kube_version_floor():
    render(kube_version="v1.24.0")
    code, _out, err = _render_cached(helm_bin(), "statewave", "{}", "v1.23.9")
    assert code != 0 and "kubeVersion" in err


@pytest.mark.parametrize(
    "example", CONTRACT["naming"]["fullname_examples"],
    ids=lambda e: f"{e['release']}-{e.get('fullnameOverride', 'no-override')}")
def test_fullname_examples(example):
    values = {}
    if "fullnameOverride" in example:
        values["fullnameOverride"] = example["fullnameOverride"]
    r = render(example["release"], values)
    fullname = example["fullname"]
    expected = {kind: pattern.format(fullname=fullname)
                for kind, pattern in CONTRACT["naming"]["resource_names"].items()}
    assert r.one("Deployment")["metadata"]["name"] == expected["Deployment"]
    assert r.one("Service")["metadata"]["name"] == expected["Service"]
    assert r.one("Job")["metadata"]["name"] == expected["Job"]
    assert r.one("ServiceAccount")["metadata"]["name"] == fullname


def test_fullname_cap_and_trailing_dash():
    cap = CONTRACT["naming"]["max_length"]
    # Character 63 is a "-": cut to 63, then the dash goes.
    override = "a" * (cap - 1) + "-" + "b" * 10
    assert fullname_for("prod", {"fullnameOverride": override}) == "a" * (cap - 1)
    # Helm allows release names up to 53 characters: <release>-statewave fits in 63.
    release = "r" * 53
    assert fullname_for(release) == f"{release}-statewave"
    assert len(f"{release}-statewave") == cap


def test_name_override():
    # Decision (contract 1.2 says "chart name"): nameOverride replaces the chart name in
    # both the containment test and the suffix, as in Helm's standard helpers.
    r = render("prod", {"nameOverride": "sw"})
    deploy = r.one("Deployment")
    assert deploy["metadata"]["name"] == "prod-sw"
    assert deploy["metadata"]["labels"]["app.kubernetes.io/name"] == "sw"
    assert fullname_for("prod-sw-a", {"nameOverride": "sw"}) == "prod-sw-a"


EVERYTHING_ON = {
    "database": {"url": "postgresql+asyncpg://u:p@db:5432/sw"},
    "llm": {"apiKey": "llm-key"},
    "auth": {"apiKey": "api-key"},
    "ingress": {"enabled": True},
    "autoscaling": {"enabled": True},
    "podDisruptionBudget": {"enabled": True},
}


@pytest.mark.parametrize("release,fullname", [("prod", "prod-statewave"),
                                              ("statewave", "statewave")])
def test_resource_names(release, fullname):
    r = render(release, EVERYTHING_ON)
    assert r.kinds() == sorted(["Deployment", "Service", "Secret", "ServiceAccount", "Job",
                                "Ingress", "HorizontalPodAutoscaler", "PodDisruptionBudget"])
    for kind, pattern in CONTRACT["naming"]["resource_names"].items():
        assert r.one(kind)["metadata"]["name"] == pattern.format(fullname=fullname), kind
    assert r.one("ServiceAccount")["metadata"]["name"] == fullname
    assert r.one("HorizontalPodAutoscaler")["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1", "kind": "Deployment", "name": fullname}


def test_default_render():
    r = render()
    assert r.kinds() == sorted(["Deployment", "Service", "ServiceAccount", "Job"])


@pytest.mark.parametrize("create,name,expected,rendered", [
    (True, "", "statewave", True),
    (True, "custom-sa", "custom-sa", True),
    (False, "", "default", False),
    (False, "existing-sa", "existing-sa", False),
])
def test_service_account_name(create, name, expected, rendered):
    r = render("statewave", {"serviceAccount": {"create": create, "name": name}})
    assert r.has("ServiceAccount") is rendered
    if rendered:
        assert r.one("ServiceAccount")["metadata"]["name"] == expected
    for kind in ("Deployment", "Job"):
        assert r.one(kind)["spec"]["template"]["spec"]["serviceAccountName"] == expected


def hook_of(obj):
    ann = obj["metadata"].get("annotations") or {}
    if "helm.sh/hook" not in ann:
        return None
    return {
        "hook": [h.strip() for h in ann["helm.sh/hook"].split(",")],
        "weight": int(ann["helm.sh/hook-weight"]),
        "delete_policy": [p.strip() for p in ann["helm.sh/hook-delete-policy"].split(",")],
    }


def test_hooks():
    r = render("prod", EVERYTHING_ON)
    for obj in r.docs:
        assert hook_of(obj) == CONTRACT["hooks"].get(obj["kind"]), obj["kind"]


def test_service_account_annotations_merged_with_hook():
    ann = {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/sw"}
    r = render("prod", {"serviceAccount": {"annotations": ann}})
    sa = r.one("ServiceAccount")
    assert sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == ann[
        "eks.amazonaws.com/role-arn"]
    assert hook_of(sa) == CONTRACT["hooks"]["ServiceAccount"]


def test_labels_and_selectors():
    r = render("prod", {**EVERYTHING_ON, "podLabels": {"team": "a"}})
    chart = CONTRACT["chart"]
    common = {
        "helm.sh/chart": f"{chart['name']}-{chart['version']}",
        "app.kubernetes.io/name": "statewave",
        "app.kubernetes.io/instance": "prod",
        "app.kubernetes.io/version": chart["appVersion"],
        "app.kubernetes.io/managed-by": "Helm",
        "app.kubernetes.io/part-of": CONTRACT["labels"]["part_of"],
    }
    assert sorted(common) == sorted(CONTRACT["labels"]["common"])
    for obj in r.docs:
        labels = obj["metadata"]["labels"]
        component = CONTRACT["labels"]["component"][obj["kind"]]
        expected = dict(common)
        if component:
            expected["app.kubernetes.io/component"] = component
        assert labels == expected, obj["kind"]
    selector = {"app.kubernetes.io/name": "statewave", "app.kubernetes.io/instance": "prod",
                "app.kubernetes.io/component": "api"}
    assert sorted(selector) == sorted(CONTRACT["labels"]["selector_keys"])
    deploy = r.one("Deployment")
    assert deploy["spec"]["selector"]["matchLabels"] == selector
    assert r.one("Service")["spec"]["selector"] == selector
    assert r.one("PodDisruptionBudget")["spec"]["selector"]["matchLabels"] == selector
    # Pods carry selector + podLabels, not the chart/version labels.
    assert deploy["spec"]["template"]["metadata"]["labels"] == {**selector, "team": "a"}


def test_image_version_label_keeps_app_version():
    r = render("prod", {"image": {"tag": "9.9.9"}})
    assert deploy_container(r)["image"] == "statewavedev/statewave:9.9.9"
    assert job_container(r)["image"] == "statewavedev/statewave:9.9.9"
    assert r.one("Deployment")["metadata"]["labels"]["app.kubernetes.io/version"] == "1.5.0"


# Secret cases: (values, keys the Secret holds, or None when no Secret renders).
SECRET_CASES = {
    "nothing-set": ({}, None),
    "db-inline": ({"database": {"url": "postgresql+asyncpg://u:p@h/d"}},
                  ["STATEWAVE_DATABASE_URL"]),
    "db-inline-and-existing": ({"database": {"url": "x", "existingSecret": "db"}}, None),
    "db-existing": ({"database": {"existingSecret": "db"}}, None),
    "llm-inline": ({"llm": {"apiKey": "k"}}, ["STATEWAVE_LITELLM_API_KEY"]),
    "auth-inline": ({"auth": {"apiKey": "k"}}, ["STATEWAVE_API_KEY"]),
    "mixed": ({"database": {"existingSecret": "db"}, "llm": {"apiKey": "k"},
               "auth": {"apiKey": "a", "existingSecret": "auth"}},
              ["STATEWAVE_LITELLM_API_KEY"]),
    "all-inline": ({"database": {"url": "u"}, "llm": {"apiKey": "k"},
                    "auth": {"apiKey": "a"}},
                   ["STATEWAVE_DATABASE_URL", "STATEWAVE_LITELLM_API_KEY",
                    "STATEWAVE_API_KEY"]),
    "all-external": ({"database": {"url": "u", "existingSecret": "db"},
                      "llm": {"apiKey": "k", "existingSecret": "llm"},
                      "auth": {"apiKey": "a", "existingSecret": "auth"}}, None),
}


@pytest.mark.parametrize("case", SECRET_CASES)
def test_secret_only_for_inline_credentials(case):
    values, keys = SECRET_CASES[case]
    r = render("prod", values)
    if keys is None:
        assert not r.has("Secret")
        return
    secret = r.one("Secret")
    assert secret["metadata"]["name"] == "prod-statewave-credentials"
    assert secret["type"] == "Opaque"
    assert sorted(secret["stringData"]) == sorted(keys)
    assert set(keys) <= set(CONTRACT["env"]["secret_keys"])
    inline = {"STATEWAVE_DATABASE_URL": ("database", "url"),
              "STATEWAVE_LITELLM_API_KEY": ("llm", "apiKey"),
              "STATEWAVE_API_KEY": ("auth", "apiKey")}
    for key in keys:
        section, field = inline[key]
        assert secret["stringData"][key] == values[section][field]


@pytest.mark.parametrize("database,expected", [
    ({}, ("prod-statewave-credentials", "STATEWAVE_DATABASE_URL")),
    ({"url": "u"}, ("prod-statewave-credentials", "STATEWAVE_DATABASE_URL")),
    ({"existingSecret": "db"}, ("db", "STATEWAVE_DATABASE_URL")),
    ({"url": "u", "existingSecret": "db", "existingSecretKey": "dsn"}, ("db", "dsn")),
])
def test_database_url_secret_ref(database, expected):
    r = render("prod", {"database": database})
    for container in (deploy_container(r), job_container(r)):
        assert secret_ref(env_by_name(container)["STATEWAVE_DATABASE_URL"]) == expected


@pytest.mark.parametrize("section,env_name", [("llm", "STATEWAVE_LITELLM_API_KEY"),
                                              ("auth", "STATEWAVE_API_KEY")])
@pytest.mark.parametrize("values,expected", [
    ({}, None),
    ({"apiKey": "k"}, ("prod-statewave-credentials", None)),
    ({"existingSecret": "ext"}, ("ext", None)),
    ({"apiKey": "k", "existingSecret": "ext", "existingSecretKey": "custom"},
     ("ext", "custom")),
])
def test_credential_env_only_when_set(section, env_name, values, expected):
    r = render("prod", {section: values})
    env = env_by_name(deploy_container(r))
    assert env_name not in env_by_name(job_container(r))
    if expected is None:
        assert env_name not in env
        return
    name, key = expected
    assert secret_ref(env[env_name]) == (name, key or env_name)


def test_deployment_env_defaults():
    env = env_by_name(deploy_container(render()))
    assert sorted(env) == sorted(CONTRACT["env"]["deployment_always"])
    plain = {k: v["value"] for k, v in env.items() if "value" in v}
    assert all(isinstance(v, str) for v in plain.values()), plain
    assert plain["STATEWAVE_HOST"] == "0.0.0.0"
    assert plain["STATEWAVE_PORT"] == "8100"
    assert plain["STATEWAVE_COMPILER_TYPE"] == "llm"
    assert plain["STATEWAVE_EMBEDDING_PROVIDER"] == "litellm"
    assert plain["STATEWAVE_EMBEDDING_DIMENSIONS"] == "1536"
    assert plain["STATEWAVE_LITELLM_TEMPERATURE"] == "0.1"
    assert plain["STATEWAVE_CORS_ORIGINS"] == '["*"]'
    assert plain["STATEWAVE_RATE_LIMIT_RPM"] == "0"


@pytest.mark.parametrize("values,added", [
    ({"llm": {"apiBase": "http://ollama:11434"}},
     {"STATEWAVE_LITELLM_API_BASE": "http://ollama:11434"}),
    ({"rateLimit": {"strategy": "distributed"}},
     {"STATEWAVE_RATE_LIMIT_STRATEGY": "distributed"}),
    ({"webhooks": {"url": "https://hooks.example/x"}},
     {"STATEWAVE_WEBHOOK_URL": "https://hooks.example/x", "STATEWAVE_WEBHOOK_TIMEOUT": None}),
    ({"multiTenant": {"enabled": True, "required": True}},
     {"STATEWAVE_TENANT_HEADER": "X-Tenant-ID", "STATEWAVE_REQUIRE_TENANT": "true"}),
])
def test_conditional_env(values, added):
    env = env_by_name(deploy_container(render("prod", values)))
    assert sorted(set(env) - set(CONTRACT["env"]["deployment_always"])) == sorted(added)
    assert set(added) <= set(CONTRACT["env"]["deployment_conditional"])
    for name, value in added.items():
        assert isinstance(env[name]["value"], str)
        if value is not None:
            assert env[name]["value"] == value


def test_extra_env_deployment_only_and_last():
    extra = [{"name": "FORWARDED_ALLOW_IPS", "value": "10.0.0.0/8"},
             {"name": "STATEWAVE_STRICT_SCHEMA", "value": "true"}]
    env_from = [{"secretRef": {"name": "more-env"}}]
    r = render("prod", {"extraEnv": extra, "extraEnvFrom": env_from})
    deploy = deploy_container(r)
    job = job_container(r)
    assert deploy["env"][-len(extra):] == extra
    assert not {e["name"] for e in extra} & set(env_by_name(job))
    assert deploy["envFrom"] == env_from
    assert job["envFrom"] == env_from


def test_no_env_from_by_default():
    r = render()
    assert "envFrom" not in deploy_container(r)
    assert "envFrom" not in job_container(r)


def test_migration_env():
    # Credentials and options the API gets must not reach the Job (1.7 migrationEnv).
    r = render("prod", {"llm": {"apiKey": "k", "apiBase": "b", "embeddingModel": "m"},
                        "auth": {"apiKey": "a"}, "embedding": {"provider": "stub"},
                        "rateLimit": {"strategy": "distributed"}})
    env = job_container(r)["env"]
    assert [e["name"] for e in env] == CONTRACT["env"]["migration_job"]
    values = {e["name"]: e.get("value") for e in env}
    assert values["STATEWAVE_EMBEDDING_PROVIDER"] == "stub"
    assert values["STATEWAVE_LITELLM_EMBEDDING_MODEL"] == "m"


@pytest.mark.parametrize("values,replicas", [
    ({}, 1),
    ({"replicaCount": 3}, 3),
    ({"replicaCount": 3, "autoscaling": {"enabled": True}}, None),
])
def test_replicas(values, replicas):
    r = render("prod", values)
    spec = r.one("Deployment")["spec"]
    if replicas is None:
        assert "replicas" not in spec
        assert r.has("HorizontalPodAutoscaler")
    else:
        assert spec["replicas"] == replicas
        assert not r.has("HorizontalPodAutoscaler")


@pytest.mark.parametrize("autoscaling,metrics", [
    ({}, {"cpu": 70}),
    ({"targetMemoryUtilizationPercentage": 80}, {"cpu": 70, "memory": 80}),
    ({"targetCPUUtilizationPercentage": None, "targetMemoryUtilizationPercentage": 75},
     {"memory": 75}),
])
def test_hpa_metrics(autoscaling, metrics):
    r = render("prod", {"autoscaling": {"enabled": True, "minReplicas": 2,
                                        "maxReplicas": 7, **autoscaling}})
    hpa = r.one("HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 7)
    found = {}
    for metric in hpa["spec"]["metrics"]:
        assert metric["type"] == "Resource"
        target = metric["resource"]["target"]
        assert target["type"] == "Utilization"
        found[metric["resource"]["name"]] = target["averageUtilization"]
    assert found == metrics


@pytest.mark.parametrize("pdb,expected", [
    ({}, {"minAvailable": 1}),
    ({"maxUnavailable": 1}, {"minAvailable": 1, "maxUnavailable": 1}),
    ({"minAvailable": None, "maxUnavailable": "25%"}, {"maxUnavailable": "25%"}),
    ({"minAvailable": 2}, {"minAvailable": 2}),
])
def test_pdb_renders_each_key_that_exists(pdb, expected):
    r = render("prod", {"podDisruptionBudget": {"enabled": True, **pdb}})
    spec = r.one("PodDisruptionBudget")["spec"]
    assert r.one("PodDisruptionBudget")["apiVersion"] == "policy/v1"
    assert {k: v for k, v in spec.items() if k != "selector"} == expected


def test_probes():
    container = deploy_container(render())
    assert container["livenessProbe"] == CONTRACT["values"]["livenessProbe"]
    assert container["readinessProbe"] == CONTRACT["values"]["readinessProbe"]
    assert container["readinessProbe"]["timeoutSeconds"] == 5
    assert "startupProbe" not in container
    custom = {"httpGet": {"path": "/healthz", "port": "http"}, "timeoutSeconds": 15}
    assert deploy_container(render("prod", {"readinessProbe": custom}))[
        "readinessProbe"]["timeoutSeconds"] == 15


def test_deployment_container():
    r = render("prod", {"imagePullSecrets": [{"name": "regcred"}]})
    container = deploy_container(r)
    api = CONTRACT["api"]
    assert container["image"] == f"{api['image']}:{CONTRACT['chart']['appVersion']}"
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert container["command"] == api["command"]
    assert container["ports"] == [{"name": api["port_name"], "containerPort": api[
        "container_port"], "protocol": "TCP"}]
    assert container["resources"] == CONTRACT["values"]["resources"]
    assert container["securityContext"] == CONTRACT["values"]["securityContext"]
    pod = r.one("Deployment")["spec"]["template"]["spec"]
    assert pod["securityContext"] == CONTRACT["values"]["podSecurityContext"]
    assert pod["imagePullSecrets"] == [{"name": "regcred"}]


def test_scheduling_fields():
    sched = {
        "nodeSelector": {"pool": "api"},
        "tolerations": [{"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}],
        "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [
                {"key": "zone", "operator": "In", "values": ["a"]}]}]}}},
    }
    spread = [{"maxSkew": 1, "topologyKey": "kubernetes.io/hostname",
               "whenUnsatisfiable": "ScheduleAnyway",
               "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "statewave"}}}]
    r = render("prod", {**sched, "topologySpreadConstraints": spread,
                        "podAnnotations": {"checksum/x": "1"}})
    deploy = r.one("Deployment")["spec"]["template"]
    job = r.one("Job")["spec"]["template"]
    for key, value in sched.items():
        assert deploy["spec"][key] == value, key
        assert job["spec"][key] == value, key
    assert deploy["spec"]["topologySpreadConstraints"] == spread
    assert "topologySpreadConstraints" not in job["spec"]
    assert deploy["metadata"]["annotations"] == {"checksum/x": "1"}
    assert "annotations" not in job["metadata"]
    default = render()
    for kind in ("Deployment", "Job"):
        pod = default.one(kind)["spec"]["template"]["spec"]
        assert not set(sched) & set(pod), kind
        assert "imagePullSecrets" not in pod


def test_migration_job_spec():
    r = render("prod", {"imagePullSecrets": [{"name": "regcred"}]})
    job = r.one("Job")
    assert job["apiVersion"] == "batch/v1"
    assert (job["spec"]["backoffLimit"], job["spec"]["activeDeadlineSeconds"],
            job["spec"]["ttlSecondsAfterFinished"]) == (3, 600, 300)
    pod = job["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == CONTRACT["migration_job"]["restartPolicy"]
    assert pod["serviceAccountName"] == "prod-statewave"
    assert pod["securityContext"] == CONTRACT["values"]["podSecurityContext"]
    assert pod["imagePullSecrets"] == [{"name": "regcred"}]
    container = job_container(r)
    assert container["command"] == CONTRACT["migration_job"]["command"]
    assert container["image"] == deploy_container(r)["image"]
    assert container["imagePullPolicy"] == deploy_container(r)["imagePullPolicy"]
    assert container["resources"] == CONTRACT["values"]["migrationJob.resources"]
    assert container["securityContext"] == CONTRACT["values"]["securityContext"]
    assert not {"livenessProbe", "readinessProbe", "startupProbe", "ports"} & set(container)


def test_migration_job_values_and_pod_metadata():
    fail_label = {"statewave.io/test-fail": "true"}
    r = render("prod", {"migrationJob": {
        "backoffLimit": 0, "activeDeadlineSeconds": 1800, "ttlSecondsAfterFinished": 60,
        "podLabels": fail_label, "podAnnotations": {"note": "x"}}})
    job = r.one("Job")
    assert (job["spec"]["backoffLimit"], job["spec"]["activeDeadlineSeconds"],
            job["spec"]["ttlSecondsAfterFinished"]) == (0, 1800, 60)
    meta = job["spec"]["template"]["metadata"]
    assert meta["labels"] == {"app.kubernetes.io/name": "statewave",
                              "app.kubernetes.io/instance": "prod",
                              "app.kubernetes.io/component": "migrate", **fail_label}
    assert meta["annotations"] == {"note": "x"}
    # The label must not leak to the API pods, and Job pods are not API pods.
    deploy = r.one("Deployment")
    assert "statewave.io/test-fail" not in deploy["spec"]["template"]["metadata"]["labels"]
    selector = deploy["spec"]["selector"]["matchLabels"]
    assert not all(meta["labels"].get(k) == v for k, v in selector.items())


def test_migration_job_disabled():
    r = render("prod", {"migrationJob": {"enabled": False}})
    assert not r.has("Job")
    assert r.has("Deployment")


def test_service():
    r = render("prod", {"service": {"annotations": {"a/b": "c"}}})
    svc = r.one("Service")
    assert svc["spec"]["type"] == "ClusterIP"
    assert svc["spec"]["ports"] == [{"name": "http", "port": 8100, "targetPort": "http",
                                     "protocol": "TCP"}]
    assert svc["metadata"]["annotations"] == {"a/b": "c"}
    assert "annotations" not in render().one("Service")["metadata"]


def test_ingress():
    r = render("prod", {"ingress": {"enabled": True}})
    ing = r.one("Ingress")
    assert ing["apiVersion"] == "networking.k8s.io/v1"
    assert "ingressClassName" not in ing["spec"]
    assert "tls" not in ing["spec"]
    assert ing["spec"]["rules"] == [{"host": "statewave.example.com", "http": {"paths": [{
        "path": "/", "pathType": "Prefix",
        "backend": {"service": {"name": "prod-statewave", "port": {"number": 8100}}}}]}}]
    hosts = [{"host": "a.example", "paths": [{"path": "/", "pathType": "Prefix"},
                                             {"path": "/v1", "pathType": "Exact"}]},
             {"host": "b.example", "paths": [{"path": "/", "pathType": "Prefix"}]}]
    tls = [{"secretName": "sw-tls", "hosts": ["a.example", "b.example"]}]
    ann = {"nginx.ingress.kubernetes.io/proxy-read-timeout": "120"}
    ing = render("prod", {"ingress": {"enabled": True, "className": "nginx", "hosts": hosts,
                                      "tls": tls, "annotations": ann},
                          "service": {"port": 9000}}).one("Ingress")
    assert ing["spec"]["ingressClassName"] == "nginx"
    assert ing["spec"]["tls"] == tls
    assert ing["metadata"]["annotations"] == ann
    backends = [(rule["host"], p["path"], p["pathType"], p["backend"]["service"]["name"],
                 p["backend"]["service"]["port"]["number"])
                for rule in ing["spec"]["rules"] for p in rule["http"]["paths"]]
    assert backends == [("a.example", "/", "Prefix", "prod-statewave", 9000),
                        ("a.example", "/v1", "Exact", "prod-statewave", 9000),
                        ("b.example", "/", "Prefix", "prod-statewave", 9000)]
