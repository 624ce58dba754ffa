# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Play 1 of site.yml reads the cluster once: the preflight role's check of the API version, whose
API groups the ingress role's check uses (its stale-object sweep lists only served kinds) instead
of a second k8s_cluster_info. Fails when the reading is not handed over (the ingress role read on
its own) or when it lacks the cluster's API groups (the sweep would skip kinds the cluster serves)."""

from __future__ import annotations

import uuid

from conftest import ROOT
from helpers import recap


def test_play1_reads_the_cluster_once_for_preflight_and_ingress(run_playbook, kubeconfig, local_postgres):
    suffix = uuid.uuid4().hex[:6]
    extra = {"statewave_namespace": "swk-p1-" + suffix, "pgvector_app_database": "swk_p1_" + suffix,
             "preflight_db_name": "swk_p1_" + suffix}
    proc = run_playbook("play1_reads.yml", extra_vars=extra, inventory=ROOT / "inventories/local")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert recap(proc)["failed"] == 0
    assert recap(proc)["changed"] == 0
    out = proc.stdout
    assert "TASK [statewave.kubernetes.preflight : Read the Kubernetes API version]" in out
    # The ingress role's own read is skipped; its set_fact from the preflight reading ran.
    read = out.split("TASK [statewave.kubernetes.ingress : Read the API groups the cluster serves]")[1].split("TASK [")[0]
    assert "skipping: [local]" in read, read
    used = out.split("TASK [statewave.kubernetes.ingress : Use the API groups the preflight role read in this run]")[1].split("TASK [")[0]
    assert "ok: [local]" in used, used
