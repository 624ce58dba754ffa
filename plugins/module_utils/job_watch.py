# -*- coding: utf-8 -*-
# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a watched Job (a migration) did, decided from what the API server showed while it ran.

Pure: the module job_watch reads the Job and its pods every few seconds and hands them to
JobWatch.observe(); JobWatch says which container logs to fetch (record_log()), and verdict()
says when to stop and why. It keeps what explains a failure as soon as it is seen, because the
Job controller deletes the pods of a Job with restartPolicy OnFailure when it gives up
(BackoffLimitExceeded): read afterwards, such a failure has no exit code and no log.

Outcomes:
  succeeded     the Job completed
  failed        the Job failed (reason: BackoffLimitExceeded, DeadlineExceeded, ...)
  image_error   a container waited on an image that cannot be pulled or does not exist
                (ErrImagePull, ImagePullBackOff, ErrImageNeverPull, InvalidImageName) longer
                than the grace period: it would wait until the Job's deadline otherwise
  config_error  a container could not be created (CreateContainerConfigError: a Secret or
                ConfigMap key it needs is missing; CreateContainerError) longer than the grace
  gone          the Job was seen and then deleted without a failure seen (a Helm hook with
                hook-succeeded is deleted as soon as it completes)
  not_started   the watched operation (a Helm upgrade running beside) ended without the Job
                ever appearing (for example: nothing to upgrade)
  timeout       none of the above within the time given
"""

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

IMAGE_REASONS = ('ErrImagePull', 'ImagePullBackOff', 'ErrImageNeverPull', 'InvalidImageName')
CONFIG_REASONS = ('CreateContainerConfigError', 'CreateContainerError')


def _conditions(job):
    return [c for c in ((job or {}).get('status') or {}).get('conditions') or [] if c.get('status') == 'True']


def _condition(job, kind):
    found = [c for c in _conditions(job) if c.get('type') == kind]
    return found[0] if found else None


def tail(text, lines):
    """The last ``lines`` non-empty lines of ``text``."""
    kept = [line.rstrip() for line in (text or '').splitlines() if line.strip()]
    return kept[-lines:] if lines > 0 else []


class JobWatch(object):
    """Accumulates what the pods of one Job showed; see the module docstring."""

    def __init__(self, namespace, name, image_error_grace=30, config_error_grace=20, log_lines=20):
        self.namespace = namespace
        self.name = name
        self.image_error_grace = image_error_grace
        self.config_error_grace = config_error_grace
        self.log_lines = log_lines
        self.job = None
        self.job_seen = False
        self.job_gone = False
        self.pods = set()
        # (pod, container, restart count) -> {exit_code, reason, message, finished_at, log}
        self.failures = {}
        self.log_requested = set()
        # (pod, container) -> {reason, message, since}
        self.waiting = {}
        self.last_waiting = None

    # -- observations ------------------------------------------------------------------------
    def observe(self, job, pods, now):
        """Record one poll. ``job`` is the Job (dict) or None when it does not exist; ``pods``
        the pods labelled job-name=<name>. Returns the logs worth fetching as a list of
        {pod, container, previous} (each asked for once)."""
        if job is not None:
            self.job = job
            self.job_seen = True
            self.job_gone = False
        elif self.job_seen:
            self.job_gone = True
        wanted = []
        current_waiting = set()
        for pod in pods or []:
            pname = (pod.get('metadata') or {}).get('name', '')
            self.pods.add(pname)
            for status in (pod.get('status') or {}).get('containerStatuses') or []:
                cname = status.get('name', '')
                restarts = int(status.get('restartCount') or 0)
                state = status.get('state') or {}
                last = status.get('lastState') or {}
                # The current run ended non-zero (restartPolicy Never, or before a restart) ...
                term = state.get('terminated')
                if term and int(term.get('exitCode') or 0) != 0:
                    wanted += self._failure(pname, cname, restarts, term, previous=False)
                # ... or an earlier run did and the container was restarted (OnFailure).
                lterm = last.get('terminated')
                if lterm and int(lterm.get('exitCode') or 0) != 0:
                    wanted += self._failure(pname, cname, restarts - 1, lterm, previous=True)
                wait = state.get('waiting')
                if wait and wait.get('reason') in IMAGE_REASONS + CONFIG_REASONS:
                    key = (pname, cname)
                    current_waiting.add(key)
                    seen = self.waiting.get(key)
                    reason = wait.get('reason')
                    # ErrImagePull and ImagePullBackOff are one problem: keep the first time seen.
                    same = seen and (seen['reason'] == reason or (seen['reason'] in IMAGE_REASONS and reason in IMAGE_REASONS))
                    self.waiting[key] = {'pod': pname, 'container': cname, 'reason': reason,
                                         'message': wait.get('message') or '', 'since': seen['since'] if same else now,
                                         'image': status.get('image') or ''}
                    self.last_waiting = self.waiting[key]
        for key in list(self.waiting):
            if key not in current_waiting:
                del self.waiting[key]
        return wanted

    def _failure(self, pod, container, run, term, previous):
        key = (pod, container, run)
        if key not in self.failures:
            self.failures[key] = {'pod': pod, 'container': container, 'exit_code': int(term.get('exitCode') or 0),
                                  'reason': term.get('reason') or '', 'message': (term.get('message') or '').strip(),
                                  'finished_at': term.get('finishedAt') or '', 'log': []}
        if key in self.log_requested:
            return []
        self.log_requested.add(key)
        return [{'pod': pod, 'container': container, 'previous': previous, 'run': run}]

    def record_log(self, request, text):
        """The log fetched for a request observe() returned."""
        key = (request['pod'], request['container'], request['run'])
        if key in self.failures:
            self.failures[key]['log'] = tail(text, self.log_lines)

    # -- decisions ---------------------------------------------------------------------------
    def last_failure(self):
        """The latest failed container run, preferring one with a log."""
        if not self.failures:
            return None
        runs = sorted(self.failures.values(), key=lambda f: (f['finished_at'], bool(f['log'])))
        with_log = [f for f in runs if f['log']]
        return (with_log or runs)[-1]

    def verdict(self, now, elapsed, timeout, operation_done=False):
        """None while there is nothing to decide yet, else the result (see result())."""
        if self.job is not None and not self.job_gone:
            if _condition(self.job, 'Complete'):
                return self.result('succeeded')
            failed = _condition(self.job, 'Failed')
            if failed:
                return self.result('failed', failed.get('reason') or 'Failed', failed.get('message') or '')
        for wait in self.waiting.values():
            grace = self.image_error_grace if wait['reason'] in IMAGE_REASONS else self.config_error_grace
            if now - wait['since'] >= grace:
                return self.result('image_error' if wait['reason'] in IMAGE_REASONS else 'config_error',
                                   wait['reason'], wait['message'], waiting=wait)
        if self.job_gone:
            return self.result('gone')
        if operation_done and not self.job_seen:
            return self.result('not_started')
        if elapsed >= timeout:
            return self.result('timeout')
        return None

    def result(self, outcome, reason='', message='', waiting=None):
        failure = self.last_failure()
        out = {
            'outcome': outcome,
            'job': self.name,
            'namespace': self.namespace,
            'reason': reason,
            'message': message,
            'pods': sorted(self.pods),
            'failure': failure,
            'waiting': waiting or self.last_waiting,
            'failed_runs': len(self.failures),
        }
        out['text'] = explain(out)
        return out


def explain(result):
    """One paragraph for the operator: which Job, what happened, what the container said."""
    job = '%s/%s' % (result['namespace'], result['job'])
    outcome = result['outcome']
    failure = result.get('failure')
    waiting = result.get('waiting')
    parts = []
    if outcome == 'succeeded':
        parts.append('Migration Job %s succeeded.' % job)
    elif outcome == 'failed':
        parts.append('Migration Job %s failed: %s%s.' % (job, result['reason'],
                                                         (' (%s)' % result['message']) if result['message'] else ''))
    elif outcome == 'image_error':
        parts.append('Migration Job %s cannot start: container %s of pod %s waits on its image %s: %s%s. '
                     'It would wait until the Job\'s deadline; the run stops now.'
                     % (job, waiting['container'], waiting['pod'], waiting.get('image') or '?', waiting['reason'],
                        (' (%s)' % waiting['message']) if waiting['message'] else ''))
    elif outcome == 'config_error':
        parts.append('Migration Job %s cannot start: container %s of pod %s: %s%s. A Secret or ConfigMap '
                     '(or a key in it) that the container reads is missing.'
                     % (job, waiting['container'], waiting['pod'], waiting['reason'],
                        (' (%s)' % waiting['message']) if waiting['message'] else ''))
    elif outcome == 'gone':
        parts.append('Migration Job %s was deleted while it was watched.' % job)
    elif outcome == 'not_started':
        parts.append('Migration Job %s never started.' % job)
    else:
        parts.append('Migration Job %s did not finish in the time given.' % job)
    if failure and outcome != 'succeeded':
        parts.append('Container %s of pod %s exited %s%s%s.' % (
            failure['container'], failure['pod'], failure['exit_code'],
            (' (%s)' % failure['reason']) if failure['reason'] else '',
            (': %s' % failure['message']) if failure['message'] and not failure['log'] else ''))
        if failure['log']:
            parts.append('Its last log lines: %s' % ' | '.join(failure['log']))
    return ' '.join(parts)
