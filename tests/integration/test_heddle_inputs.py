# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Heddle's inputs are checked before anything changes, on a first deploy: site.yml with the
local inventory (kwok), Heddle enabled beside Statewave, new namespaces and a new database name;
each bad input fails with a message naming the variable, and afterwards neither namespace, no
Helm release and no database exist. And the API key stays out of -vvv output and Helm's record."""

from __future__ import annotations

import re
import subprocess
import uuid

import pytest

from helpers import folded as out, recap
from inputs_helpers import nothing_exists

from conftest import ROOT

PROCESSOR = {"worker_kind": "processor", "processing_backend": "heddle.contrib.subprocess.SubprocessBackend",
             "backend_config": {"command": ["tr", "a-z", "A-Z"], "io_mode": "stdin_stdout"}}


def first_deploy_vars(suffix):
    return {
        "heddle_enabled": True, "heddle_namespace": "swk-hd-" + suffix, "heddle_release_name": "heddle",
        "heddle_image_repository": "registry.example.com/ai/heddle",
        "heddle_workers": [{"name": "upper", "config": dict(PROCESSOR)}],
        "statewave_namespace": "swk-hs-" + suffix, "pgvector_app_database": "swk_hd_" + suffix,
        "preflight_db_name": "swk_hd_" + suffix,
    }


BAD = [
    ({"heddle_workers": [{"name": "upper"}]}, "heddle_workers[0].config: None is missing"),
    ({"heddle_workers": [{"name": "upper", "config": PROCESSOR}, {"name": "upper", "config": PROCESSOR}]},
     "heddle_workers[1].name: 'upper' is used by heddle_workers[0].name too"),
    ({"heddle_valkey_storage_size": "ten gigs"}, "heddle_valkey_storage_size: 'ten gigs' is not a Kubernetes storage quantity"),
    ({"heddle_workshop_storage_size": "1 GB"}, "heddle_workshop_storage_size: '1 GB' is not a Kubernetes storage quantity"),
    ({"heddle_workers": [{"name": "upper", "config": {"worker_kind": "processor"}}]},
     "heddle_workers[0].config.processing_backend: None is not a dotted Python class path"),
    ({"heddle_workers": [{"name": "upper", "config": PROCESSOR, "tier": "premium"}]},
     "heddle_workers[0].tier: 'premium' is not one of local, standard, frontier"),
    ({"heddle_image_repository": ""}, "heddle_image_repository: '' is empty: upstream publishes no Heddle image"),
    ({"heddle_nats_client_port": 70000}, "heddle_nats_client_port: 70000 is not a whole number from 1 to 65535"),
    ({"heddle_valkey_maxmemory_policy": "lru"}, "heddle_valkey_maxmemory_policy: 'lru' is not a Valkey eviction policy"),
    ({"heddle_namespace": "Heddle_NS"}, "heddle_namespace: 'Heddle_NS' is not a DNS label"),
    ({"heddle_workshop_ingress_enabled": True, "heddle_workshop_ingress_host": "heddle.example.com",
      "heddle_workshop_ingress_controller": "ingress-nginx"}, "heddle_workshop_ingress_enabled: True would publish the workshop without a token"),
    ({"heddle_api_key_secret_name": "no-such-secret"},
     "heddle_api_key_secret_name: Secret 'no-such-secret' does not exist in namespace"),
    ({"heddle_worker_list": []}, "heddle_worker_list: is not a variable of the heddle role"),
]


@pytest.mark.parametrize("overrides, expected", BAD, ids=[b[1].split(":")[0] for b in BAD])
def test_bad_heddle_input_fails_before_anything_changes(run_playbook, kubectl, kubeconfig, local_postgres, overrides, expected):
    extra = dict(first_deploy_vars(uuid.uuid4().hex[:6]), **overrides)
    if extra["heddle_namespace"] == "Heddle_NS":
        extra["statewave_namespace"] = "swk-hs-" + uuid.uuid4().hex[:6]
    proc = run_playbook(ROOT / "playbooks/site.yml", extra_vars=extra, inventory=ROOT / "inventories/local")
    assert proc.returncode != 0
    text = out(proc)
    assert expected in text, proc.stdout[-3000:]
    assert "Input check, nothing was changed. Fix these and run again:" in text
    # The message is the role's own (each problem starts with the variable), no template-error wrapper.
    assert "Finalization of task args" not in text
    assert re.search(r"[0-9]+\. \[heddle\] heddle_", text), proc.stdout[-3000:]
    assert recap(proc)["changed"] == 0
    nothing_exists(kubectl, kubeconfig, local_postgres, extra)


def test_every_bad_input_is_reported_in_one_run(run_playbook, kubectl, kubeconfig, local_postgres):
    extra = dict(first_deploy_vars(uuid.uuid4().hex[:6]), heddle_valkey_storage_size="lots",
                 heddle_workers=[{"name": "upper"}], heddle_local_backend="vllm")
    proc = run_playbook(ROOT / "playbooks/site.yml", extra_vars=extra, inventory=ROOT / "inventories/local")
    text = out(proc)
    for variable in ("heddle_valkey_storage_size:", "heddle_workers[0].config:", "heddle_local_backend:"):
        assert variable in text, proc.stdout[-3000:]
    nothing_exists(kubectl, kubeconfig, local_postgres, extra)


def test_api_key_stays_out_of_vvv_output_and_helm_record(run_playbook, kubectl, kubeconfig):
    """The key only by Secret name: -vvv of a run that reads the Secret (validate), renders and installs the
    release and fails (kwok binds no PVC, so Helm's wait ends at its timeout and the failure is explained)
    never shows the value; nor do Helm's stored values and manifest."""
    suffix = uuid.uuid4().hex[:6]
    ns = "swk-hk-" + suffix
    canary = "sk-ant-canary-" + uuid.uuid4().hex
    token = "workshop-canary-" + uuid.uuid4().hex
    kubectl("create", "namespace", ns)
    try:
        kubectl("-n", ns, "create", "secret", "generic", "anthropic", "--from-literal=anthropic-api-key=" + canary)
        kubectl("-n", ns, "create", "secret", "generic", "workshop", "--from-literal=token=" + token)
        extra = dict(first_deploy_vars(suffix), heddle_namespace=ns, heddle_api_key_secret_name="anthropic",
                     heddle_workshop_token_secret_name="workshop", heddle_helm_timeout_seconds=15)
        proc = run_playbook("heddle.yml", extra_vars=extra, inventory=ROOT / "inventories/local", verbosity=3)
        assert "Install or upgrade release heddle" in proc.stdout
        assert canary not in proc.stdout and token not in proc.stdout
        assert "anthropic" in proc.stdout  # the Secret's name is there, its value is not
        for what in ("values", "manifest"):
            got = subprocess.run(["helm", "get", what, "heddle", "-n", ns, "--kubeconfig", str(kubeconfig)],
                                 stdout=subprocess.PIPE, text=True, check=True).stdout
            assert canary not in got and token not in got
            assert "anthropic" in got
    finally:
        subprocess.run(["helm", "uninstall", "heddle", "-n", ns, "--kubeconfig", str(kubeconfig)], check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        kubectl("delete", "namespace", ns, "--wait=false", check=False)
