# -*- coding: utf-8 -*-
# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run a module's main() in-process: exit_json / fail_json raise ModuleExit with the result, whether
it failed, and the values the module marked no_log (so a test can prove they stay out of it)."""

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args


class ModuleExit(Exception):
    def __init__(self, result, failed, no_log_values=()):
        super(ModuleExit, self).__init__(result.get('msg'))
        self.result = result
        self.failed = failed
        self.no_log_values = set(no_log_values)


def patch_exits(monkeypatch):
    def exit_json(self, **kwargs):
        raise ModuleExit(kwargs, False, self.no_log_values)

    def fail_json(self, msg, **kwargs):
        kwargs['msg'] = msg
        raise ModuleExit(kwargs, True, self.no_log_values)

    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', exit_json)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', fail_json)


def run_module(module, args):
    with patch_module_args(args):
        with pytest.raises(ModuleExit) as exc:
            module.main()
    return exc.value
