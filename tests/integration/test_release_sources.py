# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The release role's job migration mode (its own Job, once per image, again when the chart's
appVersion changes), the chart sources other than a path (a git repository, a Helm repository and
an OCI registry, real servers on 127.0.0.1: chart_source_helpers.py), and the migration deadline."""

from __future__ import annotations

import json
import os
import re

import pytest

from chart_source_helpers import SourceUnavailable, chart_copy, chart_repo_server, git_chart_repo, oci_registry
from helpers import folded as out
# The fixture release is used by name.
from release_helpers import (  # noqa: F401 pylint: disable=unused-import
    FAIL_LABEL, HOLD_LABEL, HOLD_LONG, assert_installed_from, deployment_image, helm_history, helm_status, job_image,
    migrate_jobs, recap, release, run)


def test_job_mode_runs_its_own_job_once_per_image(run_playbook, release, kubectl, kubeconfig):
    first = run(run_playbook, release, statewave_migration_mode="job")
    assert first.returncode == 0, first.stdout[-4000:]
    jobs = json.loads(kubectl("-n", release["ns"], "get", "jobs", "-l", "app.kubernetes.io/component=migrate",
                              "-o", "json").stdout)["items"]
    assert len(jobs) == 1 and jobs[0]["status"].get("succeeded") == 1
    env = jobs[0]["spec"]["template"]["spec"]["containers"][0]["env"]
    assert env[0]["valueFrom"]["secretKeyRef"]["name"] == "statewave-database"
    # The chart's hook Job is off in job mode.
    status = helm_status(kubeconfig, release["ns"])
    assert not [h for h in status.get("hooks", []) if h["kind"] == "Job"]

    again = run(run_playbook, release, statewave_migration_mode="job")
    assert again.returncode == 0 and recap(again)["changed"] == 0

    failed = run(run_playbook, release, statewave_migration_mode="job", statewave_image_tag="2.0.0",
                 statewave_migration_pod_labels=FAIL_LABEL)
    assert failed.returncode != 0
    assert "failed: BackoffLimitExceeded" in out(failed)
    assert deployment_image(kubectl, release["ns"]) == "statewavedev/statewave:1.5.0"
    assert len(helm_history(kubeconfig, release["ns"])) == 1


def test_job_mode_chart_app_version_bump_without_tag_runs_migrations_again(run_playbook, release, kubectl, kubeconfig, tmp_path):
    ns = release["ns"]
    job_mode = {"statewave_migration_mode": "job", "statewave_image_tag": ""}
    first = run(run_playbook, release, statewave_chart_path=str(chart_copy(tmp_path / "chart-a")), **job_mode)
    assert first.returncode == 0, first.stdout[-4000:]
    [job] = migrate_jobs(kubectl, ns)
    assert job["status"].get("succeeded") == 1
    assert job_image(job) == job["metadata"]["annotations"]["statewave.io/image"] == "statewavedev/statewave:1.5.0"
    assert deployment_image(kubectl, ns) == "statewavedev/statewave:1.5.0"

    # Only the chart's appVersion changes: the image does, so a new Job must run before the upgrade.
    bumped = run(run_playbook, release, statewave_chart_path=str(chart_copy(tmp_path / "chart-b", app_version="1.6.0")), **job_mode)
    assert bumped.returncode == 0, bumped.stdout[-4000:]
    jobs = migrate_jobs(kubectl, ns)
    assert len(jobs) == 2 and jobs[0]["metadata"]["name"] != jobs[1]["metadata"]["name"]
    assert jobs[1]["status"].get("succeeded") == 1 and job_image(jobs[1]) == "statewavedev/statewave:1.6.0"
    assert deployment_image(kubectl, ns) == "statewavedev/statewave:1.6.0"
    assert [r["status"] for r in helm_history(kubeconfig, ns)] == ["superseded", "deployed"]


def test_chart_from_a_git_checkout_pinned_to_a_commit(run_playbook, release, kubectl, kubeconfig, tmp_path):
    url, commit = git_chart_repo(tmp_path)
    cache = tmp_path / "charts"
    source = {"statewave_chart_source": "git", "statewave_chart_git_repo": url, "statewave_chart_git_version": commit,
              "statewave_chart_cache_dir": str(cache), "statewave_chart_path": "", "statewave_image_tag": ""}
    first = run(run_playbook, release, **source)
    assert_installed_from(first, run(run_playbook, release, **source), kubectl, kubeconfig, release["ns"])
    [checkout] = list(cache.iterdir())
    assert checkout.name.endswith("-" + commit) and (checkout / "helm" / "statewave" / "Chart.yaml").is_file()


def test_chart_from_a_helm_repository_in_job_mode(run_playbook, release, kubectl, kubeconfig, tmp_path):
    with chart_repo_server(tmp_path) as url:
        source = {"statewave_chart_source": "repo", "statewave_chart_repo_url": url, "statewave_chart_ref": "statewave",
                  "statewave_chart_version": "0.2.1", "statewave_chart_path": "", "statewave_image_tag": "",
                  "statewave_migration_mode": "job"}
        first = run(run_playbook, release, **source)
        assert_installed_from(first, run(run_playbook, release, **source), kubectl, kubeconfig, release["ns"])
    # The appVersion came from the repository (helm show chart --repo --version).
    [job] = migrate_jobs(kubectl, release["ns"])
    assert job_image(job) == "statewavedev/statewave:1.5.0"


def test_chart_from_an_oci_registry_in_job_mode(run_playbook, release, kubectl, kubeconfig, tmp_path):
    try:
        registry = oci_registry(tmp_path)
        oci = registry.__enter__()  # pylint: disable=unnecessary-dunder-call
    except SourceUnavailable as exc:
        if os.environ.get("SWK_REQUIRE_SERVICES") == "1":
            pytest.fail("required service missing: %s" % exc, pytrace=False)
        pytest.skip(str(exc))
    try:
        source = {"statewave_chart_source": "oci", "statewave_chart_ref": oci["ref"], "statewave_chart_version": "0.2.1",
                  "statewave_chart_path": "", "statewave_image_tag": "", "statewave_migration_mode": "job"}
        # Helm trusts the registry's throwaway CA through SSL_CERT_FILE.
        env = {"SSL_CERT_FILE": oci["ca_file"]}
        first = run(run_playbook, release, env=env, **source)
        assert_installed_from(first, run(run_playbook, release, env=env, **source), kubectl, kubeconfig, release["ns"])
        [job] = migrate_jobs(kubectl, release["ns"])
        assert job_image(job) == "statewavedev/statewave:1.5.0"
    finally:
        registry.__exit__(None, None, None)


def test_migration_deadline_ends_the_play_at_the_job_failure(run_playbook, release, kubectl, kubeconfig):
    ns = release["ns"]
    # The migration pod is held Running far longer than the Job's deadline.
    failed = run(run_playbook, release, statewave_migration_deadline_seconds=20,
                 statewave_migration_pod_labels=HOLD_LABEL, statewave_migration_pod_annotations=HOLD_LONG)
    assert failed.returncode != 0
    text = out(failed)
    assert "Migration Job %s/statewave-migrate failed: DeadlineExceeded" % ns in text
    assert "statewave_migration_deadline_seconds=20" in text and "raise statewave_migration_deadline_seconds" in text
    assert "timed out" not in text
    # What Helm was given: kubernetes.core.helm reports its command line with the failure.
    assert re.search(r"helm .*upgrade .*--timeout 320s", failed.stdout), failed.stdout[-4000:]
    job = json.loads(kubectl("-n", ns, "get", "job", "statewave-migrate", "-o", "json").stdout)
    assert job["spec"]["activeDeadlineSeconds"] == 20
    assert [c["reason"] for c in job["status"]["conditions"] if c["type"] == "Failed" and c["status"] == "True"] == ["DeadlineExceeded"]
