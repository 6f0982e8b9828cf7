"""docker-compose.yml: the production shape (Docker cannot run here, so its structure is checked)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from conftest import ROOT


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def test_airflow_3_components(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
                 "airflow-triggerer", "airflow-init"):
        assert name in services, name
    assert "api-server" in str(services["airflow-apiserver"]["command"])
    assert "dag-processor" in str(services["airflow-dag-processor"]["command"])


def test_separate_metadata_and_warehouse_databases(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert "postgres" in services and "warehouse" in services
    env = compose["x-airflow-common"]["environment"]
    assert "@postgres/" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert "@warehouse" in env["AIRFLOW_CONN_NEWS_WAREHOUSE"]
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["warehouse"]["image"].startswith("postgres:")


def test_dags_and_project_are_mounted(compose: dict[str, Any]) -> None:
    volumes = [str(v) for v in compose["x-airflow-common"]["volumes"]]
    assert any(v.startswith("./dags:") for v in volumes)
    assert any(v.startswith("./sources.yml:") or "sources" in v for v in volumes)


def test_services_wait_for_healthy_databases(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("postgres", "warehouse"):
        assert "healthcheck" in services[name]
    depends = services["airflow-scheduler"]["depends_on"]
    assert depends["airflow-init"]["condition"] == "service_completed_successfully"
