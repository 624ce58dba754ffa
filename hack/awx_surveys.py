# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Generate the AWX survey of each job template (awx/surveys/<playbook>.json) from the
playbook's own argument spec (its `ansible.builtin.validate_argument_spec` task), with types,
choices and no_log completed from the roles' meta/argument_specs.yml.

  python hack/awx_surveys.py           write the files
  python hack/awx_surveys.py --check   exit 1 when a file is missing or out of date (the unit tests run this)

Mapping: no_log -> password; choices -> multiplechoice; bool -> multiplechoice true/false;
int -> integer; float -> float; list -> textarea (one item per line); else text.
Survey answers are extra vars, which override the inventory: so a question carries a default
only when the playbook's spec gives one (a blank optional answer is not passed at all).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ["site", "upgrade", "rollback", "uninstall", "scale", "diagnose"]
OUT = ROOT / "awx" / "surveys"


def play_spec(playbook: Path) -> dict:
    for play in yaml.safe_load(playbook.read_text()):
        for section in ("pre_tasks", "tasks"):
            for task in play.get(section) or []:
                if "ansible.builtin.validate_argument_spec" in task:
                    return task["ansible.builtin.validate_argument_spec"]["argument_spec"]
    raise SystemExit("%s has no ansible.builtin.validate_argument_spec task: every job template's playbook needs "
                     "its own argument spec" % playbook.relative_to(ROOT))


def role_options() -> dict:
    options = {}
    for path in sorted(ROOT.glob("roles/*/meta/argument_specs.yml")):
        for entry in yaml.safe_load(path.read_text())["argument_specs"].values():
            for name, spec in (entry.get("options") or {}).items():
                options.setdefault(name, spec)
    return options


def _text(value) -> str:
    return " ".join(value) if isinstance(value, list) else str(value or "")


def question(name: str, spec: dict, role: dict) -> dict:
    merged = dict(role, **spec)
    kind = merged.get("type", "str")
    description = _text(spec.get("description") or role.get("description"))
    q = {
        "question_name": name.replace("_", " "),
        "question_description": description,
        "variable": name,
        "required": bool(merged.get("required", False)),
    }
    if merged.get("no_log"):
        q["type"] = "password"
    elif merged.get("choices"):
        q["type"] = "multiplechoice"
        q["choices"] = [str(c) for c in merged["choices"]]
    elif kind == "bool":
        q["type"] = "multiplechoice"
        q["choices"] = ["true", "false"]
    elif kind == "int":
        q["type"] = "integer"
    elif kind == "float":
        q["type"] = "float"
    elif kind == "list":
        q["type"] = "textarea"
    else:
        q["type"] = "text"
    if "default" in spec and not merged.get("no_log"):
        default = spec["default"]
        q["default"] = str(default).lower() if isinstance(default, bool) else default
    return q


def survey(playbook: str, roles: dict) -> dict:
    path = ROOT / "playbooks" / (playbook + ".yml")
    spec = play_spec(path)
    lines = [line[2:] for line in path.read_text().splitlines() if line.startswith("# ")]
    return {
        "name": "statewave.kubernetes %s" % playbook,
        "description": lines[0] if lines else playbook,
        "spec": [question(name, opts or {}, roles.get(name) or {}) for name, opts in spec.items()],
    }


def render(data: dict) -> str:
    return json.dumps(data, indent=2, sort_keys=False) + "\n"


def main(argv) -> int:
    check = "--check" in argv
    roles = role_options()
    stale = []
    OUT.mkdir(parents=True, exist_ok=True)
    for name in TEMPLATES:
        target = OUT / (name + ".json")
        text = render(survey(name, roles))
        if check:
            if not target.exists() or target.read_text() != text:
                stale.append(str(target.relative_to(ROOT)))
        else:
            target.write_text(text)
    if stale:
        print("out of date (run python hack/awx_surveys.py): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
