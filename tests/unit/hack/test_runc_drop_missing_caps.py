# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""hack/runc_drop_missing_caps.py: the runtime dockerd uses where the bounding set lacks a capability."""

import importlib.util
import json
from pathlib import Path

import pytest

SPEC = importlib.util.spec_from_file_location(
    "runc_drop_missing_caps", Path(__file__).resolve().parents[3] / "hack" / "runc_drop_missing_caps.py")
wrapper = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(wrapper)

ALL = ["CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_SYS_RESOURCE", "CAP_NET_ADMIN"]


def status(capbnd):
    return "Name:\tx\nCapInh:\t0000000000000000\nCapBnd:\t%s\nCapAmb:\t0000000000000000\n" % capbnd


@pytest.mark.parametrize("capbnd, missing", [
    ("000001ffffffffff", set()),
    # Our VMs: bit 24 (CAP_SYS_RESOURCE) is clear.
    ("000001fffeffffff", {"CAP_SYS_RESOURCE"}),
    ("000001fffeffffef", {"CAP_SYS_RESOURCE", "CAP_FSETID"}),
])
def test_missing_caps_reads_the_bounding_set(capbnd, missing):
    assert wrapper.missing_caps(status(capbnd)) == missing


def run(args, drop):
    calls = []
    wrapper.main(args, drop=drop, execv=lambda path, argv: calls.append(argv))
    return calls


def test_create_drops_only_the_missing_capability_and_passes_every_argument_on(tmp_path):
    spec = {"process": {"capabilities": {k: list(ALL) for k in ("bounding", "effective", "permitted")}},
            "root": {"path": "rootfs"}}
    (tmp_path / "config.json").write_text(json.dumps(spec))
    args = ["--root", "/run/x", "--log-format", "json", "create", "--bundle", str(tmp_path), "--pid-file", "p", "id1"]
    calls = run(args, {"CAP_SYS_RESOURCE"})
    written = json.loads((tmp_path / "config.json").read_text())
    assert calls == [["runc"] + args]
    for caps in written["process"]["capabilities"].values():
        assert caps == ["CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_NET_ADMIN"]
    assert written["root"] == {"path": "rootfs"}


def test_exec_rewrites_the_process_file(tmp_path):
    proc = tmp_path / "process.json"
    proc.write_text(json.dumps({"args": ["sh"], "capabilities": {"bounding": list(ALL), "effective": ["CAP_SYS_RESOURCE"]}}))
    calls = run(["exec", "--process=%s" % proc, "--detach", "id1"], {"CAP_SYS_RESOURCE"})
    assert json.loads(proc.read_text())["capabilities"] == {"bounding": ["CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_NET_ADMIN"], "effective": []}
    assert calls[0][1:] == ["exec", "--process=%s" % proc, "--detach", "id1"]


def test_nothing_is_rewritten_when_no_capability_is_missing(tmp_path):
    (tmp_path / "config.json").write_text("not json: must not be read")
    calls = run(["create", "--bundle", str(tmp_path), "id1"], set())
    assert (tmp_path / "config.json").read_text() == "not json: must not be read"
    assert len(calls) == 1


def test_other_commands_pass_through(tmp_path):
    assert run(["state", "id1"], {"CAP_SYS_RESOURCE"}) == [["runc", "state", "id1"]]
