"""The dependency audit of CI (.ci/audit.py): what fails the step and what only warns."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / ".ci" / "audit.py"


@pytest.fixture(scope="module")
def audit():
    spec = importlib.util.spec_from_file_location("ci_audit", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["ci_audit"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    yield module
    del sys.modules["ci_audit"]


def _pip(*deps):
    return {"dependencies": list(deps), "fixes": []}


def test_a_python_vulnerability_with_a_fix_fails(audit, capsys):
    report = _pip(
        {
            "name": "django",
            "version": "5.2",
            "vulns": [{"id": "PYSEC-1", "fix_versions": ["5.2.1"]}],
        },
        {"name": "celery", "version": "5.4", "vulns": []},
    )
    outcome = audit.read_pip_audit(report)
    assert outcome.fixable == ["django 5.2: PYSEC-1 (fixed in 5.2.1)"]
    assert audit.verdict([outcome], require_service=False) == 1
    assert "VULNERABLE, upgrade: django 5.2" in capsys.readouterr().out


def test_a_vulnerability_without_a_fix_only_warns(audit, capsys):
    report = _pip({"name": "pkg", "version": "1", "vulns": [{"id": "GHSA-x", "fix_versions": []}]})
    assert audit.verdict([audit.read_pip_audit(report)], require_service=False) == 0
    assert "no fix to move to: pkg 1: GHSA-x" in capsys.readouterr().out


def test_nothing_audited_is_said_loudly_and_does_not_fail(audit, capsys):
    report = _pip(
        {"name": "django", "skip_reason": "Dependency not found on PyPI and could not be audited"},
        {"name": "celery", "skip_reason": "Dependency not found on PyPI and could not be audited"},
    )
    outcome = audit.read_pip_audit(report)
    assert outcome.unreachable
    assert audit.verdict([outcome], require_service=False) == 0
    assert "VULNERABILITY SERVICE NOT REACHED, NOT AUDITED" in capsys.readouterr().out
    # Where the service must answer, its silence fails.
    assert audit.verdict([outcome], require_service=True) == 1


def test_npm_findings(audit):
    report = {
        "vulnerabilities": {
            "bootstrap": {"severity": "moderate", "range": "<5.3.0", "fixAvailable": True},
            "other": {"severity": "low", "range": "*", "fixAvailable": False},
        },
        "metadata": {"dependencies": {"total": 3}},
    }
    outcome = audit.read_npm_audit(report)
    assert outcome.fixable == ["bootstrap <5.3.0: moderate (fix available)"]
    assert outcome.unfixable == ["other *: low (no fix yet)"]
    assert audit.verdict([outcome], require_service=False) == 1


def test_npm_endpoint_refusing_is_unreachable(audit):
    report = {"message": "405 Method Not Allowed", "statusCode": 405, "error": {"summary": ""}}
    outcome = audit.read_npm_audit(report)
    assert outcome.unreachable == "405 Method Not Allowed"
    assert audit.verdict([outcome], require_service=False) == 0


def test_npm_clean_report_passes(audit):
    report = {"vulnerabilities": {}, "metadata": {"dependencies": {"total": 3}}}
    assert audit.verdict([audit.read_npm_audit(report)], require_service=False) == 0
