"""docker-compose.yml and the Dockerfile: what production relies on, read from the files."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ("web", "worker", "beat")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def _test_command(service: dict) -> str:
    test = service["healthcheck"]["test"]
    return " ".join(test) if isinstance(test, list) else test


def test_every_service_has_a_health_check(compose):
    services = compose["services"]
    assert set(services) == {"db", "redis", *APP_SERVICES}
    for name, service in services.items():
        assert service.get("healthcheck", {}).get("test"), name
    assert "pg_isready" in _test_command(services["db"])
    assert "redis-cli ping" in _test_command(services["redis"])
    assert "/healthz" in _test_command(services["web"])
    assert "celery -A portal inspect ping" in _test_command(services["worker"])
    beat = _test_command(services["beat"])
    assert (
        "celerybeat.pid" in beat and "--pidfile=/tmp/celerybeat.pid" in services["beat"]["command"]
    )


def test_the_database_and_the_uploads_are_on_volumes(compose):
    assert {"pgdata", "media"} <= set(compose["volumes"])
    assert "pgdata:/var/lib/postgresql/data" in compose["services"]["db"]["volumes"]
    for name in ("web", "worker"):
        service = compose["services"][name]
        assert "media:/app/var/media" in service["volumes"], name
        assert service["environment"]["MEDIA_ROOT"] == "/app/var/media", name


def test_the_worker_has_a_memory_cap(compose):
    worker = compose["services"]["worker"]
    assert re.fullmatch(r"\$\{WORKER_MEM_LIMIT:-\d+[mg]\}", worker["mem_limit"])
    assert "--max-memory-per-child=500000" in worker["command"]


def test_the_app_reads_its_settings_from_the_env_file(compose):
    for name in APP_SERVICES:
        service = compose["services"][name]
        assert service["env_file"] == ["${ENV_FILE:-.env}"], name
        env = service["environment"]
        assert env["DEBUG"] == "false"
        assert env["SECRET_KEY"].startswith("${SECRET_KEY:?")
        assert env["SECURE_COOKIES"] == "${SECURE_COOKIES:-true}"


def test_the_image_runs_as_an_unprivileged_user(compose):
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    final_stage = dockerfile.rsplit("\nFROM ", 1)[1]
    users = re.findall(r"^USER\s+(\S+)", final_stage, flags=re.MULTILINE)
    assert users and users[-1] not in ("root", "0", "0:0")
    # No service switches back to root.
    for name, service in compose["services"].items():
        assert service.get("user") in (None, "app"), name


def test_the_image_carries_the_backup_tools_of_the_database_version(compose):
    """manage.py backup and restore run pg_dump and pg_restore, which must be of the server's
    major version."""
    major = compose["services"]["db"]["image"].split(":")[1].split(".")[0]
    final_stage = (ROOT / "Dockerfile").read_text(encoding="utf-8").rsplit("\nFROM ", 1)[1]
    assert f"postgresql-client-{major}" in final_stage


def test_docker_compose_accepts_the_file():
    binary = shutil.which("docker-compose")
    if not binary:
        pytest.skip("needs docker-compose (apt-get install docker-compose)")
    result = subprocess.run(
        [binary, "-f", "docker-compose.yml", "config", "-q"],
        cwd=ROOT,
        env={
            **os.environ,
            "SECRET_KEY": "placeholder",
            "POSTGRES_PASSWORD": "placeholder",
            "ALLOWED_HOSTS": "ci.invalid",
            "ENV_FILE": ".env.example",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
