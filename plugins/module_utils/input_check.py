# -*- coding: utf-8 -*-
# Copyright (c) statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The shared input check: every role's validation feeds problems into one list, the run stops
once with all of them (playbooks: the preflight role's entry point ``validate``).

Pure functions, used by the action plugin statewave.kubernetes.input_check:

* ``operator_variable``: the variable the operator set. A role variable whose default is only
  another variable (``pgvector_namespace: "{{ statewave_namespace | default('statewave') }}"``) or
  which an include passes on (``pgvector_namespace: "{{ pystator_namespace }}"``) is named by that
  variable when the operator (or a role default in scope) defines it, so that the message says
  ``statewave_namespace``, the one in the inventory, not the derived ``pgvector_namespace``.
* ``problems``: the messages of the checks that failed, with the derived names replaced.
* ``report``: the one message of a failed run.
* ``reports_now``: whether a call with ``report`` stops the run now, or only collects because the
  shared entry point deferred the report to its own end (``defer``).
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re

# "{{ name }}" or "{{ name | default(...) }}", nothing else: an alias of another variable.
_ALIAS = re.compile(r"^\s*\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*(\|\s*default\((?:[^{}]|\{\})*\)\s*)?\}\}\s*$")
_MAX_DEPTH = 5
FACT = 'swk_input_problems'
# Set by a call with defer=true (the shared entry point): the roles' own report calls collect only.
DEFERRED_FACT = 'swk_input_check_deferred'
ARGUMENT_SPEC = dict(
    checks=dict(type='list', elements='dict', default=[]),
    found=dict(type='list', elements='str', default=[]),
    role=dict(type='str', default=''),
    report=dict(type='bool', default=False),
    reset=dict(type='bool', default=False),
    defer=dict(type='bool'),
)
REPORT_HEADER = 'Input check, nothing was changed. Fix these and run again:'


def _truthy(value):
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ('true', 'yes', 'on', '1')


def operator_variable(name, raw_vars):
    """The variable behind ``name``: follows aliases while the aliased variable is defined."""
    seen = [name]
    current = name
    for dummy in range(_MAX_DEPTH):
        raw = raw_vars.get(current)
        if not isinstance(raw, str):
            break
        match = _ALIAS.match(raw)
        if not match or match.group(1) not in raw_vars or match.group(1) in seen:
            break
        current = match.group(1)
        seen.append(current)
    return current


def rename(message, names):
    """``message`` with each derived variable name (whole words) replaced by the operator's."""
    for derived, operator in names.items():
        if derived != operator:
            message = re.sub(r'(?<![A-Za-z0-9_.])%s(?![A-Za-z0-9_])' % re.escape(derived), operator, message)
    return message


# The variable a message found elsewhere (a filter's) starts with: "heddle_replicas: ..." or "x=1 ...".
_LEADING_VARIABLE = re.compile(r'^([a-z][a-z0-9]*_[a-z0-9_]+)(?=[:= ])')


def as_checks(found):
    """Messages found elsewhere (for example by a pure filter) as failed checks."""
    checks = []
    for message in found or []:
        match = _LEADING_VARIABLE.match(str(message))
        checks.append({'var': match.group(1) if match else None, 'bad': True, 'msg': message})
    return checks


def problems(checks, raw_vars, role='', earlier=None):
    """The failed ``checks`` ({var, bad, msg}) as {vars, message, text}, naming the operator's variable.

    A problem is left out when ``earlier`` (or this call) already has the same message, or one about
    the same single variable: two roles reading one operator variable (pgvector_namespace and
    statewave_namespace, preflight_budget_replicas and statewave_replicas) report it once.
    """
    found = []
    known = list(earlier or [])
    for check in checks or []:
        if not _truthy(check.get('bad', False)):
            continue
        names = dict((v, operator_variable(v, raw_vars)) for v in _as_list(check.get('var')) if v)
        message = ' '.join(str(check.get('msg') or '').split())
        if not message:
            message = '%s is not valid' % ', '.join(names.values())
        message = rename(message, names)
        operator_vars = sorted(set(names.values()))
        if any(_same(k, operator_vars, message) for k in known):
            continue
        problem = {'vars': operator_vars, 'message': '[%s] %s' % (role, message) if role else message, 'text': message}
        known.append(problem)
        found.append(problem)
    return found


def _same(known, operator_vars, message):
    if not isinstance(known, dict):
        return False
    if known.get('text') == message:
        return True
    return len(operator_vars) == 1 and known.get('vars') == operator_vars


def _as_list(value):
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [str(value)]


def report(found):
    """The one message that stops the run, or None when nothing is wrong."""
    if not found:
        return None
    return '\n'.join([REPORT_HEADER] + ['%d. %s' % (i + 1, m) for i, m in enumerate(messages(found))])


def messages(found):
    """The messages of ``found`` (problems as returned by ``problems``)."""
    return [p.get('message', '') if isinstance(p, dict) else str(p) for p in found]


def reports_now(args, deferred):
    """A call with ``report`` stops the run unless the shared entry point deferred it (``defer``:
    true while it runs the roles' validations, false on its own final report)."""
    if not args.get('report'):
        return False
    if args.get('defer') is not None:
        return not args['defer']
    return not _truthy(deferred)
