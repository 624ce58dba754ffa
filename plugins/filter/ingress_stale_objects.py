# -*- coding: utf-8 -*-
# Copyright (c) statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
name: ingress_stale_objects
author: statewave.kubernetes contributors
version_added: 0.1.0
short_description: Find ingress timeout objects a previous controller choice left behind
description:
- Takes the objects found with the plan's C(selector) across the plan's C(cleanup_kinds) and returns those the plan
  from P(statewave.kubernetes.ingress_timeouts#filter) no longer wants (same API group, kind, name and namespace).
- Only objects labelled C(app.kubernetes.io/managed-by=statewave.kubernetes) for the same release and namespace are returned,
  even if the input holds others.
positional: plan
options:
  _input:
    description: Live objects (dicts with C(apiVersion), C(kind), C(metadata)).
    type: list
    elements: dict
    required: true
  plan:
    description: The plan returned by P(statewave.kubernetes.ingress_timeouts#filter).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Delete what the previous controller needed
  kubernetes.core.k8s:
    state: absent
    api_version: "{{ item.api_version }}"
    kind: "{{ item.kind }}"
    name: "{{ item.name }}"
    namespace: "{{ item.namespace }}"
  loop: "{{ live_objects | statewave.kubernetes.ingress_stale_objects(plan) }}"
"""

RETURN = r"""
_value:
  description: Objects to delete, each with C(api_version), C(kind), C(name) and C(namespace).
  type: list
  elements: dict
"""


from ansible.errors import AnsibleFilterError

from ansible_collections.statewave.kubernetes.plugins.module_utils.ingress_timeouts import stale_objects


def ingress_stale_objects(live, plan):
    """Objects this collection created earlier that the plan no longer wants."""
    if not isinstance(plan, dict):
        raise AnsibleFilterError('ingress_stale_objects: the argument must be the plan returned by ingress_timeouts')
    try:
        return stale_objects(live, plan)
    except (KeyError, TypeError, AttributeError) as exc:
        raise AnsibleFilterError('ingress_stale_objects: unexpected input: {0}'.format(exc))


class FilterModule(object):
    """Stale-object detection for the ingress timeout objects."""

    def filters(self):
        return {'ingress_stale_objects': ingress_stale_objects}
