"""Known vulnerabilities in the installed Python packages (pip-audit) and the npm packages the
portal serves (npm audit --omit=dev).

Fails (exit 1) on a vulnerability that has a fixed version to move to. A finding without a fix
is printed and does not fail: there is nothing to upgrade to yet.

When a vulnerability service cannot be reached, the step says so in one clear line and does
not fail, unless AUDIT_REQUIRE_SERVICE=1: the machines this project builds on reach the
package registries but not every audit endpoint (pip-audit's per-version PyPI JSON answers
404 there, so every package comes back "not audited"; npm's bulk advisory endpoint answers 405).

    python .ci/audit.py            # both
    python .ci/audit.py python     # one of them: python, npm
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOT_REACHED = "VULNERABILITY SERVICE NOT REACHED, NOT AUDITED"


@dataclass
class Outcome:
    tool: str
    fixable: list[str] = field(default_factory=list)
    unfixable: list[str] = field(default_factory=list)
    audited: int = 0
    # Why the service gave no answer; empty when it did.
    unreachable: str = ""


def read_pip_audit(report: dict) -> Outcome:
    """pip-audit's JSON report: dependencies with their vulnerabilities or a skip reason."""
    outcome = Outcome("pip-audit")
    skipped = []
    for dep in report.get("dependencies", []):
        if dep.get("skip_reason"):
            skipped.append(dep["name"])
            continue
        outcome.audited += 1
        for vuln in dep.get("vulns", []):
            line = f"{dep['name']} {dep.get('version', '')}: {vuln.get('id')}"
            if vuln.get("fix_versions"):
                outcome.fixable.append(f"{line} (fixed in {', '.join(vuln['fix_versions'])})")
            else:
                outcome.unfixable.append(f"{line} (no fix yet)")
    if skipped and not outcome.audited:
        outcome.unreachable = (
            f"the service audited none of the {len(skipped)} packages "
            "(every one 'could not be audited')"
        )
    return outcome


def read_npm_audit(report: dict) -> Outcome:
    """npm audit's JSON report (lockfile v2/v3 format)."""
    outcome = Outcome("npm audit")
    if "error" in report or "vulnerabilities" not in report:
        error = report.get("error") or {}
        summary = error.get("summary") if isinstance(error, dict) else str(error)
        outcome.unreachable = report.get("message") or summary or "no report"
        return outcome
    outcome.audited = report.get("metadata", {}).get("dependencies", {}).get("total", 0)
    for name, vuln in report["vulnerabilities"].items():
        line = f"{name} {vuln.get('range', '')}: {vuln.get('severity', '')}"
        if vuln.get("fixAvailable"):
            outcome.fixable.append(f"{line} (fix available)")
        else:
            outcome.unfixable.append(f"{line} (no fix yet)")
    return outcome


def _json(stdout: str) -> dict | None:
    try:
        value = json.loads(stdout)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def run_pip_audit() -> Outcome:
    tool = os.environ.get("PIP_AUDIT") or shutil.which(
        "pip-audit", path=str(Path(sys.executable).parent)
    )
    if not tool:
        return Outcome(
            "pip-audit", unreachable="pip-audit is not installed (pip install -e '.[dev]')"
        )
    # The environment audited is the project's (this interpreter), wherever pip-audit lives.
    env = {**os.environ, "PIPAPI_PYTHON_LOCATION": sys.executable}
    result = subprocess.run(
        [tool, "--format", "json", "--progress-spinner", "off", "--skip-editable"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    report = _json(result.stdout)
    if report is None:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        return Outcome("pip-audit", unreachable=last)
    return read_pip_audit(report)


def run_npm_audit() -> Outcome:
    npm = shutil.which("npm")
    if not npm:
        return Outcome("npm audit", unreachable="npm is not installed")
    result = subprocess.run(
        [npm, "audit", "--omit=dev", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = _json(result.stdout)
    if report is None:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        return Outcome("npm audit", unreachable=last)
    return read_npm_audit(report)


def verdict(outcomes: list[Outcome], require_service: bool) -> int:
    status = 0
    for outcome in outcomes:
        if outcome.unreachable:
            print(f"{outcome.tool}: {NOT_REACHED}: {outcome.unreachable}")
            if require_service:
                status = 1
            continue
        for line in outcome.unfixable:
            print(f"{outcome.tool}: known, no fix to move to: {line}")
        for line in outcome.fixable:
            print(f"{outcome.tool}: VULNERABLE, upgrade: {line}")
        if outcome.fixable:
            status = 1
        else:
            print(f"{outcome.tool}: {outcome.audited} packages audited, nothing to fix")
    return status


def main(argv: list[str]) -> int:
    wanted = set(argv) or {"python", "npm"}
    outcomes = []
    if "python" in wanted:
        outcomes.append(run_pip_audit())
    if "npm" in wanted:
        outcomes.append(run_npm_audit())
    return verdict(outcomes, os.environ.get("AUDIT_REQUIRE_SERVICE") == "1")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
