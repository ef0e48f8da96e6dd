"""Offline checks of the kustomize tree (no cluster, no kustomize binary needed).

* every full resource a kustomization lists passes ``kubernetes-validate --strict`` (custom
  resources of operators the schemas do not know — CloudNativePG — are listed and skipped);
* every patch targets a resource (kind and name) that the kustomization builds, directly or
  through the bases it includes, and names only containers that resource has (a strategic
  merge patch with a misspelt container name would silently add a second, broken container).

``python deploy/k8s/check.py deploy/k8s`` exits 1 and says what is wrong otherwise.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

CUSTOM_API_GROUPS = ("postgresql.cnpg.io/",)


def documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def resource_files(kustomization: Path) -> list[Path]:
    """The resource files a kustomization builds, following its bases."""
    spec = documents(kustomization)[0]
    files: list[Path] = []
    for entry in spec.get("resources", []):
        target = (kustomization.parent / entry).resolve()
        if target.is_dir():
            files += resource_files(target / "kustomization.yaml")
        else:
            files.append(target)
    return files


def built_resources(files: list[Path]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (doc["kind"], doc["metadata"]["name"]): doc for path in files for doc in documents(path)
    }


def container_names(resource: dict[str, Any]) -> set[str]:
    pod = resource.get("spec", {}).get("template", {}).get("spec", {})
    return {container["name"] for container in pod.get("containers", [])}


def patch_problems(kustomization: Path) -> list[str]:
    built = built_resources(resource_files(kustomization))
    problems = []
    for patch in documents(kustomization)[0].get("patches", []):
        path = kustomization.parent / patch["path"]
        for doc in documents(path):
            target = (doc["kind"], doc["metadata"]["name"])
            if target not in built:
                problems.append(f"{path}: patches {target[0]}/{target[1]}, which is not built")
                continue
            unknown = container_names(doc) - container_names(built[target])
            if unknown:
                problems.append(f"{path}: {target[0]}/{target[1]} has no container {unknown}")
    return problems


def schema_problems(files: list[Path]) -> list[str]:
    standard = [
        path
        for path in sorted(set(files))
        if not any(doc["apiVersion"].startswith(CUSTOM_API_GROUPS) for doc in documents(path))
    ]
    validator = Path(sys.executable).with_name("kubernetes-validate")
    result = subprocess.run(
        [str(validator), "--strict", "--quiet", *map(str, standard)],
        capture_output=True,
        text=True,
        check=False,
    )
    return [] if result.returncode == 0 else [result.stdout + result.stderr]


def main(root: Path) -> int:
    kustomizations = sorted(root.rglob("kustomization.yaml"))
    problems: list[str] = []
    files: list[Path] = []
    for kustomization in kustomizations:
        files += resource_files(kustomization)
        problems += patch_problems(kustomization)
    problems += schema_problems(files)
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"{len(kustomizations)} kustomizations, {len(set(files))} resource files: valid")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
