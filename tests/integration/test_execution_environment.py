# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The execution environment image (execution-environment.yml), built with ansible-builder and the
Docker engine from a base image built on this machine (no registry): ansible-playbook, helm,
kubectl and git run inside it. Optional: skipped, with the reason, where no engine answers or the
base image is absent. (`ansible-builder create` and the context check run in the lint stage.)"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BASE = os.environ.get("SWK_EE_BASE_IMAGE", "swk.local/rootfs-python:bookworm")


def engine_answers():
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=30, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def test_image_builds_and_runs_ansible_and_helm():
    if not engine_answers():
        pytest.skip("no container engine answers 'docker info' (the image build needs one)")
    if subprocess.run(["docker", "image", "inspect", BASE], capture_output=True, check=False).returncode != 0:
        pytest.skip("base image %s is not on this machine (SWK_EE_BASE_IMAGE names another)" % BASE)
    proc = subprocess.run([str(ROOT / "hack" / "ee.sh"), "build"], capture_output=True, text=True, timeout=3600, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    assert "ansible-playbook [core 2.19.14]" in out
    assert "v3.21" in out and "[ee] built statewave-kubernetes-ee:0.1.0 from %s" % BASE in out
