#!/usr/bin/env python3
"""What the schemas do not check in the rendered manifests (`kubectl kustomize` output):
every Deployment's pods run as uid 10001, non-root, with a read-only root filesystem, no
privilege escalation, all capabilities dropped, requests and limits and the three probes; the
console's probes are /healthz (startup, liveness) and /readyz (readiness), its session key
comes from a Secret and its development sign-in is off.

    python deploy/k8s/check_pods.py rendered.yaml
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

UID = 10001


def container_problems(name: str, container: dict[str, Any]) -> list[str]:
    problems = []
    security = container.get("securityContext", {})
    if security.get("runAsNonRoot") is not True or security.get("runAsUser") != UID:
        problems.append(f"{name}: not runAsNonRoot as uid {UID}")
    if security.get("readOnlyRootFilesystem") is not True:
        problems.append(f"{name}: root filesystem not read-only")
    if security.get("allowPrivilegeEscalation") is not False:
        problems.append(f"{name}: privilege escalation allowed")
    if security.get("capabilities", {}).get("drop") != ["ALL"]:
        problems.append(f"{name}: capabilities not all dropped")
    resources = container.get("resources", {})
    problems.extend(
        f"{name}: no cpu and memory {kind}"
        for kind in ("requests", "limits")
        if not {"cpu", "memory"} <= set(resources.get(kind, {}))
    )
    problems.extend(
        f"{name}: no {probe}"
        for probe in ("startupProbe", "readinessProbe", "livenessProbe")
        if probe not in container
    )
    return problems


def console_problems(name: str, container: dict[str, Any], configs: dict[str, Any]) -> list[str]:
    problems = []
    paths = {
        probe: container.get(probe, {}).get("httpGet", {}).get("path")
        for probe in ("startupProbe", "readinessProbe", "livenessProbe")
    }
    if paths != {
        "startupProbe": "/healthz",
        "readinessProbe": "/readyz",
        "livenessProbe": "/healthz",
    }:
        problems.append(f"{name}: probes {paths}, not /healthz, /readyz, /healthz")
    env = {e["name"]: e for e in container.get("env", [])}
    secret_file = env.get("LMP_CONSOLE_SESSION_SECRET_FILE", {}).get("value", "")
    mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
    mounted = next((v for p, v in mounts.items() if secret_file.startswith(p + "/")), None)
    if mounted is None:
        problems.append(f"{name}: LMP_CONSOLE_SESSION_SECRET_FILE is not on a mounted volume")
    elif mounted not in configs["secret_volumes"]:
        problems.append(f"{name}: the session key's volume {mounted} is not a Secret")
    settings: dict[str, str] = {}
    for source in container.get("envFrom", []):
        settings |= configs["config_maps"].get(source.get("configMapRef", {}).get("name"), {})
    if settings.get("LMP_CONSOLE_DEV_SIGNIN") != "false":
        problems.append(f"{name}: LMP_CONSOLE_DEV_SIGNIN is not false")
    return problems


def main(argv: list[str]) -> int:
    documents = [d for d in yaml.safe_load_all(Path(argv[1]).read_text(encoding="utf-8")) if d]
    config_maps = {
        # kustomize appends a hash to generated names; references carry it too
        d["metadata"]["name"]: d.get("data", {})
        for d in documents
        if d["kind"] == "ConfigMap"
    }
    problems = []
    consoles = 0
    for deployment in (d for d in documents if d["kind"] == "Deployment"):
        spec = deployment["spec"]["template"]["spec"]
        secret_volumes = {v["name"] for v in spec.get("volumes", []) if "secret" in v}
        configs = {"config_maps": config_maps, "secret_volumes": secret_volumes}
        for container in spec["containers"]:
            name = f"{deployment['metadata']['name']}/{container['name']}"
            problems += container_problems(name, container)
            if container.get("args", [None])[0] == "console":
                consoles += 1
                problems += console_problems(name, container, configs)
    if consoles == 0:
        problems.append("no Deployment runs `lmp console`")
    for problem in problems:
        print(problem, file=sys.stderr)  # noqa: T201  # the check's findings
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
