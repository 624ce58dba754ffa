# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""job_watch: what a migration Job's pods showed while it ran, kept after the Job controller
deleted them, and the one message made of it."""

from ansible_collections.statewave.kubernetes.plugins.module_utils import job_watch as jw


def pod(name, created="2026-01-01T00:00:00Z", phase="Running", state=None, last=None, restarts=0, container="migrate"):
    status = {"name": container, "restartCount": restarts, "state": state or {"running": {}}}
    if last:
        status["lastState"] = last
    return {"metadata": {"name": name, "creationTimestamp": created}, "status": {"phase": phase, "containerStatuses": [status]}}


def job(*conditions, succeeded=0):
    return {"metadata": {"name": "m"}, "status": {"succeeded": succeeded, "conditions": [
        {"type": t, "status": "True", "reason": r, "message": m} for t, r, m in conditions]}}


FAILED = ("Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit")


def test_outcome_of_a_job():
    assert jw.job_outcome(None) == "absent"
    assert jw.job_outcome(job()) == "running"
    assert jw.job_outcome(job(succeeded=1)) == "succeeded"
    assert jw.job_outcome(job(("Complete", "", ""))) == "succeeded"
    assert jw.job_outcome(job(FAILED)) == "failed"
    assert jw.job_outcome(job(("Failed", "BackoffLimitExceeded", "x"), succeeded=0)) == "failed"


def test_a_restarted_container_reports_its_last_termination():
    obs = jw.observe_pod(pod("p", state={"waiting": {"reason": "CrashLoopBackOff", "message": "back-off"}},
                             last={"terminated": {"exitCode": 1, "reason": "Error", "message": "permission denied"}}, restarts=2))
    assert (obs["exit_code"], obs["reason"], obs["message"], obs["restarts"]) == (1, "Error", "permission denied", 2)
    assert obs["waiting_reason"] == "CrashLoopBackOff"
    assert jw.needs_log(obs) and jw.log_from_previous(obs)


def test_what_was_seen_of_a_deleted_pod_is_kept():
    failed = pod("p1", phase="Failed", state={"terminated": {"exitCode": 1, "reason": "Error"}})
    seen = jw.merge({}, [failed])
    seen["p1"]["log"] = "Running upgrade\npsycopg.errors.InsufficientPrivilege: permission denied for database pystator"
    seen["p1"]["logged_restarts"] = 0
    # The Job controller deleted the pod (OnFailure, BackoffLimitExceeded): the next read lists none.
    seen = jw.merge(seen, [])
    assert seen["p1"]["gone"] and seen["p1"]["exit_code"] == 1
    assert not jw.needs_log(seen["p1"])
    text = jw.explain("ns", "m", "failed", job(FAILED), seen, [{"message": "Job has reached the specified backoff limit",
                                                                "lastTimestamp": "2026-01-01T00:01:00Z"}])
    assert text.startswith("Migration Job ns/m failed: BackoffLimitExceeded (Job has reached the specified backoff limit).")
    assert "Last pod exited 1 (Error; pod p1, since deleted by the Job controller)." in text
    assert "permission denied for database pystator" in text
    assert text.endswith("Latest event: Job has reached the specified backoff limit.")


def test_a_log_is_read_once_per_failure_and_kept_when_the_pod_restarts():
    first = jw.merge({}, [pod("p", state={"terminated": {"exitCode": 2, "reason": "Error"}})])
    assert jw.needs_log(first["p"])
    first["p"]["log"], first["p"]["logged_restarts"] = "boom", 0
    # Restarted (OnFailure) and running again: the earlier exit and log stay until the next failure.
    again = jw.merge(first, [pod("p", state={"running": {}}, restarts=1)])
    assert again["p"]["log"] == "boom" and again["p"]["exit_code"] == 2
    assert jw.needs_log(again["p"])
    again["p"]["logged_restarts"] = 1
    assert not jw.needs_log(jw.merge(again, [pod("p", state={"running": {}}, restarts=1)])["p"])


def test_a_successful_pod_needs_no_log():
    assert not jw.needs_log(jw.observe_pod(pod("p", phase="Succeeded", state={"terminated": {"exitCode": 0, "reason": "Completed"}})))


def test_image_and_secret_errors_stop_the_wait_at_once():
    for reason in ("ImagePullBackOff", "ErrImageNeverPull", "InvalidImageName", "CreateContainerConfigError"):
        seen = jw.merge({}, [pod("p", phase="Pending", state={"waiting": {"reason": reason, "message": "m"}})])
        assert jw.stuck(seen)["waiting_reason"] == reason
    # The first pull error may pass (the kubelet retries it once): not stuck yet.
    assert jw.stuck(jw.merge({}, [pod("p", phase="Pending", state={"waiting": {"reason": "ErrImagePull"}})])) is None
    assert jw.stuck(jw.merge({}, [pod("p", phase="Pending", state={"waiting": {"reason": "ContainerCreating"}})])) is None


def test_a_stuck_pod_is_explained_with_its_waiting_reason():
    seen = jw.merge({}, [pod("p", phase="Pending", state={"waiting": {"reason": "ErrImageNeverPull",
                                                                      "message": 'Container image "x:1" is not present'}})])
    text = jw.explain("ns", "m", "stuck", job(), seen)
    assert "cannot start its container" in text
    assert 'Last pod waiting: ErrImageNeverPull Container image "x:1" is not present (pod p).' in text


def test_the_most_telling_pod_is_the_one_that_failed_with_a_log():
    seen = jw.merge({}, [
        pod("a", created="2026-01-01T00:00:00Z", phase="Failed", state={"terminated": {"exitCode": 1}}),
        pod("b", created="2026-01-01T00:00:10Z", phase="Failed", state={"terminated": {"exitCode": 1}}),
        pod("c", created="2026-01-01T00:00:20Z", phase="Pending", state={"waiting": {"reason": "ContainerCreating"}}),
    ])
    seen["a"]["log"] = "only a was read"
    assert jw.most_telling(seen)["name"] == "a"
    seen["a"]["log"] = ""
    assert jw.most_telling(seen)["name"] == "b"
    assert jw.most_telling({}) is None


def test_other_outcomes_and_tail():
    assert jw.explain("ns", "m", "timeout", job(), {}, timeout=60) == "Migration Job ns/m was still running after 60 s."
    assert jw.explain("ns", "m", "absent", None, {}) == "Migration Job ns/m does not exist."
    assert jw.tail("a\n\nb\nc\n", 2) == "b | c"
    assert jw.tail("a", 0) == ""
