# -*- coding: utf-8 -*-
# Copyright (c) statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared helpers for the ingress integration tests (local cluster, kubectl, ansible-playbook)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CRD_DIR = REPO / 'tests' / 'fixtures' / 'crds'
PLAYBOOK = REPO / 'tests' / 'integration' / 'playbooks' / 'ingress_role.yml'
KUBECONFIG = Path(os.environ.get('SWK_KUBECONFIG') or REPO / '.cache' / 'state' / 'kubeconfig')
FIXTURE_LABEL = 'statewave.io/test-fixture=true'
MANAGED_SELECTOR = 'app.kubernetes.io/managed-by=statewave.kubernetes'
# Every kind the role may create, as kubectl resource names (group-qualified).
MANAGED_RESOURCES = (
    'serverstransports.traefik.io', 'serverstransports.traefik.containo.us', 'backendconfigs.cloud.google.com',
    'gcpbackendpolicies.networking.gke.io', 'httpproxies.projectcontour.io', 'virtualservices.networking.istio.io',
    'destinationrules.networking.istio.io', 'httproutes.gateway.networking.k8s.io',
    'backendtrafficpolicies.gateway.envoyproxy.io', 'virtualservers.k8s.nginx.org',
)
_RECAP = re.compile(r'^localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)', re.M)


def _unavailable(reason):
    if os.environ.get('SWK_REQUIRE_SERVICES') == '1':
        pytest.fail(reason)
    pytest.skip(reason)


def _tool(name):
    local = Path(sys.executable).parent / name
    if local.exists():
        return str(local)
    return shutil.which(name)


def require_cluster():
    """Skip (or fail with SWK_REQUIRE_SERVICES=1) unless the local cluster answers."""
    for tool in ('kubectl', 'helm', 'ansible-playbook'):
        if not _tool(tool):
            _unavailable('%s is not on PATH (source hack/env.sh)' % tool)
    if not KUBECONFIG.is_file():
        _unavailable('no kubeconfig at %s: the local cluster is not running (tests/cluster/cluster.sh up)' % KUBECONFIG)
    proc = kubectl('get', '--raw', '/readyz', check=False, timeout=20)
    if proc.returncode != 0:
        _unavailable('the local cluster does not answer /readyz: %s' % (proc.stderr or proc.stdout).strip())


def kubectl(*args, **kw):
    check = kw.pop('check', True)
    timeout = kw.pop('timeout', 120)
    stdin = kw.pop('input', None)
    proc = subprocess.run([_tool('kubectl'), '--kubeconfig', str(KUBECONFIG)] + list(args), input=stdin,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise AssertionError('kubectl %s failed: %s' % (' '.join(args), proc.stderr))
    return proc


def get_json(*args):
    """kubectl get ... -o json, or None when the object does not exist."""
    proc = kubectl('get', '-o', 'json', *args, check=False)
    if proc.returncode != 0:
        if 'NotFound' in proc.stderr or 'not found' in proc.stderr or "doesn't have a resource type" in proc.stderr:
            return None
        raise AssertionError('kubectl get %s failed: %s' % (' '.join(args), proc.stderr))
    return json.loads(proc.stdout)


def managed_objects(namespace):
    """(resource, name) of every object labelled managed-by=statewave.kubernetes in the namespace."""
    found = []
    for resource in MANAGED_RESOURCES:
        data = get_json(resource, '-n', namespace, '-l', MANAGED_SELECTOR)
        for item in (data or {}).get('items', []):
            found.append((resource, item['metadata']['name']))
    return sorted(found)


def apply_crds(*files):
    """Apply fixture CRDs (all when no file is named) and wait until they are Established."""
    paths = [str(CRD_DIR / f) for f in files] if files else [str(CRD_DIR)]
    args = []
    for path in paths:
        args += ['-f', path]
    kubectl('apply', *args)
    kubectl('wait', '--for=condition=Established', '--timeout=60s', 'crd', '-l', FIXTURE_LABEL)


def delete_crd(name):
    """Delete a CRD, but only one written by this project (labelled as a test fixture)."""
    crd = get_json('crd', name)
    if crd is None:
        return
    assert (crd['metadata'].get('labels') or {}).get('statewave.io/test-fixture') == 'true', \
        'refusing to delete %s: it is not a statewave.kubernetes test fixture' % name
    kubectl('delete', 'crd', name, '--wait=true', '--timeout=60s')


class Namespace(object):
    """A dedicated namespace per test, deleted at the end."""

    def __init__(self, prefix):
        self.name = 'swk-ing-%s-%s' % (prefix, uuid.uuid4().hex[:6])

    def create(self):
        kubectl('create', 'namespace', self.name)
        return self

    def delete(self):
        kubectl('delete', 'namespace', self.name, '--wait=false', '--ignore-not-found', check=False)


class Run(object):
    """One ansible-playbook run of the ingress test playbook."""

    def __init__(self, proc, output_file):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        # The YAML callback folds long messages over lines; compare against whitespace-normalised text.
        self.text = ' '.join(proc.stdout.split())
        match = _RECAP.findall(proc.stdout)
        self.recap = dict(zip(('ok', 'changed', 'unreachable', 'failed'), (int(x) for x in match[-1]))) if match else None
        self.result = None
        if output_file.is_file() and self.rc == 0:
            self.result = json.loads(output_file.read_text())

    @property
    def plan(self):
        return self.result['plan']

    @property
    def values(self):
        return self.result['values']

    def __repr__(self):
        return 'Run(rc=%s, recap=%s)\n%s\n%s' % (self.rc, self.recap, self.stdout[-6000:], self.stderr[-2000:])


def run_role(namespace, tmp_path, role_vars, release=True, extra_args=()):
    """Run the ingress role (and the contract chart with its values) with ansible-playbook from the repository."""
    # One output file per test: an idempotent second run rewrites identical content (no change).
    output = tmp_path / 'result.json'
    variables = {
        'ingress_test_kubeconfig': str(KUBECONFIG),
        'ingress_test_output': str(output),
        'ingress_test_release': release,
        'statewave_namespace': namespace,
    }
    variables.update(role_vars)
    vars_file = tmp_path / ('vars-%s.json' % uuid.uuid4().hex[:8])
    vars_file.write_text(json.dumps(variables))
    env = dict(os.environ)
    env['ANSIBLE_CONFIG'] = str(REPO / 'ansible.cfg')
    env['ANSIBLE_NOCOLOR'] = '1'
    env['ANSIBLE_FORCE_COLOR'] = '0'
    env['PATH'] = os.pathsep.join([str(Path(sys.executable).parent), env.get('PATH', '')])
    cmd = [_tool('ansible-playbook'), '-i', 'localhost,', str(PLAYBOOK), '-e', '@' + str(vars_file)] + list(extra_args)
    proc = subprocess.run(cmd, cwd=str(REPO), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=900, check=False)
    return Run(proc, output)
