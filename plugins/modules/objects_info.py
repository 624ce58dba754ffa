#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

DOCUMENTATION = r'''
module: objects_info
short_description: List the objects of several kinds that match label selectors, in one call
version_added: 0.1.0
description:
  - Lists, in O(namespace), the objects of every kind in O(kinds) that match every selector of O(label_selectors),
    with one Kubernetes client in one module run. A loop of C(kubernetes.core.k8s_info) over the same kinds costs a
    module run (a Python process that imports the Kubernetes client) per kind.
  - A kind whose API the cluster does not serve (a CRD that is not installed) is skipped and reported with
    C(api_found=false), as C(kubernetes.core.k8s_info) reports it; any other error fails the module and names the kind.
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
  kinds:
    description: The kinds to list, each as C(api_version) (C(group/version), or C(v1)) and C(kind).
    type: list
    elements: dict
    required: true
    suboptions:
      api_version:
        description: API version of the kind.
        type: str
        required: true
      kind:
        description: The kind.
        type: str
        required: true
  namespace:
    description: Namespace of the objects.
    type: str
    required: true
  label_selectors:
    description: Label selectors (C(key=value) or any selector the API takes); an object must match every one.
    type: list
    elements: str
    default: []
'''

EXAMPLES = r'''
- name: Find the objects this collection made for the release
  statewave.kubernetes.objects_info:
    kinds:
      - {api_version: projectcontour.io/v1, kind: HTTPProxy}
      - {api_version: traefik.io/v1alpha1, kind: ServersTransport}
    namespace: statewave
    label_selectors:
      - app.kubernetes.io/managed-by=statewave.kubernetes
      - app.kubernetes.io/instance=statewave
  register: owned
'''

RETURN = r'''
resources:
  description: The objects found, of every kind in O(kinds), each with its C(apiVersion) and C(kind).
  returned: always
  type: list
  elements: dict
  sample: [{"apiVersion": "projectcontour.io/v1", "kind": "HTTPProxy", "metadata": {"name": "statewave"}}]
kinds:
  description: Each kind of O(kinds), whether the cluster serves it and how many objects were found.
  returned: always
  type: list
  elements: dict
  sample: [{"api_version": "projectcontour.io/v1", "kind": "HTTPProxy", "api_found": true, "count": 1}]
'''

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.statewave.kubernetes.plugins.module_utils.k8s_access import (
    ACCESS_ARGUMENT_SPEC, ACCESS_REQUIRED_BY, KUBERNETES_IMPORT_ERROR, api_client)

try:
    from kubernetes.dynamic import DynamicClient
    from kubernetes.dynamic.exceptions import ResourceNotFoundError
except ImportError:  # reported through KUBERNETES_IMPORT_ERROR
    DynamicClient = None
    ResourceNotFoundError = Exception


def list_objects(dynamic, kinds, namespace, label_selectors):
    """(resources, kinds with api_found and count); raises with the kind named on any other error."""
    selector = ','.join(label_selectors)
    resources, report = [], []
    for want in kinds:
        try:
            resource = dynamic.resources.get(api_version=want['api_version'], kind=want['kind'])
        except ResourceNotFoundError:
            report.append(dict(api_version=want['api_version'], kind=want['kind'], api_found=False, count=0))
            continue
        try:
            items = (dynamic.get(resource, namespace=namespace, label_selector=selector).to_dict().get('items') or [])
        except Exception as exc:
            raise RuntimeError('%s %s: %s' % (want['api_version'], want['kind'], exc))
        for item in items:  # list responses may leave out each item's apiVersion and kind
            item.setdefault('apiVersion', want['api_version'])
            item.setdefault('kind', want['kind'])
        resources.extend(items)
        report.append(dict(api_version=want['api_version'], kind=want['kind'], api_found=True, count=len(items)))
    return resources, report


def main():
    module = AnsibleModule(
        argument_spec=dict(
            kinds=dict(type='list', elements='dict', required=True,
                       options=dict(api_version=dict(type='str', required=True), kind=dict(type='str', required=True))),
            namespace=dict(type='str', required=True),
            label_selectors=dict(type='list', elements='str', default=[]),
            **ACCESS_ARGUMENT_SPEC
        ),
        required_by=ACCESS_REQUIRED_BY,
        supports_check_mode=True,
    )
    if KUBERNETES_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib('kubernetes'), exception=KUBERNETES_IMPORT_ERROR)
    p = module.params
    try:
        resources, kinds = list_objects(DynamicClient(api_client(p)), p['kinds'], p['namespace'], p['label_selectors'])
    except Exception as exc:  # pylint: disable=broad-except
        module.fail_json(msg='Could not list the objects of namespace %s (%s): %s'
                         % (p['namespace'], ', '.join(p['label_selectors']) or 'all', exc))
    module.exit_json(changed=False, resources=resources, kinds=kinds)


if __name__ == '__main__':
    main()
