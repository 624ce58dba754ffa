# -*- coding: utf-8 -*-
# Copyright (c) statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin for statewave.kubernetes.connection_budget: the module's decision is pure arithmetic
over its arguments, so it runs here on the controller (the same argument spec and the same
module_utils code as the module) instead of in a module process on the host."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase

from ansible_collections.statewave.kubernetes.plugins.module_utils.connection_budget import (
    argument_spec,
    MODULE_CONSTRAINTS,
    BudgetError,
    run,
)


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        validated = ArgumentSpecValidator(argument_spec(), **MODULE_CONSTRAINTS).validate(self._task.args)
        if validated.error_messages:
            result.update(failed=True, msg='connection_budget: %s' % '; '.join(validated.error_messages))
            return result
        try:
            result.update(run(validated.validated_parameters))
        except BudgetError as exc:
            result.update(failed=True, msg='connection_budget: invalid input, nothing was checked: %s' % exc,
                          param=exc.param, reason=exc.reason)
            return result
        result['changed'] = False
        return result
