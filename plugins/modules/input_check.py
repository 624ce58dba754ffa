#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

DOCUMENTATION = r'''
module: input_check
short_description: Collect the input problems of every role and stop the run once, before anything changes
version_added: 0.2.0
description:
  - The one place where the roles' input validations meet. Each role's entry point C(validate) passes its checks
    (O(checks)); the problems found are kept in the host fact C(swk_input_problems); a call with O(report=true)
    fails when that list is not empty, with one message that lists every problem, and empties it.
  - The C(preflight) role's entry point C(validate) runs the validations of every role a playbook will run and
    reports once, before the first change; a role run on its own reports at the end of its own validation.
  - Each message names the variable the operator set. A role variable whose value is only another variable
    (C(pgvector_namespace) defaults to C({{ statewave_namespace | default('statewave') }})), or which an include
    passes on, is replaced in the message by that variable, when it is defined.
  - Runs on the controller (an action plugin); it connects to nothing and changes nothing.
author:
  - Statewave collection maintainers (@statewave)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Decides the same way in check mode.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  checks:
    description:
      - The checks, each a dict with C(var) (the variable, or a list of them, that the message names), C(bad)
        (true when the check failed) and C(msg) (the value, the condition and the fix).
    type: list
    elements: dict
    default: []
  found:
    description:
      - Problems found elsewhere (for example by a pure filter), one message each; a message that starts with a variable
        name and a colon or an equals sign (C(heddle_replicas=0 is below 1)) is about that variable.
    type: list
    elements: str
    default: []
  role:
    description: The role whose checks these are; prefixes each message (for example C([pgvector])).
    type: str
    default: ''
  report:
    description:
      - Fail when any problem was collected (by this call or earlier ones), with all of them in one message.
      - While the shared entry point runs the roles' validations (after its call with O(defer=true)), a role's
        O(report=true) only collects; the entry point's own call with O(report=true) and O(defer=false) reports.
    type: bool
    default: false
  defer:
    description:
      - V(true) (with O(reset)) starts a shared check that runs several roles' validations; their O(report=true)
        calls then only collect, until a call with O(defer=false) reports everything at once. Kept in the host fact
        C(swk_input_check_deferred).
      - Not set, the deferral stays as it is.
    type: bool
  reset:
    description: Forget the problems collected earlier (the start of a validation).
    type: bool
    default: false
'''

EXAMPLES = r'''
- name: Check the pgvector inputs
  statewave.kubernetes.input_check:
    role: pgvector
    checks:
      - var: pgvector_namespace
        bad: "{{ pgvector_namespace is not match('^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$') }}"
        msg: "pgvector_namespace={{ pgvector_namespace }} is not a namespace name (lower-case DNS label)."

- name: Stop when an input is wrong (nothing was changed)
  statewave.kubernetes.input_check:
    report: true
'''

RETURN = r'''
problems:
  description: The problems this call found (with O(report=true), every problem collected).
  returned: always
  type: list
  elements: str
  sample: ["[pgvector] statewave_namespace=StateWave is not a namespace name (lower-case DNS label)."]
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.statewave.kubernetes.plugins.module_utils.input_check import ARGUMENT_SPEC, as_checks, messages, problems, report, reports_now


def main():
    # Normally the action plugin runs instead (it sees the variables before templating and keeps the
    # fact); here only the checks of this call are known.
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        supports_check_mode=True,
    )
    found = problems(module.params['checks'] + as_checks(module.params['found']), {}, module.params['role'])
    message = report(found) if reports_now(module.params, False) else None
    if message:
        module.fail_json(msg=message, problems=messages(found))
    module.exit_json(changed=False, problems=messages(found))


if __name__ == '__main__':
    main()
