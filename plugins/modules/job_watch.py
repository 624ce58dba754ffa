#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

DOCUMENTATION = r'''
module: job_watch
short_description: Watch a (migration) Job while it runs and keep what explains its outcome
version_added: 0.1.0
description:
  - Polls a Job and its pods until the Job completes or fails, an image or configuration error makes it
    hopeless, it disappears, a watched operation ends without it, or the time runs out.
  - "While it runs it keeps what explains a failure, at the moment it is visible, because it may not be
    later. The Job controller deletes the pods of a Job with C(restartPolicy: OnFailure), the shape of
    most charts' migration hooks, once it gives up (C(BackoffLimitExceeded)). Kept are the failing
    container's exit code, reason and last log lines, and a waiting reason such as C(ImagePullBackOff),
    C(ErrImageNeverPull) or C(CreateContainerConfigError)."
  - An image that cannot be pulled, or a container that cannot be created, ends the watch after a short
    grace instead of at the Job's deadline. With O(delete_on_fail_fast=true) the Job is then deleted, so
    that a Helm pre-install/pre-upgrade hook waiting for it fails at once.
  - Beside a Helm upgrade started asynchronously (C(async), C(poll 0)), O(until_file) names that task's
    results file. When the upgrade has ended and the Job never appeared (nothing to upgrade), the
    watch ends with RV(outcome=not_started).
  - Decisions are made by C(plugins/module_utils/job_watch.py) (pure, unit-tested).
author:
  - Statewave collection maintainers (@statewave)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - kubernetes.core.k8s_auth_options
attributes:
  check_mode:
    support: full
    details: Watches as in a normal run; never deletes the Job.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  namespace:
    description: Namespace of the Job.
    type: str
    required: true
  name:
    description: Name of the Job (its pods carry the label C(job-name=<name>)).
    type: str
    required: true
  timeout:
    description: Seconds to watch at most (RV(outcome=timeout) after that).
    type: int
    default: 600
  poll_interval:
    description: Seconds between two reads.
    type: int
    default: 2
  log_lines:
    description: How many of the failing container's last log lines to keep.
    type: int
    default: 20
  image_error_grace:
    description: Seconds a container may wait on its image (C(ErrImagePull), C(ImagePullBackOff), ...) before the watch ends.
    type: int
    default: 30
  config_error_grace:
    description: Seconds a container may fail to be created (C(CreateContainerConfigError), ...) before the watch ends.
    type: int
    default: 20
  until_file:
    description:
      - The C(results_file) of an asynchronous task running beside (for example the Helm upgrade whose hook
        is the Job). Once that task has ended and the Job never appeared, the watch ends. Empty waits for the Job.
    type: path
  delete_on_fail_fast:
    description: Delete the Job (in the background) when the watch ends on an image or configuration error.
    type: bool
    default: false
notes:
  - Pods are found by the label C(job-name), which the Job controller sets.
seealso:
  - module: kubernetes.core.k8s_info
'''

EXAMPLES = r'''
- name: Run a migration Job and watch it
  kubernetes.core.k8s:
    state: present
    definition: "{{ lookup('ansible.builtin.template', 'migration-job.yml.j2') | from_yaml }}"

- name: Watch it, keeping the exit code and log of a failure
  statewave.kubernetes.job_watch:
    namespace: statewave
    name: statewave-migrate-1a2b3c4d5e
    timeout: 660
  register: migration

- name: Stop with what the container said
  ansible.builtin.fail:
    msg: "{{ migration.text }}"
  when: migration.outcome != 'succeeded'

# A Helm pre-upgrade hook: start the upgrade in the background, watch its hook Job beside it.
- name: Upgrade the release
  kubernetes.core.helm:
    name: statewave
    chart_ref: ./chart
    release_namespace: statewave
    wait: true
  async: 900
  poll: 0
  register: upgrade

- name: Watch the migration hook while Helm waits for it
  statewave.kubernetes.job_watch:
    namespace: statewave
    name: statewave-migrate
    timeout: 900
    until_file: "{{ upgrade.results_file }}"
    delete_on_fail_fast: true
  register: hook
'''

RETURN = r'''
outcome:
  description: succeeded, failed, image_error, config_error, gone, not_started or timeout (see the description).
  returned: always
  type: str
  sample: failed
reason:
  description: The Job's failure reason (failed), or the waiting reason (image_error, config_error).
  returned: always
  type: str
  sample: BackoffLimitExceeded
message:
  description: The message that came with the reason.
  returned: always
  type: str
  sample: Job has reached the specified backoff limit
failure:
  description: The latest failed container run seen (null if none), with its last log lines.
  returned: always
  type: dict
  sample: {"pod": "statewave-migrate-x7k2p", "container": "migrate", "exit_code": 1, "reason": "Error",
           "message": "", "finished_at": "2026-12-06T15:40:02Z", "log": ["RAISE EXCEPTION ... fails on purpose"]}
waiting:
  description: The latest image or configuration waiting state seen (null if none).
  returned: always
  type: dict
  sample: {"pod": "statewave-migrate-x7k2p", "container": "migrate", "reason": "ErrImageNeverPull",
           "message": "Container image \"x:1\" is not present with pull policy of Never", "image": "x:1"}
pods:
  description: Names of the Job's pods seen while watching.
  returned: always
  type: list
  elements: str
  sample: ["statewave-migrate-x7k2p"]
failed_runs:
  description: How many failed container runs were seen.
  returned: always
  type: int
  sample: 2
deleted:
  description: Whether the Job was deleted (delete_on_fail_fast).
  returned: always
  type: bool
  sample: false
text:
  description: One paragraph for the operator naming the Job, the outcome and what the container said.
  returned: always
  type: str
  sample: "Migration Job statewave/statewave-migrate failed: BackoffLimitExceeded. Container migrate of pod
           statewave-migrate-x7k2p exited 1 (Error). Its last log lines: ... fails on purpose"
job:
  description: Name of the Job watched.
  returned: always
  type: str
  sample: statewave-migrate
namespace:
  description: Its namespace.
  returned: always
  type: str
  sample: statewave
'''

import copy
import json
import time

from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.statewave.kubernetes.plugins.module_utils.job_watch import JobWatch

try:
    from kubernetes.dynamic.exceptions import NotFoundError
except ImportError:
    # AnsibleK8SModule reports a missing kubernetes library.
    NotFoundError = Exception


def argspec():
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    spec.update(
        namespace=dict(type='str', required=True),
        name=dict(type='str', required=True),
        timeout=dict(type='int', default=600),
        poll_interval=dict(type='int', default=2),
        log_lines=dict(type='int', default=20),
        image_error_grace=dict(type='int', default=30),
        config_error_grace=dict(type='int', default=20),
        until_file=dict(type='path'),
        delete_on_fail_fast=dict(type='bool', default=False),
    )
    return spec


def operation_done(path):
    """Whether the asynchronous task writing ``path`` has ended (its results file no longer says started/not finished)."""
    if not path:
        return False
    try:
        with open(path) as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return False
    return not (data.get('started') == 1 and not data.get('finished'))


def main():
    module = AnsibleK8SModule(argument_spec=argspec(), supports_check_mode=True)
    params = module.params
    client = get_api_client(module=module)
    jobs = client.resources.get(api_version='batch/v1', kind='Job')
    pods = client.resources.get(api_version='v1', kind='Pod')
    ns, name = params['namespace'], params['name']
    watch = JobWatch(ns, name, params['image_error_grace'], params['config_error_grace'], params['log_lines'])
    start = time.time()
    while True:
        now = time.time()
        try:
            job = jobs.get(name=name, namespace=ns).to_dict()
        except NotFoundError:
            job = None
        found = pods.get(namespace=ns, label_selector='job-name=%s' % name).to_dict().get('items') or []
        for request in watch.observe(job, found, now):
            query = {'container': request['container'], 'tailLines': params['log_lines'] * 3}
            if request['previous']:
                query['previous'] = 'true'
            try:
                response = pods.log.get(name=request['pod'], namespace=ns, serialize=False, query_params=query)
                watch.record_log(request, response.data.decode('utf-8', 'replace'))
            except Exception:  # pylint: disable=broad-except
                # The pod may be gone already; the exit code is kept without its log.
                pass
        verdict = watch.verdict(now, now - start, params['timeout'], operation_done(params['until_file']))
        if verdict is not None:
            break
        time.sleep(max(1, params['poll_interval']))
    verdict['deleted'] = False
    if verdict['outcome'] in ('image_error', 'config_error') and params['delete_on_fail_fast'] and not module.check_mode:
        try:
            jobs.delete(name=name, namespace=ns, body={'propagationPolicy': 'Background'})
            verdict['deleted'] = True
        except NotFoundError:
            pass
    module.exit_json(changed=verdict['deleted'], **verdict)


if __name__ == '__main__':
    main()
