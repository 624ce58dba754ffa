# -*- coding: utf-8 -*-
# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""statewave.kubernetes.cli_kubeconfig and its module_utils: the CLI's cluster access from the
inventory or AWX's K8S_AUTH_* variables, the token only inside a 0600 file."""

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

import json
import os
import stat

import pytest

from ansible_collections.statewave.kubernetes.plugins.module_utils.cli_access import CliAccessError, cli_access
from ansible_collections.statewave.kubernetes.plugins.modules import cli_kubeconfig as module
from ansible_collections.statewave.kubernetes.tests.unit.plugins.modules.module_exit import patch_exits, run_module  # noqa: E402

TOKEN = 'eyJhbGciOiJSUzI1NiJ9.token-for-tests.sig'
AWX = {'K8S_AUTH_HOST': 'https://api.prod.example:6443', 'K8S_AUTH_API_KEY': TOKEN,
       'K8S_AUTH_SSL_CA_CERT': '/runner/env/ca.crt', 'K8S_AUTH_VERIFY_SSL': 'True'}


@pytest.fixture(autouse=True)
def capture_exit(monkeypatch):
    patch_exits(monkeypatch)
    for name in list(AWX) + ['K8S_AUTH_KUBECONFIG', 'K8S_AUTH_CONTEXT']:
        monkeypatch.delenv(name, raising=False)


def run(args):
    return run_module(module, args)


# -- module_utils --------------------------------------------------------------------------------
def test_kubeconfig_and_context_become_helm_environment():
    env, content = cli_access('prod', kubeconfig='/k/prod.yaml', context='prod-eu')
    assert content is None
    assert env == {'KUBECONFIG': '/k/prod.yaml', 'HELM_KUBECONTEXT': 'prod-eu', 'HELM_NAMESPACE': 'prod'}


def test_nothing_set_leaves_helm_its_defaults():
    assert cli_access('ns') == ({'HELM_NAMESPACE': 'ns'}, None)


def test_server_without_token_and_insecure():
    env, content = cli_access('ns', host='https://h:6443', ca_cert='/ca', validate_certs=False)
    assert content is None
    assert env == {'HELM_NAMESPACE': 'ns', 'HELM_KUBEAPISERVER': 'https://h:6443', 'HELM_KUBECAFILE': '/ca',
                   'HELM_KUBEINSECURE_SKIP_TLS_VERIFY': 'true'}


def test_token_goes_into_the_kubeconfig_not_the_environment():
    env, content = cli_access('prod', host='https://h:6443', api_key=TOKEN, ca_cert='/runner/ca.crt',
                              kubeconfig='/ignored', context='prod-eu')
    assert TOKEN not in json.dumps(env) and env == {'HELM_NAMESPACE': 'prod'}
    assert content['current-context'] == 'prod-eu'
    assert content['users'][0]['user'] == {'token': TOKEN}
    assert content['clusters'][0]['cluster'] == {'server': 'https://h:6443', 'certificate-authority': '/runner/ca.crt'}
    assert content['contexts'][0]['context']['namespace'] == 'prod'


def test_token_without_verification_skips_tls_verify():
    _env, content = cli_access('ns', host='https://h', api_key=TOKEN, ca_cert='/ca', validate_certs=False)
    assert content['clusters'][0]['cluster'] == {'server': 'https://h', 'insecure-skip-tls-verify': True}


@pytest.mark.parametrize('kwargs, words', [
    ({'namespace': ''}, 'namespace is empty'),
    ({'namespace': 'ns', 'api_key': TOKEN}, 'K8S_AUTH_HOST'),
])
def test_bad_input_is_named(kwargs, words):
    with pytest.raises(CliAccessError, match=words):
        cli_access(**kwargs)


# -- module --------------------------------------------------------------------------------------
def test_awx_credential_writes_a_private_kubeconfig_and_absent_removes_it(monkeypatch, tmp_path):
    for key, value in AWX.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(module.tempfile, 'tempdir', str(tmp_path))
    out = run({'namespace': 'prod'})
    assert not out.failed and out.result['changed'] is False and out.result['token_kubeconfig'] is True
    directory = out.result['kubeconfig_dir']
    path = os.path.join(directory, 'kubeconfig')
    assert out.result['environment'] == {'HELM_NAMESPACE': 'prod', 'KUBECONFIG': path}
    assert TOKEN not in json.dumps(out.result)
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with open(path) as handle:
        written = json.load(handle)
    assert written['users'][0]['user']['token'] == TOKEN
    assert written['clusters'][0]['cluster']['certificate-authority'] == '/runner/env/ca.crt'

    gone = run({'state': 'absent', 'path': directory})
    assert not gone.failed and gone.result['changed'] is False
    assert not os.path.exists(directory)


def test_inventory_kubeconfig_writes_nothing(monkeypatch):
    out = run({'namespace': 'ns', 'kubeconfig': '/k/dev.yaml', 'context': 'kind-dev'})
    assert out.result['kubeconfig_dir'] == '' and out.result['token_kubeconfig'] is False
    assert out.result['environment'] == {'KUBECONFIG': '/k/dev.yaml', 'HELM_KUBECONTEXT': 'kind-dev', 'HELM_NAMESPACE': 'ns'}


def test_absent_refuses_a_directory_it_did_not_create(tmp_path):
    out = run({'state': 'absent', 'path': str(tmp_path)})
    assert out.failed and 'not a directory this module created' in out.result['msg']
    assert tmp_path.exists()


def test_absent_without_path_does_nothing():
    out = run({'state': 'absent', 'path': ''})
    assert not out.failed and out.result['kubeconfig_dir'] == ''


def test_token_without_server_fails_naming_the_variable(monkeypatch):
    monkeypatch.setenv('K8S_AUTH_API_KEY', TOKEN)
    out = run({'namespace': 'ns'})
    assert out.failed and 'K8S_AUTH_HOST' in out.result['msg'] and TOKEN not in out.result['msg']
