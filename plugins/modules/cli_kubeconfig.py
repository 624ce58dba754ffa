#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

DOCUMENTATION = r'''
module: cli_kubeconfig
short_description: Cluster access for the helm and kubectl CLI, with a bearer token kept off every command line
version_added: 0.1.0
description:
  - A few steps can only run the helm or kubectl CLI (helm rollback and history, the hook status of a release,
    recovering a pending release, kubectl port-forward). This module gives them the same cluster access the
    kubernetes.core modules use, from the same parameters, which fall back to the C(K8S_AUTH_*) environment
    variables that AWX's built-in I(OpenShift or Kubernetes API Bearer Token) credential injects.
  - With a bearer token (O(api_key), C(K8S_AUTH_API_KEY)) it writes a kubeconfig holding the server, the CA file
    and the token to a new private directory (mode 0700, the file 0600) and returns C(KUBECONFIG) pointing at it.
    The token never appears in the returned environment, a task's arguments or its output. Remove the directory
    after the CLI step with O(state=absent), in an C(always) block.
  - Without a token it writes nothing and returns the settings as helm's environment variables (C(KUBECONFIG),
    C(HELM_KUBECONTEXT), C(HELM_KUBEAPISERVER), C(HELM_KUBECAFILE), C(HELM_KUBEINSECURE_SKIP_TLS_VERIFY)); unset
    ones are left out so that helm falls back to its own defaults.
  - It reports no change, since the file is scratch on the controller, not a change to the cluster.
author:
  - Statewave collection maintainers (@statewave)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Writes and removes the scratch kubeconfig in check mode too, so that read-only CLI steps can run.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  state:
    description:
      - V(present) returns the environment (and writes the kubeconfig when a token is given).
      - V(absent) removes the directory given in O(path) (a RV(kubeconfig_dir) of an earlier call).
    type: str
    choices: [present, absent]
    default: present
  namespace:
    description: Namespace of the release, returned as C(HELM_NAMESPACE) and set in the written kubeconfig's context.
    type: str
  kubeconfig:
    description:
      - Path of a kubeconfig. Falls back to C(K8S_AUTH_KUBECONFIG). Ignored when a bearer token is given.
    type: path
  context:
    description:
      - kubeconfig context. Falls back to C(K8S_AUTH_CONTEXT). With a token, the name of the written context.
    type: str
  host:
    description: URL of the Kubernetes API server. Falls back to C(K8S_AUTH_HOST).
    type: str
  api_key:
    description:
      - Bearer token. Falls back to C(K8S_AUTH_API_KEY). Leave it to the environment rather than passing it, so that
        it is in no task's arguments.
    type: str
  ca_cert:
    description: Path of the CA certificate of the API server. Falls back to C(K8S_AUTH_SSL_CA_CERT).
    type: path
    aliases: [ssl_ca_cert]
  validate_certs:
    description: Whether to check the API server's certificate. Falls back to C(K8S_AUTH_VERIFY_SSL).
    type: bool
    aliases: [verify_ssl]
  path:
    description: With O(state=absent), the directory to remove (RV(kubeconfig_dir)). Empty does nothing.
    type: path
notes:
  - Only a directory this module created (its name starts with C(statewave-cli-)) is removed.
  - A run killed before its C(always) block leaves the directory in the controller's temporary directory; in AWX the
    execution environment's container goes with the job.
'''

EXAMPLES = r'''
- name: Roll back with the helm CLI
  block:
    - name: Give the helm CLI the cluster access (AWX's bearer token goes into a short-lived kubeconfig)
      statewave.kubernetes.cli_kubeconfig:
        namespace: statewave
        kubeconfig: "{{ statewave_kubeconfig | default(omit, true) }}"
        context: "{{ statewave_kube_context | default(omit, true) }}"
      register: cli

    - name: Roll back to revision 3
      ansible.builtin.command:
        argv: [helm, rollback, statewave, "3", --wait]
      environment: "{{ cli.environment }}"
      changed_when: true
  always:
    - name: Remove the short-lived kubeconfig
      statewave.kubernetes.cli_kubeconfig:
        state: absent
        path: "{{ cli.kubeconfig_dir | default('') }}"
'''

RETURN = r'''
environment:
  description: Environment variables for the CLI step (never the token).
  returned: state is present
  type: dict
  sample: {"KUBECONFIG": "/tmp/statewave-cli-x1y2/kubeconfig", "HELM_NAMESPACE": "statewave"}
kubeconfig_dir:
  description: The private directory holding the written kubeconfig; empty when none was written.
  returned: always
  type: str
  sample: /tmp/statewave-cli-x1y2
token_kubeconfig:
  description: Whether a kubeconfig with a bearer token was written.
  returned: state is present
  type: bool
'''

import json
import os
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.statewave.kubernetes.plugins.module_utils.cli_access import ACCESS_ARGUMENT_SPEC, CliAccessError, cli_access

DIR_PREFIX = 'statewave-cli-'


def write_kubeconfig(content):
    """Write content to <new private dir>/kubeconfig (0700 / 0600); return the directory."""
    directory = tempfile.mkdtemp(prefix=DIR_PREFIX)
    path = os.path.join(directory, 'kubeconfig')
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, 'w') as handle:
        json.dump(content, handle)
    return directory


def remove(path):
    if not path:
        return ''
    if not os.path.basename(os.path.normpath(path)).startswith(DIR_PREFIX):
        raise CliAccessError('path %s is not a directory this module created (%s*); not removing it' % (path, DIR_PREFIX))
    shutil.rmtree(path, ignore_errors=True)
    return path


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            namespace=dict(type='str'),
            path=dict(type='path'),
            # No required_by: cli_access names the missing API server URL itself.
            **ACCESS_ARGUMENT_SPEC
        ),
        required_if=[('state', 'present', ['namespace'])],
        supports_check_mode=True,
    )
    p = module.params
    try:
        if p['state'] == 'absent':
            module.exit_json(changed=False, kubeconfig_dir=remove(p['path']))
        env, content = cli_access(p['namespace'], kubeconfig=p['kubeconfig'], context=p['context'], host=p['host'],
                                  api_key=p['api_key'], ca_cert=p['ca_cert'], validate_certs=p['validate_certs'])
    except CliAccessError as exc:
        module.fail_json(msg=str(exc))
    directory = ''
    if content is not None:
        directory = write_kubeconfig(content)
        env['KUBECONFIG'] = os.path.join(directory, 'kubeconfig')
    module.exit_json(changed=False, environment=env, kubeconfig_dir=directory, token_kubeconfig=content is not None)


if __name__ == '__main__':
    main()
