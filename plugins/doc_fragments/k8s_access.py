# -*- coding: utf-8 -*-
# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type


class ModuleDocFragment(object):
    """Cluster access of the collection's own Kubernetes modules (module_utils k8s_access)."""

    DOCUMENTATION = r'''
options:
  kubeconfig:
    description: Path of a kubeconfig. Falls back to C(K8S_AUTH_KUBECONFIG), then the default kubeconfig or the
      in-cluster service account.
    type: path
  context:
    description: kubeconfig context. Falls back to C(K8S_AUTH_CONTEXT).
    type: str
  host:
    description: URL of the Kubernetes API server (with O(api_key)). Falls back to C(K8S_AUTH_HOST).
    type: str
  api_key:
    description: Bearer token. Falls back to C(K8S_AUTH_API_KEY).
    type: str
  ca_cert:
    description: CA certificate of the API server. Falls back to C(K8S_AUTH_SSL_CA_CERT).
    type: path
    aliases: [ssl_ca_cert]
  validate_certs:
    description: Whether to check the API server's certificate. Falls back to C(K8S_AUTH_VERIFY_SSL).
    type: bool
    aliases: [verify_ssl]
'''
