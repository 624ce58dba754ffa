# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every role documents each of its variables: a default without an argument_specs entry is
neither validated nor shown by ansible-doc, and the inventory typo check relies on the specs."""

from pathlib import Path

import pytest
import yaml

ROLES = sorted(p.parent.parent for p in (Path(__file__).resolve().parents[2] / "roles").glob("*/meta/argument_specs.yml"))


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_every_default_is_in_the_argument_specs(role):
    defaults = yaml.safe_load((role / "defaults" / "main.yml").read_text()) or {}
    specs = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    declared = set()
    for entry in specs.values():
        declared |= set((entry.get("options") or {}).keys())
    assert sorted(set(defaults) - declared) == []


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_every_variable_carries_the_role_prefix(role):
    defaults = yaml.safe_load((role / "defaults" / "main.yml").read_text()) or {}
    assert [name for name in defaults if not name.startswith(role.name + "_")] == []


def test_all_roles_are_checked():
    assert {p.name for p in ROLES} >= {"preflight", "pgvector", "ingress", "statewave", "verify"}
