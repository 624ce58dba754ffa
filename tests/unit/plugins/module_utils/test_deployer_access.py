# -*- coding: utf-8 -*-
# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The deployer's RBAC (playbooks/rbac.yml) and the preflight access check read one rule list."""

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

from pathlib import Path

import pytest
import yaml

from ansible.errors import AnsibleFilterError
from ansible_collections.statewave.kubernetes.plugins.filter.deployer_access_missing import deployer_access_missing
from ansible_collections.statewave.kubernetes.plugins.filter.deployer_rbac import deployer_rbac
from ansible_collections.statewave.kubernetes.plugins.module_utils import deployer_access as da

CRDS = Path(__file__).resolve().parents[3] / 'fixtures' / 'crds'


def by_kind(objs):
    return {o['kind']: o for o in objs}


def review_of(objs):
    """What a SelfSubjectRulesReview reports for an identity bound to these Role/ClusterRole."""
    rules = []
    for obj in objs:
        if obj['kind'] in ('Role', 'ClusterRole'):
            rules += [{'apiGroups': r['apiGroups'], 'resources': r['resources'], 'verbs': r['verbs']} for r in obj['rules']]
    rules.append({'apiGroups': ['authorization.k8s.io'], 'resources': ['selfsubjectrulesreviews'], 'verbs': ['create']})
    return {'resourceRules': rules, 'incomplete': False}


def test_role_is_namespaced_and_cluster_role_only_reads_cluster_scoped_kinds():
    objs = by_kind(deployer_rbac('sw', 'deployer', ['ingress_objects', 'cnpg', 'port_forward']))
    assert objs['ServiceAccount']['metadata'] == {'name': 'deployer', 'namespace': 'sw', 'labels': objs['Role']['metadata']['labels']}
    assert objs['RoleBinding']['subjects'] == [{'kind': 'ServiceAccount', 'name': 'deployer', 'namespace': 'sw'}]
    assert objs['ClusterRoleBinding']['subjects'] == objs['RoleBinding']['subjects']
    cluster = objs['ClusterRole']['rules']
    assert sorted(r for rule in cluster for r in rule['resources']) == ['customresourcedefinitions', 'ingressclasses']
    assert all(set(rule['verbs']) <= {'get', 'list'} for rule in cluster)
    role_resources = {r for rule in objs['Role']['rules'] for r in rule['resources']}
    assert {'secrets', 'deployments', 'jobs', 'clusters', 'pods/portforward', 'serverstransports', 'httproutes'} <= role_resources
    # Nothing in the Role is cluster-scoped, nothing in the ClusterRole could be granted by a Role.
    assert not role_resources & {'customresourcedefinitions', 'ingressclasses', 'clusterroles', 'nodes'}
    # namespaces: only get, of its own namespace (a Role in that namespace grants that)
    ns_rule = [r for r in objs['Role']['rules'] if r['resources'] == ['namespaces']]
    assert ns_rule == [{'apiGroups': [''], 'resources': ['namespaces'], 'verbs': ['get']}]


def test_features_not_asked_for_are_not_granted():
    role = by_kind(deployer_rbac('sw'))['Role']
    resources = {r for rule in role['rules'] for r in rule['resources']}
    assert not resources & {'clusters', 'persistentvolumeclaims', 'pods/portforward', 'serverstransports'}


@pytest.mark.parametrize('crd', sorted(p.name for p in CRDS.rglob('*.yaml')))
def test_ingress_and_cnpg_resource_names_match_the_crds(crd):
    doc = yaml.safe_load(next(CRDS.rglob(crd)).read_text())
    group, plural = doc['spec']['group'], doc['spec']['names']['plural']
    granted = {(g, r) for rule in da.RULES for g in rule['api_groups'] for r in rule['resources']}
    assert (group, plural) in granted


def test_everything_granted_means_nothing_missing():
    objs = deployer_rbac('sw', 'deployer', ['standalone', 'port_forward'])
    assert deployer_access_missing(review_of(objs), ['standalone', 'port_forward']) == []


def test_a_removed_rule_is_named_with_verbs_resource_and_reason():
    objs = deployer_rbac('sw', 'deployer', [])
    role = by_kind(objs)['Role']
    role['rules'] = [r for r in role['rules'] if r['resources'] != ['jobs']]
    assert deployer_access_missing(review_of(objs), []) == [
        'get, list, watch, create, update, patch, delete jobs.batch (the migration Job (the chart\'s hook, or the statewave '
        'role\'s own in job mode), verify\'s in_cluster check)']


def test_a_missing_verb_and_a_missing_cluster_read():
    objs = deployer_rbac('sw', 'deployer', ['port_forward'])
    for obj in objs:
        if obj['kind'] == 'Role':
            for rule in obj['rules']:
                if rule['resources'] == ['secrets']:
                    rule['verbs'] = ['get', 'list', 'watch']
        if obj['kind'] == 'ClusterRole':
            obj['rules'] = []
    lines = deployer_access_missing(review_of(objs), ['port_forward'])
    assert lines[0].startswith('create, update, patch, delete secrets (')
    assert any(line.startswith('get, list ingressclasses.networking.k8s.io cluster-wide (') for line in lines)
    assert any(line.startswith('get, list customresourcedefinitions.apiextensions.k8s.io cluster-wide (') for line in lines)


def test_wildcards_of_a_cluster_admin_grant_everything():
    admin = {'resourceRules': [{'apiGroups': ['*'], 'resources': ['*'], 'verbs': ['*']}]}
    assert deployer_access_missing(admin, list(da.FEATURES)) == []


def test_subresource_wildcard_and_resource_names():
    review = {'resourceRules': [{'apiGroups': [''], 'resources': ['pods/*'], 'verbs': ['create']},
                                {'apiGroups': [''], 'resources': ['secrets'], 'verbs': ['*'], 'resourceNames': ['one']}]}
    missing = da.missing(review, ['port_forward'])
    assert 'pods/portforward' not in [m['resource'] for m in missing]
    assert 'secrets' in [m['resource'] for m in missing]   # a rule for one named Secret is not enough


@pytest.mark.parametrize('call, words', [
    (lambda: deployer_rbac('', 'sa'), 'namespace is empty'),
    (lambda: deployer_rbac('sw', ''), 'rbac_service_account'),
    (lambda: deployer_rbac('sw', 'sa', ['nodes']), "unknown feature(s) nodes"),
    (lambda: deployer_access_missing([], []), 'SelfSubjectRulesReview'),
])
def test_bad_input_is_named(call, words):
    with pytest.raises(AnsibleFilterError) as exc:
        call()
    assert words in str(exc.value)


def test_docs_name_every_rule():
    doc = (Path(__file__).resolve().parents[4] / 'docs' / 'rbac.md').read_text()
    for rule in da.RULES:
        assert '`%s`' % rule['feature'] in doc
        for resource in rule['resources']:
            assert '`%s`' % resource in doc, resource
