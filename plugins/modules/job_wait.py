#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

DOCUMENTATION = r'''
module: job_wait
short_description: Wait for a Kubernetes Job and keep what explains its failure while it runs
version_added: 0.2.0
description:
  - Polls a Job and its pods until the Job completes or fails, a pod waits for a reason that waiting does not fix
    (the image cannot be pulled, a Secret or key is missing), or O(timeout) passes.
  - While the Job runs it records each pod's phase, restarts, exit code, termination reason and message, and
    waiting reason, and reads the last log lines of a container that ended with a failure or restarted. A Job whose
    pods use C(restartPolicy OnFailure) loses its pod when it fails (the Job controller deletes it at
    C(BackoffLimitExceeded)); what was read before stays in the result.
  - It reads only (Jobs, pods, their logs and events), unless O(stop_stuck) is set, and never fails on the Job's
    outcome; test RV(outcome).
  - Started in the background (C(async)) before C(helm upgrade), with O(appear_timeout), O(ignore_uid) and
    O(stop_stuck), it watches a chart's migration hook Job that Helm is about to create, and ends it at once when its
    container cannot start, so that Helm stops instead of waiting for the Job's deadline. O(stop_file) ends the watch
    when Helm ran no hook.
  - Cluster access as the kubernetes.core modules take it, with the same C(K8S_AUTH_*) environment fallbacks
    (AWX's bearer-token credential).
author:
  - Statewave collection maintainers (@statewave)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - statewave.kubernetes.k8s_access
attributes:
  check_mode:
    support: full
    details: In check mode it reads once, does not wait (a Job check mode did not create is V(absent)) and changes nothing.
  diff_mode:
    support: none
  platform:
    platforms: posix
requirements:
  - kubernetes (Python)
options:
  name:
    description: Name of the Job.
    type: str
    required: true
  namespace:
    description: Namespace of the Job.
    type: str
    required: true
  container:
    description: Container of the Job's pods to report on; the first one when empty.
    type: str
  timeout:
    description:
      - Seconds to wait at most. The Job's own C(activeDeadlineSeconds) normally ends it first; this only outlasts it.
    type: int
    default: 600
  poll_interval:
    description: Seconds between two reads.
    type: int
    default: 3
  log_lines:
    description: Log lines kept per failed container.
    type: int
    default: 20
  appear_timeout:
    description:
      - Seconds to wait for the Job to appear (a Job Helm is about to create); 0 reports V(absent) at once. A Job seen
        once and then deleted ends the wait (V(absent)).
    type: int
    default: 0
  ignore_uid:
    description:
      - UID of an earlier Job of the same name (read before Helm started) to treat as absent, so that only the Job
        created after it is watched.
    type: str
  stop_stuck:
    description:
      - When a pod is V(stuck), set the Job's C(activeDeadlineSeconds) to 1, so that the Job fails now and whatever waits
        for it (Helm, for a hook) stops. The only change this module can make.
    type: bool
    default: false
  stop_file:
    description:
      - Stop waiting, with the outcome as it is then, as soon as this file exists (the caller creates it when Helm has
        ended).
    type: path
  fail_fast:
    description:
      - Stop waiting as soon as a pod waits for one of the reasons in RV(stuck_reasons) (V(outcome=stuck)).
    type: bool
    default: true
notes:
  - The decisions (what a pod shows, which pod explains the outcome, the message) are pure functions in the
    collection's module_utils C(job_watch), unit-tested.
'''

EXAMPLES = r'''
- name: Wait for the migration Job
  statewave.kubernetes.job_wait:
    name: pystator-migrate-0a1b2c3d4e
    namespace: pystator
    timeout: 660
  register: migration

- name: Watch the chart's hook Job while helm upgrades (stops it when its container cannot start)
  statewave.kubernetes.job_wait:
    name: statewave-migrate
    namespace: statewave
    appear_timeout: 900
    timeout: 1800
    ignore_uid: "{{ earlier_hook_job_uid }}"
    stop_stuck: true
    stop_file: /tmp/helm-hook-watch/stop
  async: 2100
  poll: 0
  register: hook_watch

- name: Stop with what the Job did
  ansible.builtin.fail:
    msg: "{{ migration.msg }}"
  when: migration.outcome != 'succeeded'
'''

RETURN = r'''
outcome:
  description:
    - V(succeeded), V(failed) (the Job's Failed condition), V(stuck) (a pod waits for a reason in RV(stuck_reasons)),
      V(timeout), V(absent) (no such Job), or V(running) (check mode, not finished).
  returned: always
  type: str
  sample: failed
job:
  description: The Job as last read (its status), or an empty dict when absent.
  returned: always
  type: dict
pods:
  description: What was seen of each pod, oldest first, including pods deleted since.
  returned: always
  type: list
  elements: dict
  contains:
    name: {description: Pod name., type: str}
    phase: {description: Last phase seen., type: str}
    restarts: {description: Container restarts., type: int}
    exit_code: {description: Exit code of the last termination seen (null when none)., type: int}
    reason: {description: 'Termination reason (Error, OOMKilled, ...).', type: str}
    message: {description: Termination message., type: str}
    waiting_reason: {description: 'Waiting reason (ImagePullBackOff, CreateContainerConfigError, ...).', type: str}
    waiting_message: {description: Waiting message., type: str}
    log: {description: The last log lines read when the container failed., type: str}
    gone: {description: Whether the pod was deleted before the end., type: bool}
failed_pod:
  description: The pod observation that explains the outcome best (see RV(pods)), or an empty dict.
  returned: always
  type: dict
events:
  description: Warning events of the Job and its pods (message, reason, object, time).
  returned: always
  type: list
  elements: dict
stuck_reasons:
  description: The waiting reasons that end the wait at once.
  returned: always
  type: list
  elements: str
stopped:
  description: Whether O(stop_stuck) set the Job's deadline to end it.
  returned: always
  type: bool
msg:
  description: One paragraph saying what happened (Job, reason, exit code, log lines, latest event).
  returned: always
  type: str
'''

import os
import time

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.statewave.kubernetes.plugins.module_utils.job_watch import (
    FAIL_FAST_REASONS, explain, job_outcome, log_from_previous, merge, most_telling, needs_log, stuck)
from ansible_collections.statewave.kubernetes.plugins.module_utils.k8s_access import (
    ACCESS_ARGUMENT_SPEC, ACCESS_REQUIRED_BY, KUBERNETES_IMPORT_ERROR, ApiException, api_client, k8s_client)

# What the API answers for a container whose log is gone (with a success status).
UNREADABLE_LOG = 'unable to retrieve container logs'


class Watcher(object):
    def __init__(self, module, api):
        self.module = module
        self.api = api
        self.core = k8s_client.CoreV1Api(api)
        self.batch = k8s_client.BatchV1Api(api)
        self.p = module.params
        self.seen = {}

    def plain(self, obj):
        return self.api.sanitize_for_serialization(obj)

    def read_job(self):
        try:
            job = self.plain(self.batch.read_namespaced_job(self.p['name'], self.p['namespace']))
        except ApiException as exc:
            if getattr(exc, 'status', None) == 404:
                return None
            raise
        if self.p['ignore_uid'] and ((job or {}).get('metadata') or {}).get('uid') == self.p['ignore_uid']:
            return None
        return job

    def read_pods(self, job):
        uid = ((job or {}).get('metadata') or {}).get('uid')
        pods = [self.plain(pod) for pod in
                self.core.list_namespaced_pod(self.p['namespace'], label_selector='job-name=%s' % self.p['name']).items]
        # Only this Job's pods (an earlier Job of the same name may still be deleting its own).
        return [pod for pod in pods
                if not uid or not (pod.get('metadata') or {}).get('ownerReferences')
                or uid in [ref.get('uid') for ref in pod['metadata']['ownerReferences']]]

    def stop(self):
        self.batch.patch_namespaced_job(self.p['name'], self.p['namespace'], {'spec': {'activeDeadlineSeconds': 1}})

    def read_logs(self):
        for name, obs in self.seen.items():
            if not needs_log(obs):
                continue
            kwargs = {'tail_lines': max(self.p['log_lines'], 1) * 4}
            if obs.get('container'):
                kwargs['container'] = obs['container']
            if log_from_previous(obs):
                kwargs['previous'] = True
            # Not readable: a runtime without logs (kwok), a pod just deleted, or a container the
            # kubelet has just removed (the Job controller deletes the pod at BackoffLimitExceeded),
            # which answers UNREADABLE_LOG instead of its log. The log read earlier then explains
            # the failure.
            try:
                text = self.core.read_namespaced_pod_log(name, self.p['namespace'], **kwargs)
                unreadable = text.strip().splitlines()[0] if (text or '').startswith(UNREADABLE_LOG) else None
            except ApiException as exc:
                text, unreadable = '', getattr(exc, 'reason', None) or exc
            if unreadable:
                text = obs.get('log') or '(log not readable: %s)' % unreadable
            obs['log'] = '\n'.join([line for line in (text or '').splitlines() if line.strip()][-max(self.p['log_lines'], 1):])
            obs['logged_restarts'] = obs.get('restarts', 0)

    def read_events(self):
        names = [self.p['name']] + sorted(self.seen)
        found = []
        for name in names:
            try:
                events = self.core.list_namespaced_event(self.p['namespace'], field_selector='involvedObject.name=%s' % name)
            except ApiException:
                continue
            for event in events.items:
                event = self.plain(event)
                if event.get('type') != 'Warning':
                    continue
                found.append({'object': name, 'reason': event.get('reason') or '', 'message': (event.get('message') or '').strip(),
                              'lastTimestamp': event.get('lastTimestamp') or event.get('eventTime') or ''})
        return found

    def stop_asked(self):
        return bool(self.p['stop_file']) and os.path.exists(self.p['stop_file'])

    def nap(self):
        """Sleep one poll interval, or less when the stop file appears (helm has ended)."""
        until = time.monotonic() + max(self.p['poll_interval'], 1)
        while time.monotonic() < until and not self.stop_asked():
            time.sleep(0.2)

    def run(self):
        deadline = time.monotonic() + max(self.p['timeout'], 0)
        appear_deadline = time.monotonic() + max(self.p['appear_timeout'], 0)
        appeared = False
        stopped = False
        job = None
        while True:
            if self.stop_asked():
                outcome = job_outcome(job)
                break
            job = self.read_job()
            outcome = job_outcome(job)
            if job is not None:
                appeared = True
                self.seen = merge(self.seen, self.read_pods(job), self.p['container'])
                self.read_logs()
            elif not appeared and not self.module.check_mode and time.monotonic() < appear_deadline:
                self.nap()
                continue
            if outcome in ('succeeded', 'failed', 'absent') or self.module.check_mode:
                break
            if self.p['fail_fast'] and stuck(self.seen):
                outcome = 'stuck'
                if self.p['stop_stuck']:
                    self.stop()
                    stopped = True
                break
            if time.monotonic() >= deadline:
                outcome = 'timeout'
                break
            self.nap()
        events = self.read_events() if job is not None and outcome != 'succeeded' else []
        pods = sorted(self.seen.values(), key=lambda o: o.get('created', ''))
        return dict(
            changed=stopped,
            stopped=stopped,
            outcome=outcome,
            job=job or {},
            pods=pods,
            failed_pod=most_telling(self.seen) or {},
            events=events,
            stuck_reasons=list(FAIL_FAST_REASONS),
            msg=explain(self.p['namespace'], self.p['name'], outcome, job, self.seen, events, self.p['timeout'],
                        self.p['log_lines']),
        )


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type='str', required=True),
            namespace=dict(type='str', required=True),
            container=dict(type='str'),
            timeout=dict(type='int', default=600),
            poll_interval=dict(type='int', default=3),
            log_lines=dict(type='int', default=20),
            fail_fast=dict(type='bool', default=True),
            appear_timeout=dict(type='int', default=0),
            ignore_uid=dict(type='str'),
            stop_stuck=dict(type='bool', default=False),
            stop_file=dict(type='path'),
            **ACCESS_ARGUMENT_SPEC
        ),
        required_by=ACCESS_REQUIRED_BY,
        supports_check_mode=True,
    )
    if KUBERNETES_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib('kubernetes'), exception=KUBERNETES_IMPORT_ERROR)
    try:
        result = Watcher(module, api_client(module.params)).run()
    except Exception as exc:  # pylint: disable=broad-except
        module.fail_json(msg='Could not read Job %s/%s: %s' % (module.params['namespace'], module.params['name'], exc))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
