# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The release role's refusals (each bad input names its variable, and nothing changes: no
Deployment, no Secret the role would make, no Helm release; these runs share one namespace, the
module-scoped ``refused``), the DSN driver check, secret rotation, and credentials only by Secret
name (nothing secret in -vvv output or in Helm's release record)."""

from __future__ import annotations

import base64
import json

import pytest

from helpers import folded as out
# The fixtures release and refused are used by name.
from release_helpers import (  # noqa: F401 pylint: disable=unused-import
    ROOT, deployment, helm, helm_history, recap, refused, release, run)


DIGEST = "sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize("overrides, expected, variables", [
    ({"statewave_extra_env": [{"name": "STATEWAVE_LLM_MODEL", "value": "x"}]}, "STATEWAVE_LLM_MODEL is not a setting Statewave knows",
     ["statewave_extra_env"]),
    ({"statewave_extra_env": [{"name": "STATEWAVE_DATABASE_POOL_SIZE", "value": "20"}]}, "no STATEWAVE_DATABASE_POOL_* settings",
     ["statewave_extra_env"]),
    ({"statewave_extra_env": [{"name": "STATEWAVE_DATABASE_URL", "value": "x"}]}, "use that variable instead",
     ["statewave_extra_env", "statewave_database_existing_secret"]),
    ({"statewave_chart_values": {"extraEnv": [{"name": "STATEWAVE_WEBHOOK_URLS", "value": "x"}]}},
     "STATEWAVE_WEBHOOK_URLS is not a setting Statewave knows", ["statewave_chart_values.extraEnv"]),
    ({"statewave_pdb_enabled": True}, "statewave_pdb_enabled is true with 1 replica(s)", ["statewave_pdb_enabled", "statewave_replicas"]),
    ({"statewave_pdb_enabled": True, "statewave_replicas": 2, "statewave_pdb_min_available": 1, "statewave_pdb_max_unavailable": 1},
     "are both set", ["statewave_pdb_min_available", "statewave_pdb_max_unavailable"]),
    ({"statewave_chart_values": {"podDisruptionBudget": {"maxUnavailable": 1}}, "statewave_replicas": 2},
     "The PodDisruptionBudget would get both minAvailable", ["statewave_chart_values", "statewave_pdb_min_available"]),
    ({"statewave_embedding_dimensions": 768}, "statewave_embedding_dimensions is 768", ["statewave_embedding_dimensions"]),
    ({"statewave_image_tag": "", "statewave_image_digest": DIGEST}, "The chart always renders the image as <repository>:<tag>",
     ["statewave_image_digest", "statewave_image_tag"]),
    ({"statewave_image_digest": "sha256:1234"}, "is not an image digest", ["statewave_image_digest"]),
    ({"statewave_database_existing_secret": "nope"}, "nope/STATEWAVE_DATABASE_URL (namespace/name/key) does not exist",
     ["statewave_database_existing_secret", "statewave_database_existing_secret_key"]),
    ({"statewave_chart_values": {"database": {"url": "postgresql+asyncpg://u:p@h/d"}}}, "statewave_chart_values carries a credential",
     ["statewave_chart_values", "statewave_database_existing_secret"]),
    ({"statewave_chart_source": "oci", "statewave_chart_ref": "oci://example/statewave"}, "a pinned statewave_chart_version",
     ["statewave_chart_version"]),
])
def test_bad_input_fails_clearly_and_changes_nothing(run_playbook, refused, kubectl, kubeconfig, overrides, expected, variables):
    release = refused
    # With an API key to store: a Secret the role would create if it got that far.
    proc = run(run_playbook, release, statewave_api_key="api-key-not-stored", **overrides)
    assert proc.returncode != 0
    text = out(proc)
    assert expected in text, proc.stdout[-3000:]
    for variable in variables:
        assert variable in text
    assert recap(proc)["changed"] == 0
    assert kubectl("-n", release["ns"], "get", "deployments", "-o", "name").stdout.strip() == ""
    assert kubectl("-n", release["ns"], "get", "secret", "statewave-api-key", "--ignore-not-found", "-o", "name").stdout.strip() == ""
    assert helm_history(kubeconfig, release["ns"]) == []


def test_dsn_without_asyncpg_driver_is_refused(run_playbook, refused, kubectl, kubeconfig):
    release = refused
    kubectl("-n", release["ns"], "create", "secret", "generic", "psycopg-dsn",
            "--from-literal=STATEWAVE_DATABASE_URL=postgresql://u:p@h:5432/d")
    proc = run(run_playbook, release, statewave_database_existing_secret="psycopg-dsn", statewave_api_key="api-key-not-stored")
    assert proc.returncode != 0
    text = out(proc)
    assert "The DSN in Secret %s/psycopg-dsn/STATEWAVE_DATABASE_URL" % release["ns"] in text
    assert "from statewave_database_existing_secret / statewave_database_existing_secret_key" in text
    assert "does not start with postgresql+asyncpg://" in text
    assert "Rewrite the Secret's value as postgresql+asyncpg://USER:PASS@HOST:5432/DB" in text
    assert "u:p@h" not in proc.stdout
    assert recap(proc)["changed"] == 0
    assert kubectl("-n", release["ns"], "get", "deployments", "-o", "name").stdout.strip() == ""
    assert kubectl("-n", release["ns"], "get", "secret", "statewave-api-key", "--ignore-not-found", "-o", "name").stdout.strip() == ""
    assert helm_history(kubeconfig, release["ns"]) == []


def test_secret_rotation_rolls_the_pods(run_playbook, release, kubectl):
    assert run(run_playbook, release).returncode == 0

    def checksum():
        d = json.loads(kubectl("-n", release["ns"], "get", "deployment", "statewave", "-o", "json").stdout)
        return d["spec"]["template"]["metadata"]["annotations"]["statewave.io/secrets-checksum"]

    before = checksum()
    new = base64.b64encode(b"postgresql+asyncpg://statewave:rotated@127.0.0.1:55432/statewave").decode()
    kubectl("-n", release["ns"], "patch", "secret", "statewave-database", "-p",
            json.dumps({"data": {"STATEWAVE_DATABASE_URL": new}}))
    assert run(run_playbook, release).returncode == 0
    assert checksum() != before


def test_no_secret_in_verbose_output_and_credentials_only_by_secret_name(run_playbook, release, kubectl, kubeconfig):
    ns = release["ns"]
    keys = {"api": "api-key-9f8e7d6c5b4a", "llm": "llm-key-1a2b3c4d5e6f"}
    extra = dict(release["vars"], statewave_api_key=keys["api"], statewave_llm_api_key=keys["llm"])
    proc = run_playbook("release.yml", extra_vars=extra, inventory=ROOT / "inventories/local", verbosity=3)
    assert proc.returncode == 0, proc.stdout[-4000:]
    password = release["dsn"].split("//")[1].split("@")[0].split(":")[1]
    for secret in (keys["api"], keys["llm"], password, release["dsn"]):
        assert secret not in proc.stdout and secret not in out(proc)

    # The role made one Secret per credential; the chart's inline-credentials Secret does not exist.
    secrets = {s["metadata"]["name"]: s for s in json.loads(kubectl("-n", ns, "get", "secrets", "-o", "json").stdout)["items"]}
    assert "statewave-credentials" not in secrets
    stored = {name: {k: base64.b64decode(v).decode() for k, v in secrets[name]["data"].items()}
              for name in ("statewave-llm", "statewave-api-key")}
    assert stored == {"statewave-llm": {"STATEWAVE_LITELLM_API_KEY": keys["llm"]}, "statewave-api-key": {"STATEWAVE_API_KEY": keys["api"]}}

    # The pods read every credential through a secretKeyRef to those Secrets.
    env = {e["name"]: e for e in deployment(kubectl, ns)["spec"]["template"]["spec"]["containers"][0]["env"]}
    refs = {name: env[name]["valueFrom"]["secretKeyRef"] for name in ("STATEWAVE_DATABASE_URL", "STATEWAVE_LITELLM_API_KEY", "STATEWAVE_API_KEY")}
    assert refs == {"STATEWAVE_DATABASE_URL": {"name": "statewave-database", "key": "STATEWAVE_DATABASE_URL"},
                    "STATEWAVE_LITELLM_API_KEY": {"name": "statewave-llm", "key": "STATEWAVE_LITELLM_API_KEY"},
                    "STATEWAVE_API_KEY": {"name": "statewave-api-key", "key": "STATEWAVE_API_KEY"}}
    assert not [e for e in env.values() if "value" in e and e["name"] in refs]

    # Helm's release record holds Secret names only.
    values = json.loads(helm(kubeconfig, ns, "get", "values", "statewave", "--all", "-o", "json"))
    dumped = json.dumps(values)
    for secret in (keys["api"], keys["llm"], password):
        assert secret not in dumped
    assert (values["database"]["url"], values["llm"]["apiKey"], values["auth"]["apiKey"]) == ("", "", "")
    assert (values["database"]["existingSecret"], values["llm"]["existingSecret"], values["auth"]["existingSecret"]) == (
        "statewave-database", "statewave-llm", "statewave-api-key")
