#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

DOCUMENTATION = r'''
module: pods_info
short_description: Read what runs behind a workload (its pods, their nodes, restarts and images) in one call
version_added: 0.1.0
description:
  - Lists the pods of O(namespace) that match every selector of O(label_selectors), and the cluster's nodes, with one
    Kubernetes client in one module run (the two C(kubernetes.core.k8s_info) reads it replaces cost a module run
    each), and returns what the pods show in RV(summary).
  - Pods being deleted (with a C(deletionTimestamp)) do not count.
  - kwok (a control plane that only simulates pods) marks the nodes it manages with the annotation
    C(kwok.x-k8s.io/node); RV(summary.simulated) is true when every pod sits on such a node, so no container ran.
  - An identity that may not list nodes still gets the summary, with RV(summary.nodes_known=false).
  - It only reads.
author:
  - Statewave collection maintainers (@statewave)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - statewave.kubernetes.k8s_access
attributes:
  check_mode:
    support: full
    details: It only reads, in check mode as in a normal run.
  diff_mode:
    support: none
  platform:
    platforms: posix
requirements:
  - kubernetes (Python)
options:
  namespace:
    description: Namespace of the pods.
    type: str
    required: true
  label_selectors:
    description: Label selectors (C(key=value) or any selector the API takes); a pod must match every one.
    type: list
    elements: str
    default: []
notes:
  - The summary is a pure function in the collection's module_utils C(pod_summary), unit-tested.
'''

EXAMPLES = r'''
- name: Read what runs behind the release
  statewave.kubernetes.pods_info:
    namespace: statewave
    label_selectors:
      - app.kubernetes.io/instance=statewave
      - app.kubernetes.io/component=api
  register: behind

- name: Say whether a kubelet ran them
  ansible.builtin.debug:
    msg: "{{ behind.summary.ready }} ready container(s){{ ' (simulated)' if behind.summary.simulated else '' }}"
'''

RETURN = r'''
summary:
  description: What the pods show.
  returned: always
  type: dict
  contains:
    pods:
      description: Names of the pods (not being deleted).
      type: list
      elements: str
      sample: [statewave-6d8f9c7b5-x2x4q]
    nodes:
      description: Names of the nodes they run on, each once.
      type: list
      elements: str
      sample: [worker-1]
    nodes_known:
      description: Whether the nodes could be read.
      type: bool
      sample: true
    simulated:
      description: Whether every pod sits on a node kwok manages (no container ran).
      type: bool
      sample: false
    restarts:
      description: Restarts of all their containers.
      type: int
      sample: 0
    images:
      description: The containers' images, each once.
      type: list
      elements: str
      sample: [statewavedev/statewave:1.5.0]
    image_ids:
      description: The containers' image IDs (digests), each once.
      type: list
      elements: str
      sample: ["docker.io/statewavedev/statewave@sha256:0123..."]
    ready:
      description: How many containers are ready.
      type: int
      sample: 2
nodes_error:
  description: Why the nodes could not be read (RV(summary.nodes_known=false)).
  returned: when the nodes could not be read
  type: str
  sample: "(403) Forbidden"
'''

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.statewave.kubernetes.plugins.module_utils.k8s_access import (
    ACCESS_ARGUMENT_SPEC, ACCESS_REQUIRED_BY, KUBERNETES_IMPORT_ERROR, ApiException, api_client, k8s_client)
from ansible_collections.statewave.kubernetes.plugins.module_utils.pod_summary import summarize


def read(api, namespace, label_selectors):
    """(pods, nodes, nodes_error) as plain dicts; nodes is None when they could not be read."""
    core = k8s_client.CoreV1Api(api)
    plain = api.sanitize_for_serialization
    pods = plain(core.list_namespaced_pod(namespace, label_selector=','.join(label_selectors))).get('items') or []
    try:
        return pods, plain(core.list_node()).get('items') or [], None
    except ApiException as exc:
        return pods, None, ('(%s) %s' % (exc.status, exc.reason)) if getattr(exc, 'status', None) else str(exc)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            namespace=dict(type='str', required=True),
            label_selectors=dict(type='list', elements='str', default=[]),
            **ACCESS_ARGUMENT_SPEC
        ),
        required_by=ACCESS_REQUIRED_BY,
        supports_check_mode=True,
    )
    if KUBERNETES_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib('kubernetes'), exception=KUBERNETES_IMPORT_ERROR)
    namespace = module.params['namespace']
    try:
        pods, nodes, nodes_error = read(api_client(module.params), namespace, module.params['label_selectors'])
    except Exception as exc:  # pylint: disable=broad-except
        module.fail_json(msg='Could not list the pods of namespace %s (%s): %s'
                         % (namespace, ', '.join(module.params['label_selectors']) or 'all', exc))
    result = dict(changed=False, summary=summarize(pods, nodes))
    if nodes_error:
        result['nodes_error'] = nodes_error
    module.exit_json(**result)


if __name__ == '__main__':
    main()
