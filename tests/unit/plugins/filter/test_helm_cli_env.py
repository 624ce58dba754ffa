# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.statewave.kubernetes.plugins.filter.helm_cli_env import helm_cli_env

AWX = {
    "K8S_AUTH_HOST": "https://api.prod.example:6443",
    "K8S_AUTH_API_KEY": "token-abc123",
    "K8S_AUTH_SSL_CA_CERT": "/runner/ca.crt",
    "KUBECONFIG": "/home/ops/.kube/config",
}


def test_inventory_settings_win_over_the_environment():
    env = helm_cli_env("prod", "/k/prod.yaml", "prod-eu", environ=AWX)
    assert env["KUBECONFIG"] == "/k/prod.yaml"
    assert env["HELM_KUBECONTEXT"] == "prod-eu"
    assert env["HELM_NAMESPACE"] == "prod"


def test_awx_credential_variables_are_mapped_but_never_the_token():
    env = helm_cli_env("prod", environ=AWX)
    assert env["HELM_KUBEAPISERVER"] == "https://api.prod.example:6443"
    assert env["HELM_KUBECAFILE"] == "/runner/ca.crt"
    assert env["KUBECONFIG"] == "/home/ops/.kube/config"
    assert "token-abc123" not in env.values()
    assert "HELM_KUBETOKEN" not in env


def test_k8s_auth_kubeconfig_and_context_come_before_kubeconfig():
    env = helm_cli_env("ns", environ=dict(AWX, K8S_AUTH_KUBECONFIG="/awx/kc", K8S_AUTH_CONTEXT="awx"))
    assert env["KUBECONFIG"] == "/awx/kc" and env["HELM_KUBECONTEXT"] == "awx"


def test_empty_settings_are_left_out():
    assert helm_cli_env("ns", environ={}) == {"HELM_NAMESPACE": "ns"}


def test_empty_namespace_is_an_error_naming_the_variable():
    with pytest.raises(AnsibleFilterError, match="statewave_namespace"):
        helm_cli_env("", environ={})
