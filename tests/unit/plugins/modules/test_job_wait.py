# -*- coding: utf-8 -*-
# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""statewave.kubernetes.job_wait's Watcher as helm_release uses it in the background: waiting for
the hook Job Helm creates (not an earlier one of the same name), ending a Job whose container cannot
start, and stopping when told to (its stop file). The API is faked; the decisions are job_watch's."""

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

import pytest

from ansible_collections.statewave.kubernetes.plugins.modules import job_wait

pytest.importorskip('kubernetes')


class ApiException(Exception):
    def __init__(self, status):
        super(ApiException, self).__init__(status)
        self.status = status


def job(uid, active=1, conditions=None):
    return {'metadata': {'name': 'sw-migrate', 'uid': uid},
            'status': {'active': active, 'conditions': conditions or []}}


def pod(name, owner_uid, waiting=None):
    state = {'waiting': {'reason': waiting, 'message': 'Back-off pulling image "x:9.9.9"'}} if waiting else {'running': {}}
    return {'metadata': {'name': name, 'creationTimestamp': '2026-12-06T10:00:00Z',
                         'ownerReferences': [{'kind': 'Job', 'uid': owner_uid}]},
            'status': {'phase': 'Pending', 'containerStatuses': [{'name': 'migrate', 'restartCount': 0, 'state': state}]}}


class Listing(object):
    def __init__(self, items):
        self.items = items


class FakeBatch(object):
    def __init__(self, jobs):
        self.jobs = list(jobs)  # one per read; the last one repeats
        self.patches = []

    def read_namespaced_job(self, name, namespace):
        current = self.jobs.pop(0) if len(self.jobs) > 1 else self.jobs[0]
        if current is None:
            raise ApiException(404)
        return current

    def patch_namespaced_job(self, name, namespace, body):
        self.patches.append((namespace, name, body))


class FakeCore(object):
    def __init__(self, pods):
        self.pods = pods

    def list_namespaced_pod(self, namespace, label_selector):
        return Listing(self.pods)

    def read_namespaced_pod_log(self, name, namespace, **kwargs):
        return ''

    def list_namespaced_event(self, namespace, field_selector):
        return Listing([])


class FakeModule(object):
    check_mode = False

    def __init__(self, **params):
        self.params = dict(name='sw-migrate', namespace='sw', container=None, timeout=600, poll_interval=1, log_lines=20,
                           fail_fast=True, appear_timeout=0, ignore_uid=None, stop_stuck=False, stop_file=None)
        self.params.update(params)


class FakeApi(object):
    def sanitize_for_serialization(self, obj):
        return obj


def watcher(monkeypatch, jobs, pods, **params):
    monkeypatch.setattr(job_wait, 'ApiException', ApiException)
    monkeypatch.setattr(job_wait.time, 'sleep', lambda seconds: None)
    w = job_wait.Watcher(FakeModule(**params), FakeApi())
    w.batch = FakeBatch(jobs)
    w.core = FakeCore(pods)
    return w


def test_waits_for_the_job_to_appear_and_ends_it_when_its_image_cannot_be_pulled(monkeypatch):
    w = watcher(monkeypatch, [None, None, job('new')], [pod('sw-migrate-abcde', 'new', 'ImagePullBackOff')],
                appear_timeout=60, stop_stuck=True)
    result = w.run()
    assert result['outcome'] == 'stuck'
    assert result['stopped'] is True and result['changed'] is True
    assert w.batch.patches == [('sw', 'sw-migrate', {'spec': {'activeDeadlineSeconds': 1}})]
    assert 'Migration Job sw/sw-migrate cannot start its container' in result['msg']
    assert 'Last pod waiting: ImagePullBackOff' in result['msg'] and '(pod sw-migrate-abcde)' in result['msg']


def test_a_stuck_job_is_left_alone_without_stop_stuck(monkeypatch):
    w = watcher(monkeypatch, [job('new')], [pod('sw-migrate-abcde', 'new', 'ErrImageNeverPull')])
    result = w.run()
    assert result['outcome'] == 'stuck' and result['stopped'] is False and w.batch.patches == []


def test_an_earlier_job_of_the_same_name_counts_as_absent(monkeypatch):
    done = [{'type': 'Complete', 'status': 'True'}]
    w = watcher(monkeypatch, [job('old', active=0, conditions=done)], [], ignore_uid='old')
    assert w.run()['outcome'] == 'absent'


def test_pods_of_an_earlier_job_are_not_read_as_this_ones(monkeypatch):
    w = watcher(monkeypatch, [job('new', active=0, conditions=[{'type': 'Complete', 'status': 'True'}])],
                [pod('sw-migrate-old11', 'old', 'ImagePullBackOff')], stop_stuck=True)
    result = w.run()
    assert result['outcome'] == 'succeeded' and result['pods'] == [] and w.batch.patches == []


def test_the_stop_file_ends_a_wait_for_a_job_that_never_comes(monkeypatch, tmp_path):
    stop = tmp_path / 'stop'
    reads = []
    w = watcher(monkeypatch, [None], [], appear_timeout=3600, stop_file=str(stop))
    original = w.batch.read_namespaced_job

    def read_then_stop(name, namespace):
        reads.append(name)
        if len(reads) == 3:
            stop.write_text('')
        return original(name, namespace)

    w.batch.read_namespaced_job = read_then_stop
    result = w.run()
    assert result['outcome'] == 'absent' and len(reads) == 3 and result['stopped'] is False


def test_a_job_deleted_after_it_appeared_ends_the_wait(monkeypatch):
    w = watcher(monkeypatch, [job('new'), None], [pod('sw-migrate-abcde', 'new')], appear_timeout=3600)
    assert w.run()['outcome'] == 'absent'


def test_a_log_the_kubelet_no_longer_has_keeps_the_one_read_earlier(monkeypatch):
    w = watcher(monkeypatch, [job('new')], [])
    logs = ['connection refused by 127.0.0.1:5432\n', 'unable to retrieve container logs for containerd://abc\n']
    w.core.read_namespaced_pod_log = lambda name, namespace, **kwargs: logs.pop(0)
    w.seen = {'sw-migrate-abcde': {'exit_code': 1, 'restarts': 0, 'logged_restarts': -1, 'log': '', 'container': 'migrate'}}
    w.read_logs()
    assert w.seen['sw-migrate-abcde']['log'] == 'connection refused by 127.0.0.1:5432'
    w.seen['sw-migrate-abcde']['restarts'] = 1          # it failed again; the pod is being deleted
    w.read_logs()
    assert w.seen['sw-migrate-abcde']['log'] == 'connection refused by 127.0.0.1:5432'


def test_a_log_never_read_says_it_was_not_readable(monkeypatch):
    w = watcher(monkeypatch, [job('new')], [])
    w.core.read_namespaced_pod_log = lambda name, namespace, **kwargs: 'unable to retrieve container logs for containerd://abc'
    w.seen = {'sw-migrate-abcde': {'exit_code': 1, 'restarts': 0, 'logged_restarts': -1, 'log': '', 'container': 'migrate'}}
    w.read_logs()
    assert w.seen['sw-migrate-abcde']['log'] == '(log not readable: unable to retrieve container logs for containerd://abc)'
