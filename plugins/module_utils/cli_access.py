# -*- coding: utf-8 -*-
# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Cluster access for the few steps that run the helm or kubectl CLI (rollback, history, hook
status, pending-release recovery, port-forward), from the same settings the kubernetes.core
modules read: the module parameters, else AWX's K8S_AUTH_* variables.

Pure: it decides the environment for the CLI and, with a bearer token, the content of a
kubeconfig that carries it. Writing that file (mode 0600, in a private directory) and removing
it is the module's job (plugins/modules/cli_kubeconfig.py). The returned environment never holds
the token: Ansible prints a task's environment at -vvv.
"""

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

import os

from ansible.module_utils.basic import env_fallback

CONTEXT_NAME = 'statewave-cli'

# The access options of the collection's modules, as the kubernetes.core modules take them (same names,
# same K8S_AUTH_* fallbacks). Here, not in k8s_access, so that a module that only builds the CLI's
# environment (cli_kubeconfig) does not import the Kubernetes client.
ACCESS_ARGUMENT_SPEC = dict(
    kubeconfig=dict(type='path', fallback=(env_fallback, ['K8S_AUTH_KUBECONFIG'])),
    context=dict(type='str', fallback=(env_fallback, ['K8S_AUTH_CONTEXT'])),
    host=dict(type='str', fallback=(env_fallback, ['K8S_AUTH_HOST'])),
    api_key=dict(type='str', no_log=True, fallback=(env_fallback, ['K8S_AUTH_API_KEY'])),
    ca_cert=dict(type='path', aliases=['ssl_ca_cert'], fallback=(env_fallback, ['K8S_AUTH_SSL_CA_CERT'])),
    validate_certs=dict(type='bool', aliases=['verify_ssl'], fallback=(env_fallback, ['K8S_AUTH_VERIFY_SSL'])),
)
ACCESS_REQUIRED_BY = {'api_key': 'host'}


class CliAccessError(ValueError):
    pass


def cli_access(namespace, kubeconfig=None, context=None, host=None, api_key=None, ca_cert=None, validate_certs=None):
    """Return (environment, kubeconfig_content).

    kubeconfig_content is None unless a bearer token is given: then it is the kubeconfig (a dict)
    to write, and the environment's KUBECONFIG must be set to the written file by the caller.
    """
    if not namespace:
        raise CliAccessError('namespace is empty: pass the release namespace (statewave_namespace)')
    env = {'HELM_NAMESPACE': namespace}
    if api_key:
        if not host:
            raise CliAccessError(
                'a bearer token is set (api_key / K8S_AUTH_API_KEY) but no API server URL (host / K8S_AUTH_HOST): '
                'the token needs the server it belongs to')
        cluster = {'server': host}
        if validate_certs is False:
            cluster['insecure-skip-tls-verify'] = True
        elif ca_cert:
            cluster['certificate-authority'] = os.path.abspath(os.path.expanduser(ca_cert))
        name = context or CONTEXT_NAME
        content = {
            'apiVersion': 'v1',
            'kind': 'Config',
            'clusters': [{'name': name, 'cluster': cluster}],
            'users': [{'name': name, 'user': {'token': api_key}}],
            'contexts': [{'name': name, 'context': {'cluster': name, 'user': name, 'namespace': namespace}}],
            'current-context': name,
        }
        return env, content
    if kubeconfig:
        env['KUBECONFIG'] = os.path.expanduser(kubeconfig)
    if context:
        env['HELM_KUBECONTEXT'] = context
    if host:
        env['HELM_KUBEAPISERVER'] = host
    if ca_cert:
        env['HELM_KUBECAFILE'] = ca_cert
    if validate_certs is False:
        env['HELM_KUBEINSECURE_SKIP_TLS_VERIFY'] = 'true'
    return env, None
