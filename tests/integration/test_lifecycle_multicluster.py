# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Two cluster hosts deployed in one run, shaped like inventories/multicluster: each host has its
own kubeconfig and context (host_vars), the shared settings are group_vars. The local control
plane stands in for both clusters (two kubeconfig copies with their own context names, two
namespaces). site.yml deploys both, diagnose.yml finds no error on either, uninstall.yml removes
both releases and keeps both databases."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid

import yaml

from lifecycle_helpers import ROOT, Lifecycle, folded

HOSTS = ("eu-1", "us-1")


def kubeconfig_for(kubeconfig, tmp_path, context):
    """A copy of the local kubeconfig whose (current) context is called ``context``."""
    path = tmp_path / ("%s.kubeconfig" % context)
    shutil.copy(str(kubeconfig), str(path))
    path.chmod(0o600)
    current = json.loads(subprocess.run(["kubectl", "--kubeconfig", str(path), "config", "view", "-o", "json"],
                                        stdout=subprocess.PIPE, text=True, check=True).stdout)["current-context"]
    subprocess.run(["kubectl", "--kubeconfig", str(path), "config", "rename-context", current, context],
                   stdout=subprocess.DEVNULL, check=True)
    return path


def recaps(proc):
    out = {}
    for line in proc.stdout.splitlines():
        name = line.split(" ", 1)[0]
        if name in HOSTS and "ok=" in line:
            out[name] = {k: int(v) for k, v in (p.split("=") for p in line.split()[2:])}
    return out


def test_two_clusters_in_one_run(kubectl, kubeconfig, local_postgres, run_playbook, tmp_path):
    lives = {}
    inventory = tmp_path / "inventory"
    (inventory / "group_vars" / "all").mkdir(parents=True)
    (inventory / "host_vars").mkdir()
    try:
        for host in HOSTS:
            life = Lifecycle(kubectl, kubeconfig, run_playbook, local_postgres["pgvector"], uuid.uuid4().hex[:6])
            lives[host] = life
            life.create()
        # The local inventory's shared settings (database login, verify mode, ...), then ours.
        for path in sorted((ROOT / "inventories" / "local" / "group_vars" / "all").glob("*.yml")):
            shutil.copy(str(path), str(inventory / "group_vars" / "all" / path.name))
        group = {"statewave_chart_path": str(ROOT / "tests" / "fixtures" / "charts" / "statewave"),
                 "statewave_release_name": "statewave", "statewave_image_tag": "1.5.0"}
        (inventory / "group_vars" / "all" / "zz_multicluster.yml").write_text(yaml.safe_dump(group))
        hosts = {"statewave_clusters": {"hosts": {h: {"ansible_connection": "local",
                                                      "ansible_python_interpreter": "{{ ansible_playbook_python }}"}
                                                  for h in HOSTS}}}
        (inventory / "hosts.yml").write_text(yaml.safe_dump(hosts))
        for host, life in lives.items():
            host_vars = dict(life.vars, statewave_release_name="statewave",
                             statewave_kubeconfig=str(kubeconfig_for(kubeconfig, tmp_path, "ctx-" + host)),
                             statewave_kube_context="ctx-" + host)
            life.release, life.fullname = "statewave", "statewave"
            path = inventory / "host_vars" / ("%s.yml" % host)
            path.write_text(yaml.safe_dump(host_vars))
            path.chmod(0o600)

        deployed = run_playbook("playbooks/site.yml", inventory=inventory)
        assert deployed.returncode == 0, deployed.stdout[-5000:]
        assert set(recaps(deployed)) == set(HOSTS)
        for host, life in lives.items():
            assert [r["status"] for r in life.history()] == ["deployed"], host
            assert life.image() == "statewavedev/statewave:1.5.0"
            assert "release: %s/statewave revision 1 (deployed)" % life.ns in folded(deployed)

        diagnosed = run_playbook("playbooks/diagnose.yml", inventory=inventory)
        assert diagnosed.returncode == 0, diagnosed.stdout[-5000:]
        assert folded(diagnosed).count("DIAGNOSE SUMMARY: 0 error(s)") == 2
        assert all(r["changed"] == 0 for r in recaps(diagnosed).values())

        removed = run_playbook("playbooks/uninstall.yml", inventory=inventory, extra_vars={"uninstall_confirm": "statewave"})
        assert removed.returncode == 0, removed.stdout[-5000:]
        for host, life in lives.items():
            assert life.history() == [] and life.release_objects() == [], host
            assert life.rows() == ["kept-1", "kept-2"]
    finally:
        for life in lives.values():
            life.cleanup()
