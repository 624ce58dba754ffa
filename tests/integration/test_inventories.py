# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The example inventories (local, dev, staging, prod, multicluster): they parse, every playbook
passes --syntax-check with each of them, every role-prefixed variable they set is one the role
declares (catches typos: a misspelled variable is silently ignored by Ansible), and secrets are
vault references only.

Needs no cluster and no database: ansible-inventory and ansible-playbook --syntax-check read files.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
INVENTORIES = ["local", "dev", "staging", "prod", "multicluster"]
EXAMPLES = ["dev", "staging", "prod", "multicluster"]
PLAYBOOKS = sorted(p.name for p in (ROOT / "playbooks").glob("*.yml"))
ROLE_PREFIXES = {"statewave_": "statewave", "pgvector_": "pgvector", "ingress_": "ingress",
                 "preflight_": "preflight", "verify_": "verify", "heddle_": "heddle"}

# Variable names that hold a secret value (a password, a key, a token) as opposed to a Secret's
# name or a key name inside a Secret.
SECRET_NAME_RE = re.compile(r"(password|api_key|apikey|token|private_key|secret_value)$")
VAULT_REF_RE = re.compile(r"^\{\{\s*(vault_[a-z0-9_]+)\s*\}\}$")
VAR_REF_RE = re.compile(r"^\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}$")
# Things that look like a literal credential wherever they appear.
LITERAL_SECRET_RES = [
    re.compile(r"\bsk-[A-Za-z0-9_-]{16,}"),                          # OpenAI-style keys
    re.compile(r"\bAKIA[0-9A-Z]{16}\b"),                             # AWS access key ids
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"postgres(ql)?(\+asyncpg)?://[^:/@\s]+:[^@{\s]+@"),  # a DSN with an inline password
]


def ansible(*args, timeout=300):
    return subprocess.run(list(args), cwd=str(ROOT), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=timeout, check=False)


def var_files(inventory):
    base = ROOT / "inventories" / inventory
    files = []
    for sub in ("group_vars", "host_vars"):
        if (base / sub).exists():
            files += sorted(p for p in (base / sub).rglob("*") if p.is_file() and p.suffix in (".yml", ".yaml"))
    return files


def inventory_vars(inventory):
    """[(file, name, value)] for every top-level variable the inventory sets."""
    out = []
    for path in var_files(inventory):
        data = yaml.safe_load(path.read_text()) or {}
        assert isinstance(data, dict), "%s is not a mapping" % path
        out += [(path.relative_to(ROOT), name, value) for name, value in data.items()]
    return out


def role_declared(role):
    """(argument_specs options of every entry point, defaults/main.yml keys)."""
    spec = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    declared = set()
    for entry in spec.values():
        declared |= set((entry.get("options") or {}).keys())
    defaults_file = ROOT / "roles" / role / "defaults" / "main.yml"
    defaults = set((yaml.safe_load(defaults_file.read_text()) or {}).keys()) if defaults_file.exists() else set()
    return declared, defaults


def playbook_declared():
    """Variables the playbooks themselves read: their validate_argument_spec options, and the
    role-prefixed names in their module_defaults (cluster access: statewave_kubeconfig, ...)."""
    names = set()
    for path in (ROOT / "playbooks").glob("*.yml"):
        for play in yaml.safe_load(path.read_text()) or []:
            if not isinstance(play, dict):
                continue
            names |= set(re.findall(r"\b((?:%s)[a-z0-9_]+)" % "|".join(ROLE_PREFIXES), json.dumps(play.get("module_defaults") or {})))
            for section in ("pre_tasks", "tasks", "post_tasks"):
                for task in play.get(section) or []:
                    spec = (task.get("ansible.builtin.validate_argument_spec") or {}).get("argument_spec") or {}
                    names |= set(spec)
    return names


@pytest.mark.parametrize("inventory", INVENTORIES)
def test_inventory_lists_its_clusters(inventory):
    proc = ansible("ansible-inventory", "-i", "inventories/%s" % inventory, "--list")
    assert proc.returncode == 0, proc.stdout
    data = json.loads(proc.stdout[proc.stdout.index("{"):])
    hosts = data["statewave_clusters"]["hosts"]
    assert hosts, "no host in group statewave_clusters"
    if inventory == "multicluster":
        assert sorted(hosts) == ["eu-1", "us-1"]
        hostvars = data["_meta"]["hostvars"]
        contexts = {h: hostvars[h]["statewave_kube_context"] for h in hosts}
        kubeconfigs = {h: hostvars[h]["statewave_kubeconfig"] for h in hosts}
        assert len(set(contexts.values())) == 2 and len(set(kubeconfigs.values())) == 2, (contexts, kubeconfigs)
        # per-host overrides on top of the shared group_vars
        assert hostvars["us-1"]["statewave_autoscaling_max_replicas"] != hostvars["eu-1"]["statewave_autoscaling_max_replicas"]
        assert hostvars["eu-1"]["ingress_host"] != hostvars["us-1"]["ingress_host"]


@pytest.mark.parametrize("inventory", INVENTORIES)
def test_every_playbook_passes_syntax_check(inventory):
    proc = ansible("ansible-playbook", "-i", "inventories/%s" % inventory, "--syntax-check",
                   *["playbooks/%s" % p for p in PLAYBOOKS])
    assert proc.returncode == 0, proc.stdout
    for playbook in PLAYBOOKS:
        assert "playbook: playbooks/%s" % playbook in proc.stdout


def test_all_lifecycle_playbooks_are_checked():
    assert {"site.yml", "scale.yml", "upgrade.yml", "rollback.yml", "uninstall.yml", "diagnose.yml"} <= set(PLAYBOOKS)


@pytest.mark.parametrize("inventory", INVENTORIES)
def test_role_variables_are_declared(inventory):
    from_playbooks = playbook_declared()
    typos = []
    for path, name, _value in inventory_vars(inventory):
        prefix = next((p for p in ROLE_PREFIXES if name.startswith(p)), None)
        if prefix is None or name in from_playbooks:
            continue
        role = ROLE_PREFIXES[prefix]
        declared, _defaults = role_declared(role)
        if name not in declared:
            typos.append("%s: %s is not declared by roles/%s/meta/argument_specs.yml" % (path, name, role))
    assert not typos, "\n".join(typos)


def _walk(value, name, path, found):
    if isinstance(value, dict):
        for key, sub in value.items():
            _walk(sub, str(key), path, found)
    elif isinstance(value, list):
        for sub in value:
            _walk(sub, name, path, found)
    elif isinstance(value, str):
        found.append((path, name, value))


@pytest.mark.parametrize("inventory", INVENTORIES)
def test_no_literal_secrets(inventory):
    problems = []
    strings = []
    for path, name, value in inventory_vars(inventory):
        _walk(value, name, path, strings)
        if SECRET_NAME_RE.search(name) and value not in ("", None):
            text = str(value).strip()
            if inventory in EXAMPLES:
                ref = VAR_REF_RE.match(text)
                if not (VAULT_REF_RE.match(text) or (ref and SECRET_NAME_RE.search(ref.group(1)))):
                    problems.append("%s: %s must be a vault reference (\"{{ vault_... }}\"), not %r" % (path, name, text))
            elif "{{" not in text:
                problems.append("%s: %s holds a literal value" % (path, name))
    for path, name, text in strings:
        for pattern in LITERAL_SECRET_RES:
            if pattern.search(text):
                problems.append("%s: %s looks like a literal secret (%s)" % (path, name, pattern.pattern))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("inventory", EXAMPLES)
def test_vault_example_lists_every_vault_variable_with_placeholders(inventory):
    base = ROOT / "inventories" / inventory
    examples = sorted(base.rglob("vault.yml.example"))
    assert examples, "no vault.yml.example in inventories/%s" % inventory
    placeholders = {}
    for path in examples:
        text = path.read_text()
        assert "ansible-vault" in text, "%s does not say how to create the vault" % path
        placeholders.update(yaml.safe_load(text) or {})
    assert all(v == "CHANGE-ME" for v in placeholders.values()), placeholders
    used = set()
    for path in var_files(inventory):
        used |= set(re.findall(r"\b(vault_[a-z0-9_]+)\b", path.read_text()))
    assert used <= set(placeholders), "vault variables without a placeholder: %s" % sorted(used - set(placeholders))
    for vault in base.rglob("vault.yml"):
        assert vault.read_text().startswith("$ANSIBLE_VAULT;"), "%s is not encrypted (ansible-vault encrypt it)" % vault


def test_example_inventories_pin_the_chart():
    for inventory in EXAMPLES:
        values = {name: value for _p, name, value in inventory_vars(inventory)}
        source = values.get("statewave_chart_source")
        assert source in ("git", "oci", "repo"), (inventory, source)
        if source == "git":
            assert values.get("statewave_chart_git_version"), inventory
        else:
            assert re.fullmatch(r"\d+\.\d+\.\d+", str(values.get("statewave_chart_version", ""))), inventory
