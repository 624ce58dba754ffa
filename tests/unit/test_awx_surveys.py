# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AWX surveys (awx/surveys/*.json) are generated from the playbooks' and roles' argument
specs, are up to date, and pass the checks AWX's survey_spec endpoint makes; awx/configure.yml
(awx.awx, bundled in the ansible package) passes a syntax check. It cannot run here: there is no
AWX to talk to."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "hack"))

import awx_surveys  # noqa: E402

SURVEYS = sorted((ROOT / "awx" / "surveys").glob("*.json"))
# The question types AWX accepts and the Python type of a default for each.
ALLOWED = {"text": str, "textarea": str, "password": str, "multiplechoice": str, "multiselect": str,
           "integer": int, "float": (int, float)}


def awx_errors(survey):
    """The checks of AWX's JobTemplateSurveySpec._validate_spec_data, written out here."""
    errors = []
    for field, kind in (("name", str), ("description", str), ("spec", list)):
        if not isinstance(survey.get(field), kind):
            errors.append("field %s missing or not %s" % (field, kind.__name__))
    if errors:
        return errors
    if not survey["spec"]:
        errors.append("spec has no items")
    seen = set()
    for idx, q in enumerate(survey["spec"]):
        for field, kind in (("type", str), ("question_name", str), ("variable", str), ("required", bool)):
            if not isinstance(q.get(field), kind):
                errors.append("question %d: %s missing or not %s" % (idx, field, kind.__name__))
        if q.get("variable") in seen:
            errors.append("question %d: variable %s duplicated" % (idx, q.get("variable")))
        seen.add(q.get("variable"))
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", str(q.get("variable"))):
            errors.append("question %d: %r is not a variable name" % (idx, q.get("variable")))
        if q.get("type") not in ALLOWED:
            errors.append("question %d: type %s not allowed" % (idx, q.get("type")))
            continue
        if q.get("default", "") != "" and not isinstance(q["default"], ALLOWED[q["type"]]):
            errors.append("question %d: default %r is not a %s" % (idx, q["default"], q["type"]))
        for key in ("min", "max"):
            if q.get(key) is not None and not isinstance(q[key], int):
                errors.append("question %d: %s not an integer" % (idx, key))
        if q["type"] in ("multiplechoice", "multiselect"):
            if not q.get("choices"):
                errors.append("question %d: %s without choices" % (idx, q["type"]))
            elif "default" in q and q["default"] not in q["choices"]:
                errors.append("question %d: default not among the choices" % idx)
        if q["type"] == "password" and "default" in q:
            errors.append("question %d: a password question with a default" % idx)
    return errors


def test_surveys_are_generated_and_up_to_date():
    assert [p.stem for p in SURVEYS] == sorted(awx_surveys.TEMPLATES)
    proc = subprocess.run([sys.executable, str(ROOT / "hack" / "awx_surveys.py"), "--check"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("path", SURVEYS, ids=lambda p: p.stem)
def test_survey_passes_awx_checks(path):
    assert awx_errors(json.loads(path.read_text())) == []


@pytest.mark.parametrize("path", SURVEYS, ids=lambda p: p.stem)
def test_questions_follow_the_playbook_spec(path):
    spec = awx_surveys.play_spec(ROOT / "playbooks" / (path.stem + ".yml"))
    roles = awx_surveys.role_options()
    questions = {q["variable"]: q for q in json.loads(path.read_text())["spec"]}
    assert list(questions) == list(spec)
    for name, opts in spec.items():
        merged = dict(roles.get(name) or {}, **(opts or {}))
        q = questions[name]
        if merged.get("no_log"):
            assert q["type"] == "password", name
        elif merged.get("choices"):
            assert (q["type"], q["choices"]) == ("multiplechoice", [str(c) for c in merged["choices"]]), name
        elif merged.get("type") == "bool":
            assert (q["type"], q["choices"]) == ("multiplechoice", ["true", "false"]), name
        elif merged.get("type") == "int":
            assert q["type"] == "integer", name
        assert q["required"] is bool(merged.get("required")), name
        # Answers are extra vars and beat the inventory: no default unless the playbook gives one.
        assert ("default" in q) == ("default" in (opts or {})), name


def test_secrets_and_choices_are_covered():
    site = {q["variable"]: q for q in json.loads((ROOT / "awx" / "surveys" / "site.json").read_text())["spec"]}
    assert site["statewave_api_key"]["type"] == "password" and site["statewave_llm_api_key"]["type"] == "password"
    assert site["statewave_migration_mode"]["choices"] == ["hook", "job"]
    rollback = {q["variable"]: q for q in json.loads((ROOT / "awx" / "surveys" / "rollback.json").read_text())["spec"]}
    assert rollback["rollback_revision"] == dict(rollback["rollback_revision"], type="integer", required=True)


def test_the_checks_catch_what_awx_refuses():
    bad = {"name": "x", "description": "", "spec": [
        {"type": "multiplechoice", "question_name": "a", "variable": "a", "required": False, "choices": ["x"], "default": "y"},
        {"type": "integer", "question_name": "b", "variable": "a", "required": "no", "default": "3"},
        {"type": "boolean", "question_name": "c", "variable": "c-d", "required": False},
        {"type": "password", "question_name": "d", "variable": "d", "required": False, "default": "s3cret"}]}
    errors = awx_errors(bad)
    assert any("default not among the choices" in e for e in errors)
    assert any("duplicated" in e for e in errors) and any("required missing or not bool" in e for e in errors)
    assert any("not allowed" in e for e in errors) and any("not a variable name" in e for e in errors)
    assert any("password question with a default" in e for e in errors)
    assert any("default '3' is not a integer" in e for e in errors)


def test_awx_configure_playbook_parses_and_uses_every_survey():
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    proc = subprocess.run(["ansible-playbook", "--syntax-check", str(ROOT / "awx" / "configure.yml")], cwd=str(ROOT),
                          env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    play = yaml.safe_load((ROOT / "awx" / "configure.yml").read_text())[0]
    assert sorted(play["vars"]["__templates"]) == sorted(awx_surveys.TEMPLATES)
    assert "awx.awx.job_template" in json.dumps(play["tasks"])
