# -*- coding: utf-8 -*-
# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
name: deployer_rbac
author: statewave.kubernetes contributors
version_added: 0.1.0
short_description: The least-privilege RBAC objects for the identity that runs this collection's playbooks
description:
  - Returns a ServiceAccount, a namespace Role and its RoleBinding, and a ClusterRole and its ClusterRoleBinding
    for the features chosen. The Role holds everything namespaced (Secrets, the chart's kinds, Jobs, the ingress
    role's objects, CloudNativePG resources); the ClusterRole only reads IngressClasses and CRDs, which no Role can grant.
  - The same rules are what the preflight role checks (filter P(statewave.kubernetes.deployer_access_missing#filter)).
  - Features C(core) and C(cluster_reads) are always included; add C(ingress_objects), C(cnpg), C(standalone) and
    C(port_forward) as the inventory uses them.
positional: service_account, features
options:
  _input:
    description: Namespace of the release; the Role, RoleBinding and ServiceAccount go there.
    type: str
    required: true
  service_account:
    description: Name of the ServiceAccount that runs the playbooks.
    type: str
    default: statewave-deployer
  features:
    description: Features to grant besides C(core) and C(cluster_reads).
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Create the deployer's ServiceAccount and RBAC (as a cluster administrator)
  kubernetes.core.k8s:
    definition: "{{ 'statewave' | statewave.kubernetes.deployer_rbac('statewave-deployer', ['ingress_objects', 'port_forward']) }}"
"""

RETURN = r"""
_value:
  description: The objects, ready for kubernetes.core.k8s.
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.statewave.kubernetes.plugins.module_utils.deployer_access import DeployerAccessError, manifests


def deployer_rbac(namespace, service_account='statewave-deployer', features=None):
    try:
        return manifests(namespace, service_account=service_account, features=features or [])
    except DeployerAccessError as exc:
        raise AnsibleFilterError('deployer_rbac: %s' % exc)


class FilterModule(object):
    def filters(self):
        return {'deployer_rbac': deployer_rbac}
