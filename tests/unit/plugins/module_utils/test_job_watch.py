# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/job_watch.py: what a watched migration Job did, from what its pods showed."""

import json

import pytest

from ansible_collections.statewave.kubernetes.plugins.module_utils.job_watch import JobWatch, explain, tail


def job(*conditions):
    return {'metadata': {'name': 'sw-migrate'},
            'status': {'conditions': [dict(type=t, status='True', reason=r, message=m) for t, r, m in conditions]}}


def pod(name, restarts=0, state=None, last=None, image='swk.local/statewave-standin:1.5.1'):
    return {'metadata': {'name': name}, 'status': {'containerStatuses': [
        {'name': 'migrate', 'restartCount': restarts, 'image': image, 'state': state or {'running': {}},
         'lastState': last or {}}]}}


def terminated(code, finished='2026-12-06T10:00:00Z', reason='Error'):
    return {'terminated': {'exitCode': code, 'reason': reason, 'finishedAt': finished}}


def test_onfailure_restart_keeps_the_previous_runs_exit_code_and_log_after_the_pod_is_deleted():
    w = JobWatch('sw', 'sw-migrate')
    assert w.observe(job(), [pod('p1')], 0) == []
    wanted = w.observe(job(), [pod('p1', restarts=1, last=terminated(1))], 4)
    assert wanted == [{'pod': 'p1', 'container': 'migrate', 'previous': True, 'run': 0}]
    w.record_log(wanted[0], 'INFO  Running upgrade standin_0002 -> standin_0003\nERROR boom: fails on purpose\n\n')
    # Asked for once only, though the same lastState is seen again.
    assert w.observe(job(), [pod('p1', restarts=1, last=terminated(1))], 6) == []
    assert w.verdict(6, 6, 600) is None
    # BackoffLimitExceeded: the Job controller deletes the pod.
    w.observe(job(('Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit')), [], 8)
    result = w.verdict(8, 8, 600)
    assert result['outcome'] == 'failed' and result['reason'] == 'BackoffLimitExceeded'
    assert result['failure']['exit_code'] == 1 and result['failure']['log'] == [
        'INFO  Running upgrade standin_0002 -> standin_0003', 'ERROR boom: fails on purpose']
    assert result['pods'] == ['p1'] and result['failed_runs'] == 1
    assert ('Migration Job sw/sw-migrate failed: BackoffLimitExceeded (Job has reached the specified backoff limit). '
            'Container migrate of pod p1 exited 1 (Error). Its last log lines: INFO  Running upgrade standin_0002 -> '
            'standin_0003 | ERROR boom: fails on purpose') == result['text']


def test_never_restart_policy_reads_the_current_state_and_prefers_the_latest_run():
    w = JobWatch('sw', 'sw-migrate', log_lines=1)
    first = w.observe(job(), [pod('p1', state=terminated(1, '2026-12-06T10:00:00Z'))], 0)
    second = w.observe(job(), [pod('p1', state=terminated(1, '2026-12-06T10:00:00Z')),
                               pod('p2', state=terminated(3, '2026-12-06T10:01:00Z'))], 5)
    assert [r['pod'] for r in first + second] == ['p1', 'p2'] and not first[0]['previous']
    w.record_log(first[0], 'a\nb')
    w.record_log(second[0], 'c\nd')
    w.observe(job(('Failed', 'BackoffLimitExceeded', '')), [], 9)
    result = w.verdict(9, 9, 600)
    assert result['failure']['pod'] == 'p2' and result['failure']['exit_code'] == 3 and result['failure']['log'] == ['d']
    assert result['failed_runs'] == 2


@pytest.mark.parametrize('reasons, outcome', [
    (['ErrImagePull', 'ImagePullBackOff', 'ImagePullBackOff'], 'image_error'),
    (['ErrImageNeverPull'] * 3, 'image_error'),
    (['CreateContainerConfigError'] * 3, 'config_error'),
])
def test_a_container_that_cannot_start_ends_the_watch_after_its_grace_not_at_the_deadline(reasons, outcome):
    w = JobWatch('sw', 'sw-migrate', image_error_grace=30, config_error_grace=20)
    grace = 30 if outcome == 'image_error' else 20
    times = [0, 10, grace - 1]
    for reason, now in zip(reasons, times):
        w.observe(job(), [pod('p1', state={'waiting': {'reason': reason, 'message': 'no such image'}})], now)
        assert w.verdict(now, now, 600) is None
    w.observe(job(), [pod('p1', state={'waiting': {'reason': reasons[-1], 'message': 'no such image'}})], grace)
    result = w.verdict(grace, grace, 600)
    assert result['outcome'] == outcome and result['reason'] == reasons[-1]
    assert result['waiting']['image'] == 'swk.local/statewave-standin:1.5.1'
    assert 'waits on its image' in result['text'] if outcome == 'image_error' else 'is missing' in result['text']


def test_a_waiting_state_that_clears_starts_its_grace_again():
    w = JobWatch('sw', 'sw-migrate', config_error_grace=20)
    w.observe(job(), [pod('p1', state={'waiting': {'reason': 'CreateContainerConfigError'}})], 0)
    w.observe(job(), [pod('p1')], 15)
    w.observe(job(), [pod('p1', state={'waiting': {'reason': 'CreateContainerConfigError'}})], 25)
    assert w.verdict(30, 30, 600) is None
    assert w.verdict(45, 45, 600)['outcome'] == 'config_error'


def test_completion_deletion_operation_end_and_timeout():
    done = JobWatch('sw', 'sw-migrate')
    done.observe(job(('Complete', None, None)), [pod('p1', state=terminated(0, reason='Completed'))], 3)
    assert done.verdict(3, 3, 600)['outcome'] == 'succeeded'
    assert done.failures == {}

    gone = JobWatch('sw', 'sw-migrate')
    gone.observe(job(), [pod('p1')], 0)
    gone.observe(None, [], 2)
    assert gone.verdict(2, 2, 600)['outcome'] == 'gone'

    idle = JobWatch('sw', 'sw-migrate')
    idle.observe(None, [], 0)
    assert idle.verdict(0, 0, 600, operation_done=False) is None
    assert idle.verdict(1, 1, 600, operation_done=True)['outcome'] == 'not_started'

    slow = JobWatch('sw', 'sw-migrate')
    slow.observe(job(), [pod('p1')], 0)
    assert slow.verdict(599, 599, 600) is None
    result = slow.verdict(600, 600, 600)
    assert result['outcome'] == 'timeout' and result['text'] == 'Migration Job sw/sw-migrate did not finish in the time given.'


def test_tail_and_explain_without_a_log():
    assert tail('a\n\nb\nc\n', 2) == ['b', 'c'] and tail('a', 0) == []
    text = explain({'namespace': 'n', 'job': 'j', 'outcome': 'failed', 'reason': 'DeadlineExceeded', 'message': '',
                    'failure': {'container': 'm', 'pod': 'p', 'exit_code': 137, 'reason': 'OOMKilled', 'message': 'killed',
                                'log': []}, 'waiting': None})
    assert text == 'Migration Job n/j failed: DeadlineExceeded. Container m of pod p exited 137 (OOMKilled): killed.'


def test_operation_done_reads_an_async_results_file(tmp_path):
    from ansible_collections.statewave.kubernetes.plugins.modules.job_watch import operation_done
    path = tmp_path / 'jid'
    assert not operation_done('') and not operation_done(str(path))
    path.write_text(json.dumps({'started': 1, 'finished': 0, 'ansible_job_id': 'j'}))
    assert not operation_done(str(path))
    path.write_text('{"changed": true, "status": {"')
    assert not operation_done(str(path))
    path.write_text(json.dumps({'changed': True, 'status': {}}))
    assert operation_done(str(path))
