# -*- coding: utf-8 -*-
# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the identity that runs the playbooks (an AWX ServiceAccount) may do, in one place.

RULES is the list both sides read: playbooks/rbac.yml turns it into a namespace Role and a small
ClusterRole (``manifests``), and the preflight role compares it with what the API server says the
caller may do (a SelfSubjectRulesReview, ``missing``). A rule belongs to a feature; only the
features a run uses are required. Everything namespaced is in the Role; the ClusterRole holds only
reads of cluster-scoped kinds that no Role can grant.

Pure and stdlib only.
"""

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

from ansible_collections.statewave.kubernetes.plugins.module_utils.ingress_timeouts import CLEANUP_KINDS

WRITE = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete']
READ = ['get', 'list', 'watch']

FEATURES = ('core', 'cluster_reads', 'ingress_objects', 'cnpg', 'standalone', 'port_forward', 'create_namespace', 'pystator')


def _plural(kind):
    lower = kind.lower()
    if lower.endswith('y'):
        return lower[:-1] + 'ies'
    if lower.endswith('s'):
        return lower + 'es'
    return lower + 's'


def _ingress_rules():
    groups = {}
    for entry in CLEANUP_KINDS:
        group = entry['api_version'].split('/', maxsplit=1)[0] if '/' in entry['api_version'] else ''
        groups.setdefault(group, set()).add(_plural(entry['kind']))
    return [{'feature': 'ingress_objects', 'scope': 'namespace', 'api_groups': [group], 'resources': sorted(res),
             'verbs': WRITE, 'why': 'ingress role: the controller-specific objects it creates and sweeps'}
            for group, res in sorted(groups.items())]


RULES = [
    {'feature': 'core', 'scope': 'namespace', 'api_groups': [''], 'resources': ['secrets'], 'verbs': WRITE,
     'why': "Helm's release records (one Secret per revision), the DSN Secret (pgvector), the API/LLM key Secrets "
            "(statewave), reading them back for checks and pending-release recovery"},
    {'feature': 'core', 'scope': 'namespace', 'api_groups': [''], 'resources': ['serviceaccounts', 'services'],
     'verbs': WRITE, 'why': "the chart's ServiceAccount (a hook) and Service; uninstall removes the hook leftovers"},
    {'feature': 'core', 'scope': 'namespace', 'api_groups': [''], 'resources': ['pods', 'events'], 'verbs': READ,
     'why': 'helm --wait, verify, diagnose and failure messages read pods and events'},
    {'feature': 'core', 'scope': 'namespace', 'api_groups': [''], 'resources': ['namespaces'], 'verbs': ['get'],
     'why': 'the roles check that the namespace exists (creating one is cluster-wide: playbooks/rbac.yml does it)'},
    {'feature': 'core', 'scope': 'namespace', 'api_groups': ['apps'], 'resources': ['deployments'], 'verbs': WRITE,
     'why': 'the API Deployment (Helm release)'},
    {'feature': 'core', 'scope': 'namespace', 'api_groups': ['apps'], 'resources': ['replicasets'], 'verbs': READ,
     'why': 'helm --wait and uninstall.yml follow the rollout'},
    {'feature': 'core', 'scope': 'namespace', 'api_groups': ['batch'], 'resources': ['jobs'], 'verbs': WRITE,
     'why': "the migration Job (the chart's hook, or the statewave role's own in job mode), verify's in_cluster check"},
    {'feature': 'core', 'scope': 'namespace', 'api_groups': ['autoscaling'], 'resources': ['horizontalpodautoscalers'],
     'verbs': WRITE, 'why': "the chart's HPA (statewave_autoscaling_enabled)"},
    {'feature': 'core', 'scope': 'namespace', 'api_groups': ['policy'], 'resources': ['poddisruptionbudgets'],
     'verbs': WRITE, 'why': "the chart's PodDisruptionBudget"},
    {'feature': 'core', 'scope': 'namespace', 'api_groups': ['networking.k8s.io'], 'resources': ['ingresses'],
     'verbs': WRITE, 'why': "the chart's Ingress; the ingress role reads its live annotations"},
    {'feature': 'core', 'scope': 'namespace', 'api_groups': ['discovery.k8s.io'], 'resources': ['endpointslices'],
     'verbs': READ, 'why': "uninstall.yml waits until the Service's endpoints are gone"},
    {'feature': 'cluster_reads', 'scope': 'cluster', 'api_groups': ['networking.k8s.io'], 'resources': ['ingressclasses'],
     'verbs': ['get', 'list'], 'why': 'the ingress role detects the controller from the IngressClasses'},
    {'feature': 'cluster_reads', 'scope': 'cluster', 'api_groups': ['apiextensions.k8s.io'],
     'resources': ['customresourcedefinitions'], 'verbs': ['get', 'list'],
     'why': 'the ingress and pgvector roles check that the CRDs of the objects they create are installed'},
] + _ingress_rules() + [
    {'feature': 'cnpg', 'scope': 'namespace', 'api_groups': ['postgresql.cnpg.io'],
     'resources': ['clusters', 'poolers', 'databases'], 'verbs': WRITE,
     'why': 'pgvector_mode cnpg: the CloudNativePG Cluster, Pooler and Database (installing the operator itself is '
            'cluster-wide: a cluster administrator does it)'},
    {'feature': 'standalone', 'scope': 'namespace', 'api_groups': [''],
     'resources': ['persistentvolumeclaims', 'configmaps'], 'verbs': WRITE,
     'why': "pgvector_mode standalone: the Postgres pod's volume claim and init script"},
    {'feature': 'standalone', 'scope': 'namespace', 'api_groups': [''], 'resources': ['pods/exec'], 'verbs': ['create'],
     'why': "pgvector_mode standalone: psql inside the Postgres pod checks (and creates) the vector extension"},
    {'feature': 'port_forward', 'scope': 'namespace', 'api_groups': [''], 'resources': ['pods/portforward'],
     'verbs': ['create'], 'why': 'verify_http_mode port_forward: kubectl port-forward to the Service'},
    {'feature': 'pystator', 'scope': 'namespace', 'api_groups': [''], 'resources': ['configmaps'], 'verbs': WRITE,
     'why': "pystator_enabled: the chart's ConfigMap of non-secret settings"},
    {'feature': 'pystator', 'scope': 'namespace', 'api_groups': ['networking.k8s.io'], 'resources': ['networkpolicies'],
     'verbs': WRITE, 'why': "pystator_enabled: the chart's NetworkPolicy (pystator_network_policy_enabled)"},
    {'feature': 'pystator', 'scope': 'namespace', 'api_groups': [''], 'resources': ['pods/exec'], 'verbs': ['create'],
     'why': "pystator_enabled: the pystator role's verify reads the round trip's state from the database inside an API pod"},
    # Not granted by playbooks/rbac.yml: patching a namespace can change its pod-security labels.
    {'feature': 'create_namespace', 'scope': 'namespace', 'api_groups': [''], 'resources': ['namespaces'],
     'verbs': ['patch'],
     'why': 'statewave_create_namespace, pgvector_create_namespace or ingress_create_namespace is true: the roles apply '
            'the Namespace (a patch when it exists). Set them to false where an administrator created the namespace '
            '(playbooks/rbac.yml does)'},
]


class DeployerAccessError(ValueError):
    pass


def _features(features):
    chosen = ['core', 'cluster_reads'] + [f for f in (features or []) if f not in ('core', 'cluster_reads')]
    unknown = [f for f in chosen if f not in FEATURES]
    if unknown:
        raise DeployerAccessError('unknown feature(s) %s; known: %s' % (', '.join(unknown), ', '.join(FEATURES)))
    return chosen


def rules(features=None):
    """The rules the chosen features need (core and cluster_reads always)."""
    chosen = _features(features)
    return [r for r in RULES if r['feature'] in chosen]


def _rbac_rules(selected):
    return [{'apiGroups': list(r['api_groups']), 'resources': list(r['resources']), 'verbs': list(r['verbs'])}
            for r in selected]


def manifests(namespace, service_account='statewave-deployer', features=None, name='statewave-deployer'):
    """ServiceAccount, Role and RoleBinding in ``namespace``; the ClusterRole and its binding."""
    if not namespace:
        raise DeployerAccessError('the namespace is empty: pass the release namespace (statewave_namespace)')
    if not service_account:
        raise DeployerAccessError('the ServiceAccount name is empty (rbac_service_account)')
    chosen = rules(features)
    labels = {'app.kubernetes.io/managed-by': 'statewave.kubernetes', 'app.kubernetes.io/component': 'deployer-rbac'}
    subject = [{'kind': 'ServiceAccount', 'name': service_account, 'namespace': namespace}]
    return [
        {'apiVersion': 'v1', 'kind': 'ServiceAccount',
         'metadata': {'name': service_account, 'namespace': namespace, 'labels': labels}},
        {'apiVersion': 'rbac.authorization.k8s.io/v1', 'kind': 'Role',
         'metadata': {'name': name, 'namespace': namespace, 'labels': labels},
         'rules': _rbac_rules([r for r in chosen if r['scope'] == 'namespace'])},
        {'apiVersion': 'rbac.authorization.k8s.io/v1', 'kind': 'RoleBinding',
         'metadata': {'name': name, 'namespace': namespace, 'labels': labels},
         'roleRef': {'apiGroup': 'rbac.authorization.k8s.io', 'kind': 'Role', 'name': name}, 'subjects': subject},
        {'apiVersion': 'rbac.authorization.k8s.io/v1', 'kind': 'ClusterRole',
         'metadata': {'name': name, 'labels': labels},
         'rules': _rbac_rules([r for r in chosen if r['scope'] == 'cluster'])},
        {'apiVersion': 'rbac.authorization.k8s.io/v1', 'kind': 'ClusterRoleBinding',
         'metadata': {'name': '%s-%s-%s' % (name, namespace, service_account), 'labels': labels},
         'roleRef': {'apiGroup': 'rbac.authorization.k8s.io', 'kind': 'ClusterRole', 'name': name}, 'subjects': subject},
    ]


def _allows(rule, group, resource, verb):
    if rule.get('resourceNames'):
        return False
    groups = rule.get('apiGroups') or []
    resources = rule.get('resources') or []
    verbs = rule.get('verbs') or []
    return ((group in groups or '*' in groups)
            and (resource in resources or '*' in resources
                 or ('/' in resource and resource.split('/')[0] + '/*' in resources))
            and (verb in verbs or '*' in verbs))


def missing(review_status, features=None):
    """Permissions the chosen features need that a SelfSubjectRulesReview's status does not grant.

    Returns a list of {'verb', 'resource' (plural[.group]), 'why'}; empty when everything is granted.
    """
    granted = (review_status or {}).get('resourceRules') or []
    out = []
    for rule in rules(features):
        for group in rule['api_groups']:
            for resource in rule['resources']:
                absent = [v for v in rule['verbs'] if not any(_allows(g, group, resource, v) for g in granted)]
                if absent:
                    out.append({'verbs': absent, 'resource': resource + ('.' + group if group else ''),
                                'scope': rule['scope'], 'why': rule['why']})
    return out


def describe(absent):
    """One line per missing permission: 'create, delete secrets (why)'."""
    return ['%s %s%s (%s)' % (', '.join(m['verbs']), m['resource'], ' cluster-wide' if m['scope'] == 'cluster' else '',
                              m['why']) for m in absent]
