# -*- coding: utf-8 -*-
# Copyright (c) statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
name: ingress_crd_problems
author: statewave.kubernetes contributors
version_added: 0.1.0
short_description: Say which CRDs to install before the ingress timeout objects can be applied
description:
- Compares the CRDs found in the cluster with the C(required_crds) of a plan from P(statewave.kubernetes.ingress_timeouts#filter).
- Returns one "install X first" message per CRD that is missing, does not serve the needed version, or whose schema would
  silently drop a field the plan relies on (for example HTTPRoute C(timeouts) on Gateway API CRDs older than v1.2.0).
- An empty list means everything is in place.
positional: required
options:
  _input:
    description: CustomResourceDefinition objects found in the cluster (for example the C(resources) of C(kubernetes.core.k8s_info)
      calls).
    type: list
    elements: dict
    required: true
  required:
    description: The plan's C(required_crds).
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Fail with "install X first" when a CRD is missing
  ansible.builtin.fail:
    msg: "{{ problems | join('; ') }}"
  vars:
    problems: "{{ found_crds | statewave.kubernetes.ingress_crd_problems(plan.required_crds) }}"
  when: problems | length > 0
"""

RETURN = r"""
_value:
  description: One message per problem; empty when all CRDs are usable.
  type: list
  elements: str
"""


from ansible.errors import AnsibleFilterError

from ansible_collections.statewave.kubernetes.plugins.module_utils.ingress_timeouts import crd_problems


def ingress_crd_problems(crds, required):
    """Messages for missing or too old CRDs; empty when all are usable."""
    if not isinstance(required, list):
        raise AnsibleFilterError('ingress_crd_problems: the argument must be the plan\'s required_crds list')
    try:
        return crd_problems(crds, required)
    except (KeyError, TypeError, AttributeError) as exc:
        raise AnsibleFilterError('ingress_crd_problems: unexpected input: {0}'.format(exc))


class FilterModule(object):
    """CRD check for the ingress timeout objects."""

    def filters(self):
        return {'ingress_crd_problems': ingress_crd_problems}
