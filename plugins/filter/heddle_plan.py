# -*- coding: utf-8 -*-
# Copyright (c) statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
name: heddle_plan
author: statewave.kubernetes contributors
version_added: 0.2.0
short_description: Check the heddle role's inputs and turn them into the Heddle chart's values
description:
- Checks every C(heddle_*) input for meaning (names, quantities, ports, image references, worker and pipeline
  entries with their Heddle configs, model backend settings, Secret references, the workshop's exposure) and
  reports all problems at once, each naming the operator's variable, the value, the condition and the fix.
- When nothing is wrong, returns the values for the chart C(charts/heddle) and the list of actors the verify
  step reads.
- Pure, it reads nothing from a cluster.
options:
  _input:
    description: The C(heddle_*) variables, by name.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Check the inputs before anything changes
  vars:
    plan: "{{ {'heddle_namespace': heddle_namespace, 'heddle_workers': heddle_workers} | statewave.kubernetes.heddle_plan }}"
  ansible.builtin.assert:
    that: plan.errors | length == 0
    fail_msg: "{{ plan.errors | join('\n') }}"
"""

RETURN = r"""
_value:
  description: The check's result.
  type: dict
  contains:
    errors:
      description: One message per problem; empty when the inputs are usable.
      type: list
      elements: str
    values:
      description: The chart's values (null when there are errors).
      type: dict
    actors:
      description: The actors' names, components (router, orchestrator, pipeline, worker, processor) and Deployments.
      type: list
      elements: dict
    e2e_worker:
      description: The worker the verify step sends a task to (C(heddle_verify_e2e_worker), else the first processor).
      type: str
    e2e_tier:
      description: That worker's tier.
      type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.statewave.kubernetes.plugins.module_utils.heddle_plan import plan


def heddle_plan(inputs):
    """{'errors', 'values', 'actors', ...} for the heddle role's inputs."""
    if not isinstance(inputs, dict):
        raise AnsibleFilterError('heddle_plan: expected a dict of heddle_* variables, got %s' % type(inputs).__name__)
    return plan(dict(inputs))


class FilterModule(object):
    """Heddle input check and chart values."""

    def filters(self):
        return {'heddle_plan': heddle_plan}
