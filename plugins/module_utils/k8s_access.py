# -*- coding: utf-8 -*-
# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Cluster access of the collection's own Kubernetes modules, as the kubernetes.core modules take it
(the same option names and K8S_AUTH_* environment fallbacks, AWX's bearer-token credential).
Documented by the doc fragment statewave.kubernetes.k8s_access."""

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

import traceback

from ansible_collections.statewave.kubernetes.plugins.module_utils.cli_access import (  # pylint: disable=unused-import
    ACCESS_ARGUMENT_SPEC, ACCESS_REQUIRED_BY)

KUBERNETES_IMPORT_ERROR = None
try:
    # The modules take ApiException and k8s_client from here.
    from kubernetes import client as k8s_client
    from kubernetes import config as k8s_config
    from kubernetes.client.rest import ApiException  # pylint: disable=unused-import
except ImportError:
    KUBERNETES_IMPORT_ERROR = traceback.format_exc()
    k8s_client = k8s_config = None
    ApiException = Exception


def api_client(params):
    """An ApiClient from the module's access parameters (as kubernetes.core reads them)."""
    if params['api_key']:
        configuration = k8s_client.Configuration()
        configuration.host = params['host']
        configuration.api_key = {'authorization': 'Bearer %s' % params['api_key']}
        configuration.verify_ssl = params['validate_certs'] is not False
        if params['ca_cert']:
            configuration.ssl_ca_cert = params['ca_cert']
        return k8s_client.ApiClient(configuration)
    try:
        return k8s_config.new_client_from_config(config_file=params['kubeconfig'], context=params['context'])
    except k8s_config.ConfigException:
        if params['kubeconfig']:
            raise
        k8s_config.load_incluster_config()
        return k8s_client.ApiClient()
