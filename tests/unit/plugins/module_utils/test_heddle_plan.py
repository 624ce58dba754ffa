# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The heddle role's input check and chart values (module_utils/heddle_plan.py): each bad input
gives a message naming the operator's variable, the value, the condition and the fix; good input
gives the values the chart templates."""

import copy
from pathlib import Path

import pytest
import yaml

from ansible_collections.statewave.kubernetes.plugins.module_utils.heddle_plan import TIER_RESOURCES, plan

ROOT = Path(__file__).resolve().parents[4]
DEFAULTS = yaml.safe_load((ROOT / "roles/heddle/defaults/main.yml").read_text())
PROCESSOR = {
    "worker_kind": "processor",
    "processing_backend": "heddle.contrib.subprocess.SubprocessBackend",
    "backend_config": {"command": ["tr", "a-z", "A-Z"], "io_mode": "stdin_stdout"},
}


def inputs(**over):
    base = {k: v for k, v in copy.deepcopy(DEFAULTS).items() if not (isinstance(v, str) and "{{" in v)}
    base.update(heddle_image_repository="registry.example.com/ai/heddle",
                heddle_workers=[{"name": "upper", "config": dict(PROCESSOR)}])
    base.update(over)
    return base


def test_good_inputs_give_values_and_actors():
    result = plan(inputs(heddle_workers=[
        {"name": "upper", "config": dict(PROCESSOR)},
        {"name": "sum_up", "config": {"system_prompt": "Summarise.", "default_model_tier": "standard"},
         "autoscaling": {"enabled": True, "min_replicas": 1, "max_replicas": 3}},
    ]))
    assert result["errors"] == []
    workers = result["values"]["workers"]
    assert [(w["name"], w["kind"], w["tier"]) for w in workers] == [("upper", "processor", "local"), ("sum_up", "worker", "standard")]
    # the config's name is the entry's name (the subject heddle.tasks.<name>.<tier>)
    assert workers[1]["config"]["name"] == "sum_up"
    # the seed's per-tier resources by default
    assert workers[0]["resources"] == TIER_RESOURCES["local"]
    assert workers[1]["resources"] == TIER_RESOURCES["standard"]
    assert workers[1]["autoscaling"] == {"enabled": True, "minReplicas": 1, "maxReplicas": 3, "targetCPUUtilizationPercentage": 70}
    assert [a["deployment"] for a in result["actors"]] == ["heddle-router", "heddle-orchestrator", "heddle-worker-upper", "heddle-worker-sum-up"]
    assert result["e2e_worker"] == "upper" and result["e2e_tier"] == "local"
    assert result["values"]["image"]["repository"] == "registry.example.com/ai/heddle"
    assert result["values"]["valkey"]["maxmemoryPolicy"] == "noeviction"


def test_worker_config_as_yaml_text_is_parsed():
    text = "worker_kind: processor\nprocessing_backend: a.b.C\n"
    result = plan(inputs(heddle_workers=[{"name": "p", "config": text}]))
    assert result["errors"] == []
    assert result["values"]["workers"][0]["config"] == {"worker_kind": "processor", "processing_backend": "a.b.C", "name": "p"}


BAD = [
    # (overrides, the variable named, words of the condition)
    ({"heddle_workers": [{"name": "upper"}]}, "heddle_workers[0].config", "is missing"),
    ({"heddle_workers": [{"name": "upper", "config": dict(PROCESSOR)}, {"name": "upper", "config": dict(PROCESSOR)}]},
     "heddle_workers[1].name", "is used by heddle_workers[0].name too"),
    ({"heddle_workers": [{"name": "a_b", "config": dict(PROCESSOR)}, {"name": "a-b", "config": dict(PROCESSOR)}]},
     "heddle_workers[1].name", "same Deployment name"),
    ({"heddle_valkey_storage_size": "lots"}, "heddle_valkey_storage_size", "is not a Kubernetes storage quantity"),
    ({"heddle_workshop_storage_size": "1 GB"}, "heddle_workshop_storage_size", "is not a Kubernetes storage quantity"),
    ({"heddle_workers": [{"name": "Upper!", "config": dict(PROCESSOR)}]}, "heddle_workers[0].name", "is not a worker name"),
    ({"heddle_workers": [{"name": "upper", "config": dict(PROCESSOR), "tier": "premium"}]}, "heddle_workers[0].tier", "is not one of"),
    ({"heddle_workers": [{"name": "upper", "config": {"system_prompt": 3}}]}, "heddle_workers[0].config.system_prompt", "is missing"),
    ({"heddle_workers": [{"name": "upper", "config": {"worker_kind": "processor"}}]},
     "heddle_workers[0].config.processing_backend", "dotted Python class path"),
    ({"heddle_workers": [{"name": "upper", "config": dict(PROCESSOR, name="other")}]}, "heddle_workers[0].config.name", "differs from"),
    ({"heddle_workers": [{"name": "upper", "config": "a: [b"}]}, "heddle_workers[0].config", "is not valid YAML"),
    ({"heddle_workers": [{"name": "upper", "config": dict(PROCESSOR), "replicas": -1}]}, "heddle_workers[0].replicas", "is not a whole number"),
    ({"heddle_workers": [{"name": "upper", "config": dict(PROCESSOR), "resources": {"requests": {"cpu": "lots"}}}]},
     "heddle_workers[0].resources.requests.cpu", "is not a Kubernetes quantity"),
    ({"heddle_workers": [{"name": "upper", "config": dict(PROCESSOR), "autoscaling": {"enabled": True, "min_replicas": 3, "max_replicas": 2}}]},
     "heddle_workers[0].autoscaling.max_replicas", "is below"),
    ({"heddle_workers": [{"name": "upper", "config": dict(PROCESSOR), "replica": 2}]}, "heddle_workers[0]", "are not keys of a worker entry"),
    ({"heddle_workers": "upper"}, "heddle_workers", "is not a list"),
    ({"heddle_image_repository": ""}, "heddle_image_repository", "upstream publishes no Heddle image"),
    ({"heddle_image_tag": "0.9.2@sha256"}, "heddle_image_tag", "is not an image tag"),
    ({"heddle_nats_image_digest": "sha256:abc"}, "heddle_nats_image_digest", "is not an image digest"),
    ({"heddle_valkey_image_pull_policy": "Sometimes"}, "heddle_valkey_image_pull_policy", "is not one of"),
    ({"heddle_namespace": "Heddle"}, "heddle_namespace", "is not a DNS label"),
    ({"heddle_nats_monitor_port": 4222}, "heddle_nats_monitor_port", "same port"),
    ({"heddle_nats_client_port": 70000}, "heddle_nats_client_port", "is not a whole number from 1 to 65535"),
    ({"heddle_valkey_maxmemory": "lots"}, "heddle_valkey_maxmemory", "is not a Valkey memory size"),
    ({"heddle_valkey_maxmemory_policy": "lru"}, "heddle_valkey_maxmemory_policy", "is not a Valkey eviction policy"),
    ({"heddle_ollama_url": "ollama:11434"}, "heddle_ollama_url", "is not an http:// or https:// URL"),
    ({"heddle_local_backend": "vllm"}, "heddle_local_backend", "is not lmstudio, ollama"),
    ({"heddle_api_key_secret_name": "Bad_Name"}, "heddle_api_key_secret_name", "is not a Secret name"),
    ({"heddle_orchestrator_config": {"name": "default"}}, "heddle_orchestrator_config.system_prompt", "is missing"),
    ({"heddle_pipelines": [{"name": "p", "config": {"pipeline_stages": []}}]}, "heddle_pipelines[0].config.pipeline_stages", "non-empty"),
    ({"heddle_workshop_ingress_enabled": True, "heddle_workshop_ingress_host": "heddle.example.com",
      "heddle_workshop_ingress_controller": "ingress-nginx"}, "heddle_workshop_ingress_enabled", "without a token"),
    ({"heddle_workshop_ingress_enabled": True, "heddle_workshop_ingress_host": "heddle.example.com",
      "heddle_workshop_allow_unauthenticated": True, "heddle_workshop_ingress_controller": "alb",
      "heddle_workshop_ingress_timeout": 5000}, "heddle_workshop_ingress_timeout", "maximum"),
    ({"heddle_verify_e2e_worker": "nobody"}, "heddle_verify_e2e_worker", "is not the name of an entry"),
    ({"heddle_extra_env": [{"name": "OPENAI_API_KEY", "value": "sk-x"}]}, "heddle_extra_env", "credentials as plain values"),
]


@pytest.mark.parametrize("over,var,condition", BAD, ids=[b[1] + ":" + b[2][:20] for b in BAD])
def test_bad_input_names_the_variable(over, var, condition):
    result = plan(inputs(**over))
    assert result["values"] is None
    mine = [e for e in result["errors"] if e.startswith(var + ":")]
    assert mine, result["errors"]
    assert condition in mine[0], mine[0]
    # the value, the condition and a fix, separated by "; "
    assert ";" in mine[0]


def test_every_problem_is_reported_in_one_run():
    result = plan(inputs(heddle_namespace="X", heddle_valkey_storage_size="lots", heddle_workers=[{"name": "u"}]))
    named = {e.split(":")[0] for e in result["errors"]}
    assert {"heddle_namespace", "heddle_valkey_storage_size", "heddle_workers[0].config"} <= named
