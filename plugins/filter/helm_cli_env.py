# -*- coding: utf-8 -*-
# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
name: helm_cli_env
short_description: Cluster access for helm CLI steps, as non-secret environment variables
version_added: 0.1.0
author: Statewave collection maintainers
description:
  - Builds the environment for the few steps that run the helm CLI (pending-release recovery,
    history, rollback, status), from the inventory's kubeconfig and context or from AWX's
    Kubernetes credential variables (C(K8S_AUTH_KUBECONFIG), C(K8S_AUTH_CONTEXT),
    C(K8S_AUTH_HOST), C(K8S_AUTH_SSL_CA_CERT)) in the controller's environment.
  - It never returns a token. Ansible prints a task's environment in C(-vvv) output, so a bearer
    token must reach helm through the controller's own environment (C(HELM_KUBETOKEN)), which
    the helm process inherits without it being printed, or through a kubeconfig.
  - Empty settings are left out, so helm falls back to its own defaults.
options:
  _input:
    description: Namespace of the release (C(HELM_NAMESPACE)).
    type: str
    required: true
  kubeconfig:
    description: Path of a kubeconfig; empty uses C(K8S_AUTH_KUBECONFIG), then C(KUBECONFIG).
    type: str
    default: ""
  context:
    description: kubeconfig context; empty uses C(K8S_AUTH_CONTEXT).
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: Read the release history with the inventory's cluster access
  ansible.builtin.command:
    argv: [helm, history, statewave, --output, json]
  environment: "{{ statewave_namespace | statewave.kubernetes.helm_cli_env(statewave_kubeconfig, statewave_kube_context) }}"
  changed_when: false
"""

RETURN = r"""
_value:
  description: Environment variables for helm (only the non-empty ones, never a token).
  type: dict
  sample: {"KUBECONFIG": "/home/ops/.kube/prod", "HELM_KUBECONTEXT": "prod-eu", "HELM_NAMESPACE": "statewave"}
"""

import os

from ansible.errors import AnsibleFilterError


def helm_cli_env(namespace, kubeconfig="", context="", environ=None):
    env = os.environ if environ is None else environ
    if not namespace:
        raise AnsibleFilterError("helm_cli_env: the namespace (filter input) is empty; pass statewave_namespace")
    values = {
        "KUBECONFIG": kubeconfig or env.get("K8S_AUTH_KUBECONFIG", "") or env.get("KUBECONFIG", ""),
        "HELM_KUBECONTEXT": context or env.get("K8S_AUTH_CONTEXT", ""),
        "HELM_KUBEAPISERVER": env.get("K8S_AUTH_HOST", ""),
        "HELM_KUBECAFILE": env.get("K8S_AUTH_SSL_CA_CERT", ""),
        "HELM_NAMESPACE": namespace,
    }
    return dict((key, value) for key, value in values.items() if value)


class FilterModule(object):
    def filters(self):
        return {"helm_cli_env": helm_cli_env}
