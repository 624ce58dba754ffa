# -*- coding: utf-8 -*-
# Copyright (c) statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
name: connection_budget_input_error
author: statewave.kubernetes contributors
version_added: 0.1.0
short_description: The input M(statewave.kubernetes.connection_budget) would refuse, before any facts are read
description:
- Runs the module's own validation (the same code, so the same bounds) over its arguments without the server facts,
  so that a caller can refuse bad input before it connects to PostgreSQL and name its own variable for it.
- Returns V(null) when the module would accept the arguments.
options:
  _input:
    description:
      - The arguments of M(statewave.kubernetes.connection_budget) except O(statewave.kubernetes.connection_budget#module:facts)
        (C(replicas), C(autoscaling_*), C(max_surge), C(distributed_rate_limiter), C(migration_job),
        C(migration_through_pgbouncer), C(other_consumers), C(headroom), C(fail_on), C(pgbouncer_threshold),
        C(pgbouncer), C(planned_server)).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Refuse a plan the budget module would refuse, naming the inventory variable
  vars:
    problem: "{{ {'replicas': statewave_replicas, 'headroom': my_headroom} | statewave.kubernetes.connection_budget_input_error }}"
  ansible.builtin.assert:
    that: problem is none
    fail_msg: "{{ {'replicas': 'statewave_replicas', 'headroom': 'my_headroom'}[problem.param] }} {{ problem.reason }}"
"""

RETURN = r"""
_value:
  description: V(null), or the first invalid argument.
  type: dict
  contains:
    param:
      description: The module parameter, for example V(replicas) or V(pgbouncer.instances).
      type: str
    reason:
      description: "What is wrong and how to fix it, for example C(must be at most 1000, got 5000; plan 1 to 1000 replicas)."
      type: str
    message:
      description: "C(<param>: <reason>), as the module would say it."
      type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.statewave.kubernetes.plugins.module_utils.connection_budget import input_error


def connection_budget_input_error(args):
    """None, or {param, reason, message} for the first argument the connection_budget module would refuse."""
    if not isinstance(args, dict):
        raise AnsibleFilterError('connection_budget_input_error: expected a dict of module arguments, got %s'
                                 % type(args).__name__)
    return input_error(dict(args))


class FilterModule(object):
    """Input check of the connection_budget module."""

    def filters(self):
        return {'connection_budget_input_error': connection_budget_input_error}
