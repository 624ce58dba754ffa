# -*- coding: utf-8 -*-
# Copyright (c) statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin for statewave.kubernetes.input_check: runs on the controller, where the inventory's
variables are visible before templating (to name the variable the operator set), and keeps the
problems found so far in the host fact ``swk_input_problems``."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase

from ansible_collections.statewave.kubernetes.plugins.module_utils.input_check import (
    ARGUMENT_SPEC, DEFERRED_FACT, FACT, as_checks, messages, problems, report, reports_now)


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        validated = ArgumentSpecValidator(ARGUMENT_SPEC).validate(self._task.args)
        if validated.error_messages:
            result.update(failed=True, msg='input_check: %s' % '; '.join(validated.error_messages))
            return result
        args = validated.validated_parameters
        earlier = [] if args['reset'] else list(self._templar.template(task_vars.get(FACT, [])) or [])
        found = problems(args['checks'] + as_checks(args['found']), task_vars, args['role'], earlier)
        everything = earlier + found
        facts = {FACT: everything}
        if args['defer'] is not None:
            facts[DEFERRED_FACT] = args['defer']
        result.update(changed=False, problems=messages(found), ansible_facts=facts)
        if reports_now(args, self._templar.template(task_vars.get(DEFERRED_FACT, False))):
            message = report(everything)
            # Reported: the list starts empty for whatever runs next.
            facts[FACT] = []
            if message:
                result.update(failed=True, msg=message, problems=messages(everything))
        return result
