# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The playbooks as AWX runs them, on the local cluster (RBAC on):

* the project is a clean checkout (the files git has, no .collections link, no .cache);
* its requirements are installed the way project sync does it: from the project root,
  ``ansible-galaxy collection install -r collections/requirements.yml -p <requirements_collections>``,
  which builds this collection from the checkout; kubernetes.core and community.postgresql come
  with the ``ansible`` package, as they come with an execution environment;
* ``ansible-runner`` (AWX's runner) runs each playbook in a private data directory laid out as AWX
  lays it out, with only the built-in bearer-token credential's variables (K8S_AUTH_HOST,
  K8S_AUTH_API_KEY, K8S_AUTH_SSL_CA_CERT, K8S_AUTH_VERIFY_SSL) for a ServiceAccount that
  playbooks/rbac.yml granted least privilege, HOME without a kubeconfig, and extra vars as the
  job template and its survey (awx/surveys/*.json) pass them;
* every job runs at -vvv, and no secret (the token, the database passwords, the API key) appears
  in its job events or stdout.
"""

from __future__ import annotations

import glob
import json
import os
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml

from lifecycle_helpers import lifecycle  # noqa: F401 pylint: disable=unused-import

ROOT = Path(__file__).resolve().parents[2]
SURVEYS = ROOT / "awx" / "surveys"
SA = "statewave-deployer"
# What the job templates of awx/configure.yml pass besides the survey.
TEMPLATE_VARS = {"statewave_create_namespace": False, "pgvector_create_namespace": False, "ingress_create_namespace": False}
STRIP = ("ANSIBLE_", "K8S_AUTH_", "KUBECONFIG", "SWK_KUBECONFIG", "HELM_")


def clean_env(home):
    env = {k: v for k, v in os.environ.items() if not k.startswith(STRIP)}
    env["HOME"] = str(home)
    return env


def checkout(project):
    """The files a clone has (tracked, plus new files not ignored): no .collections link, no .cache."""
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=str(ROOT),
                           capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        src = ROOT / name
        if src.is_file() and not src.is_symlink():
            (project / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(str(src), str(project / name))
    assert not (project / ".collections").exists() and not (project / ".cache").exists()
    return project


@pytest.fixture(scope="module")
def awx_project(tmp_path_factory):
    """A private data directory with project/ (a clean checkout) and requirements_collections/."""
    pdd = tmp_path_factory.mktemp("awx-job")
    project = checkout(pdd / "project")
    (pdd / "home").mkdir()
    cache = pdd / "requirements_collections"
    env = clean_env(pdd / "home")
    env["ANSIBLE_COLLECTIONS_PATH"] = str(cache)
    proc = subprocess.run(["ansible-galaxy", "collection", "install", "-r", "collections/requirements.yml", "-p", str(cache)],
                          cwd=str(project), env=env, capture_output=True, text=True, timeout=300, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "statewave.kubernetes:0.1.0 was installed successfully" in out
    assert "'kubernetes.core:" in out and "is already installed, skipping" in out
    installed = cache / "ansible_collections" / "statewave" / "kubernetes"
    assert (installed / "roles" / "preflight" / "tasks" / "main.yml").exists()
    assert (installed / "plugins" / "modules" / "cli_kubeconfig.py").exists()
    assert not any((installed / d).exists() for d in ("hack", "tests", "molecule", "inventories", ".ci"))
    return pdd


def test_requirements_installed_into_the_checkout_resolve_every_role_and_plugin(tmp_path, kubeconfig, local_postgres):
    """By hand, without AWX: -p collections in the checkout, and its ansible.cfg finds it."""
    project = checkout(tmp_path / "project")
    (tmp_path / "home").mkdir()
    env = clean_env(tmp_path / "home")
    env["SWK_STATE_DIR"] = os.environ.get("SWK_STATE_DIR", str(ROOT / ".cache" / "state"))
    proc = subprocess.run(["ansible-galaxy", "collection", "install", "-r", "collections/requirements.yml", "-p", "collections"],
                          cwd=str(project), env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0 and "statewave.kubernetes:0.1.0 was installed successfully" in proc.stdout, proc.stdout + proc.stderr
    # diagnose.yml reaches all five roles' entry points it uses, the modules and the filters.
    run = subprocess.run(["ansible-playbook", "-i", "inventories/local", "playbooks/diagnose.yml", "-vv",
                          "-e", "statewave_namespace=swk-awx-nothing-here"],
                         cwd=str(project), env=env, capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "release statewave does not exist in namespace swk-awx-nothing-here" in run.stdout
    installed = str(project / "collections" / "ansible_collections" / "statewave" / "kubernetes") + "/"
    paths = {line.split("task path: ", 1)[1] for line in run.stdout.splitlines() if "task path: " in line and "/roles/" in line}
    assert paths and all(p.startswith(installed) for p in paths), paths


@pytest.fixture
def deployer(lifecycle, run_playbook, kubectl, kubeconfig):  # noqa: F811
    """The lifecycle namespace with the deployer ServiceAccount (playbooks/rbac.yml, as the cluster
    admin) and the credential's variables for a token of it."""
    life = lifecycle
    proc = life.run("rbac.yml")
    assert proc.returncode == 0, proc.stdout[-3000:]
    token = kubectl("-n", life.ns, "create", "token", SA, "--duration", "2h").stdout.strip()
    config = yaml.safe_load(Path(kubeconfig).read_text())
    cluster = config["clusters"][0]["cluster"]
    life.credential = {"K8S_AUTH_HOST": cluster["server"], "K8S_AUTH_API_KEY": token,
                       "K8S_AUTH_SSL_CA_CERT": cluster["certificate-authority"], "K8S_AUTH_VERIFY_SSL": "True"}
    life.token = token
    try:
        yield life
    finally:
        kubectl("delete", "clusterrolebinding", "statewave-deployer-%s-%s" % (life.ns, SA), "--ignore-not-found", check=False)


def survey_answers(template, **answers):
    """Extra vars as AWX builds them from a survey: every answer must be a question of that
    survey, of its type (integer -> int, multiple choice -> one of the choices as a string)."""
    questions = {q["variable"]: q for q in json.loads((SURVEYS / (template + ".json")).read_text())["spec"]}
    missing = [q for q in questions.values() if q["required"] and q["variable"] not in answers]
    assert not missing, "required survey questions unanswered: %s" % missing
    for name, value in answers.items():
        q = questions[name]
        if q["type"] == "integer":
            assert isinstance(value, int), name
        elif q["type"] == "multiplechoice":
            assert value in q["choices"], name
        else:
            assert isinstance(value, str), name
    return answers


class Job(object):
    def __init__(self, pdd, ident, proc):
        self.artifacts = pdd / "artifacts" / ident
        self.status = (self.artifacts / "status").read_text().strip() if (self.artifacts / "status").exists() else "none"
        self.stdout = (self.artifacts / "stdout").read_text() if (self.artifacts / "stdout").exists() else proc.stdout
        self.events = [json.loads(p.read_text()) for p in sorted((self.artifacts / "job_events").glob("*.json"),
                                                                 key=lambda p: int(p.name.split("-")[0]))]
        self.events_text = json.dumps(self.events)

    def role_task_paths(self):
        return {e["event_data"]["task_path"].split(":")[0] for e in self.events
                if e.get("event") == "runner_on_ok" and "/roles/" in e.get("event_data", {}).get("task_path", "")}

    def text(self):
        return " ".join(self.stdout.split())


def run_job(pdd, life, playbook, extra_vars, ident, image=None):
    """ansible-runner on this machine, or with ``image`` inside that execution environment (host
    network for the local cluster and Postgres on 127.0.0.1; the private data directory and the
    state directory, with the CA file and the Postgres facts, mounted at the same paths)."""
    env_dir = pdd / "env"
    env_dir.mkdir(exist_ok=True)
    cache = pdd / "requirements_collections"
    envvars = dict(life.credential, ANSIBLE_COLLECTIONS_PATH="%s:~/.ansible/collections:/usr/share/ansible/collections" % cache,
                   SWK_STATE_DIR=os.environ.get("SWK_STATE_DIR", str(ROOT / ".cache" / "state")),
                   ANSIBLE_FORCE_COLOR="0")
    for name, data in (("envvars", envvars), ("extravars", extra_vars)):
        path = env_dir / name
        fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            yaml.safe_dump(data, handle)
    cmd = ["ansible-runner", "run", str(pdd), "-p", "playbooks/%s" % playbook, "--ident", ident,
           "--inventory", str(pdd / "project" / "inventories" / "local"), "-q", "-vvv"]
    if image:
        state = envvars["SWK_STATE_DIR"]
        cmd = ["docker", "run", "--rm", "--network", "host", "--user", "0", "-v", "%s:%s" % (pdd, pdd),
               "-v", "%s:%s:ro" % (state, state), image] + cmd
    proc = subprocess.run(cmd, env=clean_env(pdd / "home"), capture_output=True, text=True, timeout=900, check=False)
    (pdd / ("runner-%s.log" % ident)).write_text(proc.stdout + proc.stderr)
    return Job(pdd, ident, proc)


def assert_no_secret(job, life, extra=()):
    for value in (life.token, life.password, life.admin["admin_password"]) + tuple(extra):
        assert value not in job.stdout, "a secret is in the job's stdout"
        assert value not in job.events_text, "a secret is in the job events"


def scratch_kubeconfigs():
    return set(glob.glob(os.path.join(tempfile.gettempdir(), "statewave-cli-*")))


def test_every_playbook_runs_under_ansible_runner_with_only_the_bearer_token(awx_project, deployer, kubectl):
    life, pdd = deployer, awx_project
    base = dict(life.vars, **TEMPLATE_VARS)
    api_key = "swk-api-" + secrets.token_hex(12)
    scratch_before = scratch_kubeconfigs()

    site = run_job(pdd, life, "site.yml", dict(base, **survey_answers(
        "site", statewave_image_tag="1.5.0", statewave_replicas=1, statewave_migration_mode="hook",
        statewave_api_key=api_key, verify_http_mode="none")), "site")
    assert site.status == "successful", site.stdout[-4000:]
    assert "release:    %s/%s revision 1 (deployed)" % (life.ns, life.release) in site.stdout
    assert "Every permission this run needs is granted." in site.stdout
    # -vvv was on, and the roles came from the requirements install, not from a link to the tree.
    assert "ESTABLISH LOCAL CONNECTION" in site.stdout
    paths = site.role_task_paths()
    assert paths and all(p.startswith(str(pdd / "requirements_collections" / "ansible_collections" / "statewave")) for p in paths), paths
    assert_no_secret(site, life, (api_key,))
    assert [r["status"] for r in life.history()] == ["deployed"]

    upgrade = run_job(pdd, life, "upgrade.yml", dict(base, **survey_answers(
        "upgrade", statewave_image_tag="1.5.1", statewave_upgrade_require_backup_ack="true",
        statewave_upgrade_backup_confirmed="true")), "upgrade")
    assert upgrade.status == "successful", upgrade.stdout[-4000:]
    assert life.image() == "statewavedev/statewave:1.5.1"
    assert_no_secret(upgrade, life, (api_key,))

    scale = run_job(pdd, life, "scale.yml", dict(base, statewave_image_tag="1.5.1", **survey_answers(
        "scale", statewave_replicas=2)), "scale")
    assert scale.status == "successful", scale.stdout[-4000:]
    deployment = json.loads(kubectl("-n", life.ns, "get", "deployment", life.fullname, "-o", "json").stdout)
    assert deployment["spec"]["replicas"] == 2
    assert_no_secret(scale, life)

    rollback = run_job(pdd, life, "rollback.yml", dict(base, **survey_answers("rollback", rollback_revision=1)), "rollback")
    assert rollback.status == "successful", rollback.stdout[-4000:]
    history = life.history()
    assert history[-1]["status"] == "deployed" and history[-1]["description"] == "Rollback to 1"
    assert life.image() == "statewavedev/statewave:1.5.0"
    # helm history and helm rollback got the token through cli_kubeconfig's short-lived kubeconfig.
    assert '"token_kubeconfig": true' in rollback.events_text
    assert_no_secret(rollback, life)

    diagnose = run_job(pdd, life, "diagnose.yml", dict(base, **survey_answers("diagnose", diagnose_fail_on_error="true")),
                       "diagnose")
    assert diagnose.status == "successful", diagnose.stdout[-4000:]
    assert "DIAGNOSE SUMMARY: 0 error(s)" in diagnose.text()
    assert_no_secret(diagnose, life)

    uninstall = run_job(pdd, life, "uninstall.yml", dict(base, **survey_answers("uninstall", uninstall_confirm=life.release)),
                        "uninstall")
    assert uninstall.status == "successful", uninstall.stdout[-4000:]
    assert life.history() == [] and not life.exists("deployment", life.fullname)
    assert_no_secret(uninstall, life)

    # The short-lived kubeconfigs of the helm CLI steps (history, status, rollback) are gone.
    assert scratch_kubeconfigs() == scratch_before


EE_IMAGE = os.environ.get("SWK_EE_TAG", "statewave-kubernetes-ee:0.1.0")


def ee_image_present():
    try:
        return subprocess.run(["docker", "image", "inspect", EE_IMAGE], capture_output=True, timeout=30, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def test_site_runs_inside_the_execution_environment(awx_project, deployer):
    """As AWX runs a job: ansible-runner inside the execution environment image, with the
    helm, kubectl and Python libraries of the image, and the collection from the project sync."""
    if not ee_image_present():
        pytest.skip("execution environment image %s is not built here (hack/ee.sh build needs a Docker engine and "
                    "the base image)" % EE_IMAGE)
    life, pdd = deployer, awx_project
    job = run_job(pdd, life, "site.yml", dict(life.vars, **TEMPLATE_VARS, **survey_answers(
        "site", statewave_image_tag="1.5.0", verify_http_mode="none")), "ee-site", image=EE_IMAGE)
    assert job.status == "successful", job.stdout[-4000:]
    assert "release:    %s/%s revision 1 (deployed)" % (life.ns, life.release) in job.stdout
    assert "Using module file /usr/local/lib/python3" in job.stdout or "Using module file /usr/lib/python3" in job.stdout
    paths = job.role_task_paths()
    assert paths and all(p.startswith(str(pdd / "requirements_collections")) for p in paths), paths
    assert [r["status"] for r in life.history()] == ["deployed"]
    assert_no_secret(job, life)


def test_a_missing_permission_is_named_before_anything_changes(awx_project, deployer, kubectl):
    life, pdd = deployer, awx_project
    role = json.loads(kubectl("-n", life.ns, "get", "role", SA, "-o", "json").stdout)
    role["rules"] = [r for r in role["rules"] if r["resources"] != ["jobs"]]
    life.apply({k: role[k] for k in ("apiVersion", "kind", "rules")} | {"metadata": {"name": SA, "namespace": life.ns}})
    secrets_before = kubectl("-n", life.ns, "get", "secrets", "-o", "name").stdout

    job = run_job(pdd, life, "site.yml", dict(life.vars, **TEMPLATE_VARS, **survey_answers("site", statewave_image_tag="1.5.0")),
                  "site-missing-jobs")
    assert job.status == "failed"
    assert ("it lacks in namespace %s: get, list, watch, create, update, patch, delete jobs.batch (the migration Job"
            % life.ns) in job.text()
    assert "Nothing was changed." in job.text()
    assert life.history() == []
    assert kubectl("-n", life.ns, "get", "secrets", "-o", "name").stdout == secrets_before
    assert_no_secret(job, life)
