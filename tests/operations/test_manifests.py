"""The deployment files: the offline checks of ``make manifests`` catch what they claim to, and
the images and compose file keep the conventions operators rely on."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from fursa.shared.contracts.registry import SERVICES

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
CHECK = [sys.executable, str(DEPLOY / "k8s" / "check.py")]


def _check(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CHECK, str(root)], capture_output=True, text=True, check=False)


def test_committed_kustomize_tree_passes_the_checks() -> None:
    result = _check(DEPLOY / "k8s")
    assert result.returncode == 0, result.stderr


def test_a_patch_of_a_resource_that_does_not_exist_is_caught(tmp_path: Path) -> None:
    tree = shutil.copytree(DEPLOY / "k8s", tmp_path / "k8s")
    patch = tree / "overlays" / "prod" / "replicas.yaml"
    patch.write_text(patch.read_text().replace("name: notify", "name: notifications", 1))
    result = _check(tree)
    assert result.returncode == 1
    assert "Deployment/notifications, which is not built" in result.stderr


def test_an_unknown_field_in_a_resource_is_caught(tmp_path: Path) -> None:
    tree = shutil.copytree(DEPLOY / "k8s", tmp_path / "k8s")
    base = tree / "base" / "training.yaml"
    base.write_text(base.read_text().replace("  maxUnavailable: 1", "  maxUnavailabel: 1"))
    result = _check(tree)
    assert result.returncode == 1
    assert "maxUnavailabel" in result.stderr


def test_every_service_has_an_image_a_deployment_and_a_compose_service() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]
    assert {"nats", "postgres", "otel-collector", "jaeger", "provision"} <= set(compose)
    for service in SERVICES:
        dockerfile = (DEPLOY / "images" / service / "Dockerfile").read_text()
        assert dockerfile.count("FROM ") == 2  # multi-stage: build, then run
        assert f"uv sync --frozen --no-dev --no-editable --package fursa-{service}" in dockerfile
        assert "USER 10001" in dockerfile
        assert "HEALTHCHECK" in dockerfile
        assert compose[service]["build"]["dockerfile"] == f"deploy/images/{service}/Dockerfile"
        env = compose[service]["environment"]
        assert env[f"FURSA_{service.upper()}_NATS_USER"] == service
        # Passwords are required from the environment, never defaulted.
        assert ":?" in env[f"FURSA_{service.upper()}_NATS_PASSWORD"]
        kinds = {
            doc["kind"]
            for doc in yaml.safe_load_all((DEPLOY / "k8s" / "base" / f"{service}.yaml").read_text())
        }
        assert kinds == {
            "Deployment",
            "Service",
            "PodDisruptionBudget",
            "HorizontalPodAutoscaler",
            "Job",
        }


def test_the_nats_container_gets_every_password_the_generated_config_names() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]
    named = set()
    for name in ("auth.conf", "partners.conf"):
        text = (DEPLOY / "nats" / name).read_text()
        named |= {word.strip("$") for word in text.split() if word.startswith("$FURSA_")}
    assert named == set(compose["nats"]["environment"])


def test_a_patch_naming_a_container_the_resource_lacks_is_caught(tmp_path: Path) -> None:
    tree = shutil.copytree(DEPLOY / "k8s", tmp_path / "k8s")
    patch = tree / "overlays" / "prod" / "provision-r3.yaml"
    patch.write_text(patch.read_text().replace("- name: provision", "- name: provisioner"))
    result = _check(tree)
    assert result.returncode == 1
    assert "Job/nats-provision has no container {'provisioner'}" in result.stderr
