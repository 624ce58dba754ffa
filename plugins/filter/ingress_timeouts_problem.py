# -*- coding: utf-8 -*-
# Copyright (c) statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
name: ingress_timeouts_problem
author: statewave.kubernetes contributors
version_added: 0.2.0
short_description: What P(statewave.kubernetes.ingress_timeouts#filter) would refuse in an intent, without failing
description:
  - Runs the same translation over the same intent and returns V(null) when it succeeds, or the problem it reports, so that
    a caller can collect it with the other input problems (M(statewave.kubernetes.input_check)) before anything changes.
options:
  _input:
    description: The intent, as for P(statewave.kubernetes.ingress_timeouts#filter).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Check the ingress intent with the other inputs
  vars:
    problem: "{{ intent | statewave.kubernetes.ingress_timeouts_problem }}"
  statewave.kubernetes.input_check:
    role: ingress
    checks:
      - var: "{{ problem.variable | default('') }}"
        bad: "{{ problem is not none }}"
        msg: "{{ problem.message | default('') }}"
"""

RETURN = r"""
_value:
  description: V(null), or the problem.
  type: dict
  contains:
    variable:
      description: The role variable the message starts with (for example V(ingress_timeout)), or empty.
      type: str
    message:
      description: What is wrong and the fix, naming the variable.
      type: str
"""

import re

from ansible_collections.statewave.kubernetes.plugins.module_utils.ingress_timeouts import IngressTimeoutError, build_plan


def ingress_timeouts_problem(intent):
    """None, or {variable, message} for the intent ingress_timeouts would refuse."""
    try:
        build_plan(intent)
    except IngressTimeoutError as exc:
        message = str(exc)
        match = re.match(r'^([a-z][a-z0-9]*_[a-z0-9_]+):', message)
        return {'variable': match.group(1) if match else '', 'message': message}
    return None


class FilterModule(object):
    """Ingress timeout translation, as a check."""

    def filters(self):
        return {'ingress_timeouts_problem': ingress_timeouts_problem}
