# -*- coding: utf-8 -*-
# Copyright (c) statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests for the diagnose findings (plugins/module_utils/diagnose.py) and its two filters."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import copy

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.statewave.kubernetes.plugins.module_utils import diagnose
from ansible_collections.statewave.kubernetes.plugins.filter import diagnose_findings as findings_filter
from ansible_collections.statewave.kubernetes.plugins.filter import diagnose_secret_refs as refs_filter

NS = 'sw'
RELEASE = 'prod'
FULLNAME = 'prod-statewave'


def deployment(ready=1, replicas=1, available=True, progressing_reason='NewReplicaSetAvailable', secret='prod-db'):
    return {
        'kind': 'Deployment',
        'metadata': {'name': FULLNAME, 'labels': {'app.kubernetes.io/instance': RELEASE}},
        'spec': {'replicas': replicas, 'template': {'spec': {'containers': [{
            'name': 'api', 'image': 'statewavedev/statewave:1.5.0',
            'env': [{'name': 'STATEWAVE_DATABASE_URL', 'valueFrom': {'secretKeyRef': {'name': secret, 'key': 'STATEWAVE_DATABASE_URL'}}},
                    {'name': 'STATEWAVE_HOST', 'value': '0.0.0.0'}]}]}}},
        'status': {'replicas': replicas, 'readyReplicas': ready, 'updatedReplicas': replicas, 'conditions': [
            {'type': 'Available', 'status': 'True' if available else 'False', 'message': 'MinimumReplicasUnavailable'},
            {'type': 'Progressing', 'status': 'True' if progressing_reason != 'ProgressDeadlineExceeded' else 'False',
             'reason': progressing_reason, 'message': 'ReplicaSet "x" has timed out progressing.'}]},
    }


def api_pod(name='prod-statewave-abc-1', waiting=None, restarts=0, phase='Running', scheduled=True):
    state = {'waiting': waiting} if waiting else {'running': {}}
    return {
        'kind': 'Pod',
        'metadata': {'name': name, 'labels': {'app.kubernetes.io/instance': RELEASE, 'app.kubernetes.io/component': 'api'}},
        'status': {'phase': phase, 'containerStatuses': [{'name': 'api', 'state': state, 'restartCount': restarts}],
                   'conditions': [{'type': 'PodScheduled', 'status': 'True' if scheduled else 'False',
                                   'message': '0/3 nodes are available: 3 Insufficient cpu.'}]},
    }


def healthy_facts():
    return {
        'namespace': NS, 'release': RELEASE, 'fullname': FULLNAME, 'inventory': 'inventories/prod', 'helm_binary': 'helm',
        'release_found': True, 'helm_error': '',
        'history': [{'revision': 1, 'status': 'superseded', 'chart': 'statewave-0.2.1', 'app_version': '1.5.0'},
                    {'revision': 2, 'status': 'deployed', 'chart': 'statewave-0.2.1', 'app_version': '1.5.0',
                     'description': 'Upgrade complete'}],
        'status': {'hooks': [{'kind': 'Job', 'name': 'prod-statewave-migrate', 'last_run': {'phase': 'Succeeded'}}]},
        'deployments': [deployment()], 'jobs': [], 'pods': [api_pod()], 'events': [], 'hpas': [], 'pdbs': [],
        'services': [{'kind': 'Service', 'metadata': {'name': FULLNAME, 'annotations': {}}}], 'ingresses': [],
        'secret_refs': diagnose.secret_refs([deployment()]),
        'secrets': {'prod-db': {'exists': True, 'keys': ['STATEWAVE_DATABASE_URL']}},
        'expected_secrets': [{'name': 'prod-db', 'key': 'STATEWAVE_DATABASE_URL', 'variable': 'statewave_database_existing_secret'}],
        'budget': {'checked': True, 'verdict': 'ok', 'msg': 'OK: 41 of 97'},
        'ingress_plan': {'enabled': False}, 'ingress_objects': [],
    }


def by(findings, severity=None, area=None):
    return [f for f in findings if (severity is None or f['severity'] == severity) and (area is None or f['area'] == area)]


def test_healthy_release_has_no_errors_or_warnings():
    out = diagnose.findings(healthy_facts())
    assert by(out, 'error') == [] and by(out, 'warning') == []
    assert {f['area'] for f in out} == set(diagnose.AREAS)
    assert all(f['text'].startswith('[INFO] ') for f in out)


def test_findings_are_sorted_errors_first_then_by_area():
    facts = healthy_facts()
    facts['secrets'] = {}
    facts['budget'] = {'checked': True, 'verdict': 'warn', 'msg': 'WARN'}
    out = diagnose.findings(facts)
    severities = [f['severity'] for f in out]
    assert severities == sorted(severities, key=diagnose.SEVERITIES.index)
    assert out[0]['area'] == 'secrets' and out[0]['severity'] == 'error'


# ---------------------------------------------------------------------------------------------
# secret_refs
# ---------------------------------------------------------------------------------------------
def test_secret_refs_cover_env_envfrom_volumes_pull_secrets_and_init_containers():
    job = {'kind': 'Job', 'metadata': {'name': 'm'}, 'spec': {'template': {'spec': {
        'initContainers': [{'name': 'init', 'envFrom': [{'secretRef': {'name': 'extra', 'optional': True}}]}],
        'containers': [{'name': 'migrate', 'env': [{'name': 'A', 'valueFrom': {'secretKeyRef': {'name': 'db', 'key': 'URL'}}},
                                                   {'name': 'B', 'valueFrom': {'configMapKeyRef': {'name': 'cm', 'key': 'x'}}}]}],
        'volumes': [{'name': 'certs', 'secret': {'secretName': 'tls', 'items': [{'key': 'ca.crt', 'path': 'ca'}]}},
                    {'name': 'all', 'secret': {'secretName': 'whole'}}],
        'imagePullSecrets': [{'name': 'regcred'}]}}}}
    refs = diagnose.secret_refs([job, job])
    assert [(r['secret'], r['key'], r['via'], r['optional']) for r in refs] == [
        ('extra', '', 'envFrom', True), ('db', 'URL', 'env', False), ('tls', 'ca.crt', 'volume certs', False),
        ('whole', '', 'volume all', False), ('regcred', '', 'imagePullSecrets', False)]
    assert refs[1]['object'] == 'Job/m' and refs[1]['container'] == 'migrate' and refs[1]['env'] == 'A'


def test_secret_refs_of_a_pod_and_an_empty_list():
    pod = {'kind': 'Pod', 'metadata': {'name': 'p'}, 'spec': {'containers': [{'name': 'c', 'envFrom': [{'secretRef': {'name': 's'}}]}]}}
    assert diagnose.secret_refs([pod])[0]['secret'] == 's'
    assert diagnose.secret_refs([]) == [] and diagnose.secret_refs(None) == []


# ---------------------------------------------------------------------------------------------
# release
# ---------------------------------------------------------------------------------------------
def test_missing_release_says_so_and_points_at_site_yml():
    facts = healthy_facts()
    facts.update(release_found=False, history=[], status={}, deployments=[], pods=[], secret_refs=[])
    out = diagnose.findings(facts)
    errors = by(out, 'error', 'release')
    assert len(errors) == 1 and 'does not exist in namespace sw' in errors[0]['message']
    assert 'ansible-playbook -i inventories/prod playbooks/site.yml' in errors[0]['next']
    # no "no Deployment" noise for a release that does not exist
    assert by(out, 'error', 'readiness') == [] and by(out, 'warning', 'pods') == []


def test_missing_release_reports_leftover_hook_objects():
    facts = healthy_facts()
    facts.update(release_found=False, history=[], deployments=[], pods=[],
                 leftovers=['ServiceAccount/prod-statewave', 'Secret/prod-statewave-credentials'])
    warn = by(diagnose.findings(facts), 'warning', 'secrets')
    assert 'Secret/prod-statewave-credentials' in warn[0]['message']
    assert warn[0]['next'].endswith('playbooks/uninstall.yml -e uninstall_confirm=prod')


@pytest.mark.parametrize('status,previous,expected', [
    ('pending-upgrade', 'deployed', 'helm -n sw rollback prod 1'),
    ('pending-rollback', 'superseded', 'helm -n sw rollback prod 1'),
    ('pending-install', None, 'helm -n sw uninstall prod'),
])
def test_pending_states_name_the_recovery_command(status, previous, expected):
    facts = healthy_facts()
    facts['history'] = ([{'revision': 1, 'status': previous}] if previous else []) + [{'revision': 2, 'status': status}]
    errors = by(diagnose.findings(facts), 'error', 'release')
    assert len(errors) == 1 and status in errors[0]['message']
    assert errors[0]['next'].startswith(expected)


def test_failed_release_offers_rollback_to_the_last_deployed_revision():
    facts = healthy_facts()
    facts['history'] = [{'revision': 3, 'status': 'superseded'}, {'revision': 4, 'status': 'failed', 'description': 'Upgrade "prod" failed'}]
    facts['status'] = {'hooks': [{'kind': 'Job', 'name': 'prod-statewave-migrate', 'last_run': {'phase': 'Failed'}}]}
    out = diagnose.findings(facts)
    release = by(out, 'error', 'release')[0]
    assert 'failed' in release['message'] and 'rollback.yml -e rollback_revision=3' in release['next']
    hook = by(out, 'error', 'migration')[0]
    assert 'prod-statewave-migrate' in hook['message'] and hook['next'] == 'kubectl -n sw logs job/prod-statewave-migrate'


def test_helm_error_is_reported():
    facts = healthy_facts()
    facts['helm_error'] = 'Kubernetes cluster unreachable'
    err = by(diagnose.findings(facts), 'error', 'release')[0]
    assert 'cluster unreachable' in err['message']


# ---------------------------------------------------------------------------------------------
# migration
# ---------------------------------------------------------------------------------------------
def migration_job(condition=None, reason='', message=''):
    if condition == 'Failed':
        status = {'failed': 4}
    elif condition == 'Complete':
        status = {'succeeded': 1, 'completionTime': '2026-01-01T00:00:00Z'}
    else:
        status = {'active': 1}
    if condition:
        status['conditions'] = [{'type': condition, 'status': 'True', 'reason': reason, 'message': message}]
    return {'kind': 'Job', 'metadata': {'name': 'prod-statewave-migrate'},
            'spec': {'backoffLimit': 3, 'activeDeadlineSeconds': 600}, 'status': status}


def test_failed_migration_job_with_pod_exit_code_and_events():
    facts = healthy_facts()
    facts['jobs'] = [migration_job('Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit')]
    facts['pods'].append({'kind': 'Pod', 'metadata': {'name': 'prod-statewave-migrate-x', 'labels': {
        'batch.kubernetes.io/job-name': 'prod-statewave-migrate', 'app.kubernetes.io/component': 'migrate'}},
        'status': {'phase': 'Failed', 'containerStatuses': [{'name': 'migrate', 'state': {'terminated': {'exitCode': 1, 'reason': 'Error'}}}]}})
    facts['events'] = [{'type': 'Warning', 'reason': 'BackoffLimitExceeded', 'message': 'Job has reached the specified backoff limit',
                        'involvedObject': {'name': 'prod-statewave-migrate'}, 'lastTimestamp': '2026-01-01T00:00:01Z'},
                       {'type': 'Normal', 'reason': 'SuccessfulCreate', 'message': 'Created pod',
                        'involvedObject': {'name': 'prod-statewave-migrate'}}]
    out = diagnose.findings(facts)
    err = by(out, 'error', 'migration')[0]
    assert 'BackoffLimitExceeded' in err['message'] and 'the vector extension missing' in err['message']
    assert 'exited 1' in err['message'] and 'Events: BackoffLimitExceeded' in err['message']
    assert 'SuccessfulCreate' not in err['message']
    assert err['next'].startswith('kubectl -n sw logs job/prod-statewave-migrate')
    # the migration pod is not counted as an API pod
    assert '1 of 1 API pod(s)' in by(out, 'info', 'pods')[0]['message']


def test_migration_deadline_points_at_the_deadline_variable():
    facts = healthy_facts()
    facts['jobs'] = [migration_job('Failed', 'DeadlineExceeded', 'Job was active longer than specified deadline')]
    err = by(diagnose.findings(facts), 'error', 'migration')[0]
    assert '600s' in err['message'] and 'statewave_migration_deadline_seconds' in err['next']


def test_running_and_completed_migration_jobs():
    facts = healthy_facts()
    facts['jobs'] = [migration_job()]
    assert 'still running' in by(diagnose.findings(facts), 'warning', 'migration')[0]['message']
    facts['jobs'] = [migration_job('Complete')]
    assert 'completed at 2026-01-01' in by(diagnose.findings(facts), 'info', 'migration')[0]['message']


def test_only_migration_jobs_are_migration_jobs():
    """The verify role's in-cluster check Job (component=verify), even failed, is not a migration Job."""
    facts = healthy_facts()
    verify = migration_job('Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit')
    verify['metadata'] = {'name': 'prod-verify-x7k2p', 'labels': {'app.kubernetes.io/instance': RELEASE,
                                                                  'app.kubernetes.io/component': 'verify'}}
    facts['jobs'] = [verify]
    out = diagnose.findings(facts)
    assert by(out, 'error') == [] and by(out, 'warning') == []
    assert any('not migration Jobs' in f['message'] and 'prod-verify-x7k2p' in f['message'] for f in by(out, 'info', 'migration'))
    # By label (chart hook and the role's own Job) or by the names the roles give, without a label.
    hook = migration_job('Failed', 'BackoffLimitExceeded')
    hook['metadata']['labels'] = {'app.kubernetes.io/component': 'migrate'}
    own = migration_job('Failed', 'BackoffLimitExceeded')
    own['metadata'] = {'name': 'prod-statewave-migrate-1a2b3c4d5e'}
    for job in (hook, own, migration_job('Failed', 'BackoffLimitExceeded')):
        facts['jobs'] = [job]
        assert by(diagnose.findings(facts), 'error', 'migration'), job


def superseded_history():
    return [{'revision': 1, 'status': 'superseded', 'updated': '2026-01-01T10:00:00.123456789Z'},
            {'revision': 2, 'status': 'failed', 'updated': '2026-01-01T11:00:00.5+01:00', 'description': 'Upgrade failed'},
            {'revision': 3, 'status': 'deployed', 'updated': '2026-01-01T10:05:00.987654321Z', 'description': 'Rollback to 1'}]


def test_failed_job_of_a_superseded_revision_is_history():
    facts = healthy_facts()
    facts['history'] = superseded_history()
    job = migration_job('Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit')
    job['metadata']['creationTimestamp'] = '2026-01-01T10:00:02Z'   # revision 2's hook, before the rollback
    facts['jobs'] = [job]
    out = diagnose.findings(facts)
    assert by(out, 'error') == [] and by(out, 'warning') == []
    info = [f['message'] for f in by(out, 'info', 'migration')]
    assert any('history of a superseded attempt' in m and 'before revision 3' in m for m in info), info


def test_failed_job_newer_than_the_serving_revision_is_an_error():
    facts = healthy_facts()
    facts['history'] = superseded_history()
    job = migration_job('Failed', 'BackoffLimitExceeded')
    job['metadata']['creationTimestamp'] = '2026-01-01T10:05:00Z'   # same second as the revision: not older
    facts['jobs'] = [job]
    assert by(diagnose.findings(facts), 'error', 'migration')
    facts['history'] = [dict(h, status='superseded') for h in superseded_history()[:1]] + [
        {'revision': 2, 'status': 'failed', 'updated': '2026-01-01T11:00:00Z'}]
    assert by(diagnose.findings(facts), 'error', 'migration')


def test_two_deployed_revisions_are_an_error():
    facts = healthy_facts()
    facts['history'][0]['status'] = 'deployed'
    errors = by(diagnose.findings(facts), 'error', 'release')
    assert len(errors) == 1 and 'revisions 1, 2 are all marked deployed' in errors[0]['message']
    assert 'helm -n sw rollback prod 2' in errors[0]['next']


def test_pending_revision_below_the_newest_is_an_error_and_the_newest_pending_shows_its_age():
    facts = healthy_facts()
    facts['history'][0]['status'] = 'pending-upgrade'
    errors = by(diagnose.findings(facts), 'error', 'release')
    assert len(errors) == 1 and 'revision 1 is still pending-upgrade although revision 2 (deployed) is newer' in errors[0]['message']
    facts = healthy_facts()
    facts['now'] = diagnose._epoch('2026-01-01T10:03:00Z')
    facts['history'][1].update(status='pending-upgrade', updated='2026-01-01T10:00:00.5Z')
    errors = by(diagnose.findings(facts), 'error', 'release')
    assert len(errors) == 1 and ', 3 min ago; an upgrade was interrupted' in errors[0]['message']


@pytest.mark.parametrize('text,expected', [
    ('2026-01-01T00:00:00Z', 1767225600), ('2026-01-01T01:00:00.999999999+01:00', 1767225600),
    ('2025-12-31T19:00:00-05:00', 1767225600), ('', None), ('yesterday', None)])
def test_epoch_of_kubernetes_and_helm_times(text, expected):
    assert diagnose._epoch(text) == expected


# ---------------------------------------------------------------------------------------------
# pods
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize('reason,severity,words', [
    ('CreateContainerConfigError', 'error', 'Secret or key'),
    ('ImagePullBackOff', 'error', 'imagePullSecrets'),
    ('CrashLoopBackOff', 'error', 'STATEWAVE_STRICT_SCHEMA'),
    ('SomethingNew', 'warning', 'waiting'),
])
def test_waiting_reasons(reason, severity, words):
    facts = healthy_facts()
    facts['pods'] = [api_pod(waiting={'reason': reason, 'message': 'secret "prod-db" not found'})]
    found = by(diagnose.findings(facts), severity, 'pods')[0]
    assert reason in found['message'] and words in found['message']
    assert '0 of 1 API pod(s)' in by(diagnose.findings(facts), 'info', 'pods')[0]['message']


def test_restarts_unschedulable_and_no_pods():
    facts = healthy_facts()
    facts['pods'] = [api_pod(restarts=3), api_pod(name='p2', phase='Pending', scheduled=False)]
    out = diagnose.findings(facts)
    messages = ' | '.join(f['message'] for f in by(out, 'warning', 'pods'))
    assert 'restarted 3 time(s)' in messages and 'Insufficient cpu' in messages
    facts['pods'] = []
    assert 'no API pod' in by(diagnose.findings(facts), 'warning', 'pods')[0]['message']


def test_pod_warning_events_without_other_problems():
    facts = healthy_facts()
    facts['events'] = [{'type': 'Warning', 'reason': 'Unhealthy', 'message': 'Readiness probe failed: HTTP 503',
                        'involvedObject': {'name': 'prod-statewave-abc-1'}}]
    assert 'Readiness probe failed' in by(diagnose.findings(facts), 'warning', 'pods')[0]['message']


# ---------------------------------------------------------------------------------------------
# secrets
# ---------------------------------------------------------------------------------------------
def test_missing_dsn_secret_is_an_error_naming_the_reference():
    facts = healthy_facts()
    facts['secrets'] = {'prod-db': {'exists': False}}
    err = by(diagnose.findings(facts), 'error', 'secrets')
    assert len(err) == 1
    assert 'Secret sw/prod-db referenced by Deployment/prod-statewave container api env STATEWAVE_DATABASE_URL does not exist' \
        in err[0]['message']
    assert 'kubectl -n sw create secret generic prod-db --from-literal=STATEWAVE_DATABASE_URL=...' in err[0]['next']


def test_missing_key_lists_the_keys_present_and_never_values():
    facts = healthy_facts()
    facts['secrets'] = {'prod-db': {'exists': True, 'keys': ['DATABASE_URL']}}
    err = by(diagnose.findings(facts), 'error', 'secrets')[0]
    assert 'has no key STATEWAVE_DATABASE_URL' in err['message'] and 'it holds: DATABASE_URL' in err['message']


def test_inventory_secret_is_checked_without_a_deployment_and_optional_refs_are_ignored():
    facts = healthy_facts()
    facts.update(deployments=[], secret_refs=[{'object': 'Job/x', 'container': 'c', 'env': '', 'secret': 'opt', 'key': '',
                                               'optional': True, 'via': 'envFrom'}],
                 secrets={'prod-db': {'exists': False}})
    err = by(diagnose.findings(facts), 'error', 'secrets')
    assert len(err) == 1 and 'referenced by inventory env statewave_database_existing_secret' in err[0]['message']


# ---------------------------------------------------------------------------------------------
# readiness
# ---------------------------------------------------------------------------------------------
def test_unavailable_and_stalled_deployment():
    facts = healthy_facts()
    facts['deployments'] = [deployment(ready=0, available=False, progressing_reason='ProgressDeadlineExceeded')]
    errors = by(diagnose.findings(facts), 'error', 'readiness')
    assert any('rollout stalled' in e['message'] for e in errors)
    assert any('not Available (0/1 ready)' in e['message'] and 'connection budget' in e['message'] for e in errors)


def test_partially_ready_deployment_is_a_warning():
    facts = healthy_facts()
    facts['deployments'] = [deployment(ready=1, replicas=2)]
    assert '1/2 ready' in by(diagnose.findings(facts), 'warning', 'readiness')[0]['message']


def test_release_without_deployment_is_an_error():
    facts = healthy_facts()
    facts['deployments'] = []
    assert 'no API Deployment' in by(diagnose.findings(facts), 'error', 'readiness')[0]['message']


def test_hpa_at_max_and_not_scaling():
    facts = healthy_facts()
    facts['hpas'] = [{'metadata': {'name': FULLNAME}, 'spec': {'maxReplicas': 5}, 'status': {'currentReplicas': 5, 'conditions': [
        {'type': 'ScalingActive', 'status': 'False', 'message': 'the HPA was unable to compute the replica count'}]}}]
    warnings = ' | '.join(f['message'] for f in by(diagnose.findings(facts), 'warning', 'readiness'))
    assert 'at maxReplicas 5' in warnings and 'not scaling' in warnings


def test_pdb_footguns():
    facts = healthy_facts()
    facts['pdbs'] = [{'metadata': {'name': FULLNAME}, 'spec': {'minAvailable': 1}}]
    assert 'blocks node drains' in by(diagnose.findings(facts), 'warning', 'readiness')[0]['message']
    facts['pdbs'] = [{'metadata': {'name': FULLNAME}, 'spec': {'minAvailable': 1, 'maxUnavailable': 1}}]
    assert 'both minAvailable and maxUnavailable' in by(diagnose.findings(facts), 'error', 'readiness')[0]['message']
    facts['deployments'] = [deployment(ready=2, replicas=2)]
    facts['pdbs'] = [{'metadata': {'name': FULLNAME}, 'spec': {'minAvailable': 1}}]
    assert by(diagnose.findings(facts), 'warning', 'readiness') == []


# ---------------------------------------------------------------------------------------------
# budget
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize('budget,severity,words', [
    ({'checked': False}, 'info', 'not checked: no database login'),
    ({'checked': False, 'skipped_reason': 'diagnose_budget is false'}, 'info', 'diagnose_budget is false'),
    ({'checked': True, 'error': 'Could not read the connection facts'}, 'warning', 'could not be checked'),
    ({'checked': True, 'verdict': 'warn', 'msg': 'WARN: 75%', 'advice': ['use PgBouncer']}, 'warning', 'Advice: use PgBouncer'),
    ({'checked': True, 'verdict': 'fail', 'msg': 'FAIL: 120 > 97', 'reasons': ['too many pods']}, 'error', 'Reason: too many pods'),
])
def test_budget_verdicts(budget, severity, words):
    facts = healthy_facts()
    facts['budget'] = budget
    found = by(diagnose.findings(facts), severity, 'budget')
    assert len(found) == 1 and words in found[0]['message']


# ---------------------------------------------------------------------------------------------
# ingress
# ---------------------------------------------------------------------------------------------
NGINX_PLAN = {
    'enabled': True, 'routing': 'ingress', 'title': 'ingress-nginx', 'summary': 'ingress-nginx: timeout 120s',
    'ingress_annotations': {'nginx.ingress.kubernetes.io/proxy-read-timeout': '120',
                            'nginx.ingress.kubernetes.io/proxy-send-timeout': '120'},
    'service_annotations': {}, 'objects': [],
}


def ingress(annotations):
    return {'kind': 'Ingress', 'metadata': {'name': FULLNAME, 'annotations': annotations}}


def test_ingress_without_timeouts_when_the_role_is_not_used():
    facts = healthy_facts()
    facts['ingresses'] = [ingress({'cert-manager.io/cluster-issuer': 'le'})]
    assert 'sets no proxy timeout' in by(diagnose.findings(facts), 'warning', 'ingress')[0]['message']
    facts['ingresses'] = [ingress({'nginx.ingress.kubernetes.io/proxy-read-timeout': '60'})]
    info = by(diagnose.findings(facts), 'info', 'ingress')[0]
    assert 'proxy-read-timeout=60' in info['message']


def test_ingress_matches_the_plan():
    facts = healthy_facts()
    facts['ingress_plan'] = copy.deepcopy(NGINX_PLAN)
    facts['ingresses'] = [ingress(dict(NGINX_PLAN['ingress_annotations'], **{'cert-manager.io/cluster-issuer': 'le'}))]
    out = diagnose.findings(facts)
    assert by(out, 'warning', 'ingress') == []
    assert any('as the ingress role sets them' in f['message'] for f in by(out, 'info', 'ingress'))


def test_ingress_differs_from_the_plan():
    facts = healthy_facts()
    facts['ingress_plan'] = copy.deepcopy(NGINX_PLAN)
    facts['ingresses'] = [ingress({'nginx.ingress.kubernetes.io/proxy-read-timeout': '60',
                                   'nginx.ingress.kubernetes.io/proxy-connect-timeout': '5'})]
    warnings = by(diagnose.findings(facts), 'warning', 'ingress')
    text = ' | '.join(w['message'] for w in warnings)
    assert "proxy-read-timeout='60' (want '120')" in text
    assert "proxy-send-timeout missing (want '120')" in text
    assert 'would not set: nginx.ingress.kubernetes.io/proxy-connect-timeout=5' in text
    assert all('playbooks/upgrade.yml' in w['next'] for w in warnings)


def test_ingress_missing_and_objects_missing():
    facts = healthy_facts()
    facts['ingress_plan'] = copy.deepcopy(NGINX_PLAN)
    assert 'no Ingress for the release although' in by(diagnose.findings(facts), 'error', 'ingress')[0]['message']
    plan = {'enabled': True, 'routing': 'ingress', 'title': 'Traefik', 'summary': 's', 'ingress_annotations': {},
            'service_annotations': {'traefik.ingress.kubernetes.io/service.serverstransport': 'sw-prod-statewave@kubernetescrd'}}
    facts['ingress_plan'] = plan
    facts['ingresses'] = [ingress({})]
    facts['ingress_objects'] = [{'item': {'kind': 'ServersTransport', 'metadata': {'name': FULLNAME}}, 'resources': []},
                                {'kind': 'Other', 'name': 'x', 'found': True}]
    text = ' | '.join(w['message'] for w in by(diagnose.findings(facts), 'warning', 'ingress'))
    assert 'Service prod-statewave: traefik.ingress.kubernetes.io/service.serverstransport missing' in text
    assert 'ServersTransport prod-statewave (timeout object) is missing' in text and 'Other' not in text


def test_objects_routing_with_a_leftover_chart_ingress_and_a_plan_error():
    facts = healthy_facts()
    facts['ingress_plan'] = {'enabled': True, 'routing': 'objects', 'title': 'Contour HTTPProxy', 'summary': 's',
                             'ingress_annotations': {}, 'service_annotations': {}}
    facts['ingresses'] = [ingress({})]
    assert 'still exists' in by(diagnose.findings(facts), 'warning', 'ingress')[0]['message']
    facts['ingress_plan'] = {}
    facts['ingress_plan_error'] = 'ingress_host is required when ingress_enabled'
    assert 'ingress_host is required' in by(diagnose.findings(facts), 'warning', 'ingress')[0]['message']


# ---------------------------------------------------------------------------------------------
# filters
# ---------------------------------------------------------------------------------------------
def test_each_filter_file_exports_its_documented_filter():
    for module, name in ((findings_filter, 'diagnose_findings'), (refs_filter, 'diagnose_secret_refs')):
        assert list(module.FilterModule().filters()) == [name]
        assert 'name: ' + name in module.DOCUMENTATION
        assert module.EXAMPLES.strip() and module.RETURN.strip()


def test_filters_delegate_and_reject_bad_input():
    assert findings_filter.diagnose_findings(healthy_facts()) == diagnose.findings(healthy_facts())
    assert refs_filter.diagnose_secret_refs([deployment()])[0]['secret'] == 'prod-db'
    with pytest.raises(AnsibleFilterError, match='must be a dict'):
        findings_filter.diagnose_findings(['x'])
    with pytest.raises(AnsibleFilterError, match='must be a list'):
        refs_filter.diagnose_secret_refs({'kind': 'Deployment'})
    with pytest.raises(AnsibleFilterError, match='unexpected input'):
        findings_filter.diagnose_findings({'history': [{'revision': 'x'}], 'release_found': True})
