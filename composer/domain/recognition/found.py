"""What a recogniser reads: one container as found, with its Pod and the import around it."""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

SHELLS = ("sh", "/bin/sh", "bash", "/bin/bash", "ash", "/bin/ash")


@dataclass(frozen=True)
class Found:
    """A helper container as found in a manifest (a native sidecar's restartPolicy taken off), with what its
    Pod and the import around it say: the volumes, the ConfigMaps that came along, the workload's name."""

    container: dict[str, Any]
    runs_to_completion: bool  # a regular init container
    app: dict[str, Any]  # the app container as found
    pod_shares_processes: bool = False  # shareProcessNamespace
    volumes: tuple[dict[str, Any], ...] = ()
    config_maps: dict[str, dict[str, Any]] = field(default_factory=dict)  # by name
    workload_name: str = ""

    @classmethod
    def in_pod(cls, container: dict[str, Any], in_init: bool, pod_spec: dict[str, Any],
               config_maps: dict[str, dict[str, Any]], workload_name: str) -> Found:
        native = in_init and container.get("restartPolicy") == "Always"
        spec = {k: v for k, v in container.items() if not (native and k == "restartPolicy")}
        app = (pod_spec.get("containers") or [{}])[0]
        return cls(spec, in_init and not native, app, bool(pod_spec.get("shareProcessNamespace")),
                   tuple(pod_spec.get("volumes") or ()), config_maps, workload_name)

    @property
    def argv(self) -> list[str]:
        return [str(word) for word in [*(self.container.get("command") or []), *(self.container.get("args") or [])]]

    @property
    def script(self) -> str | None:
        """The shell script of `sh -c SCRIPT`, however command and args split it."""
        argv = self.argv
        if len(argv) == 3 and argv[0] in SHELLS and argv[1] == "-c":
            return argv[2]
        return None

    @property
    def words(self) -> list[str] | None:
        """The command line as words: the argv, or a one-command shell script split as the shell would."""
        script = self.script
        if script is None:
            return self.argv
        if any(char in script for char in ";|&<>$`\n(){}*?["):  # more than one plain command
            return None
        try:
            return shlex.split(script)
        except ValueError:
            return None

    def volume(self, name: str) -> dict[str, Any]:
        return next((v for v in self.volumes if v.get("name") == name), {})

    def mount_at(self, path: str) -> dict[str, Any] | None:
        """The mount at exactly `path` (a trailing / aside)."""
        return next((m for m in self.container.get("volumeMounts") or []
                     if str(m.get("mountPath", "")).rstrip("/") == path.rstrip("/")), None)

    def source(self, volume: str, kind: str) -> dict[str, Any]:
        """A volume's source of one kind (its `configMap`, `secret`, `emptyDir` …); {} for another kind."""
        found = self.volume(volume).get(kind)
        return found if isinstance(found, dict) else {}

    def mounts_of(self, kind: str) -> list[dict[str, Any]]:
        """The mounts of volumes of one source kind."""
        return [m for m in self.container.get("volumeMounts") or [] if kind in self.volume(m.get("name", ""))]

    def config_map_of(self, mount: dict[str, Any]) -> str:
        return str(self.source(mount.get("name", ""), "configMap").get("name", ""))

    def config_files(self, mount: dict[str, Any]) -> dict[str, str] | None:
        """The files a ConfigMap mount shows (one with a subPath), if the ConfigMap came with the import."""
        data = (self.config_maps.get(self.config_map_of(mount)) or {}).get("data")
        sub_path = mount.get("subPath")
        if not isinstance(data, dict) or not isinstance(sub_path, str | None):
            return None
        if sub_path:
            return {sub_path: str(data[sub_path])} if sub_path in data else None
        return {str(key): str(value) for key, value in data.items()}

    def identity(self) -> dict[str, Any]:
        return {"name": self.container.get("name"), "image": self.container.get("image")}

    def app_mount(self, volume: str, path: str = "") -> dict[str, Any] | None:
        """The app's mount of `volume`: the one at `path` if it mounts it there too, else the first."""
        mounts = [m for m in self.app.get("volumeMounts") or [] if m.get("name") == volume]
        return next((m for m in mounts if m.get("mountPath", "").rstrip("/") == path), mounts[0] if mounts else None)

    def app_mount_path(self, volume: str, path: str = "") -> str:
        """Where the app mounts `volume` ("" when it does not), at `path` if it mounts it there too."""
        mount = self.app_mount(volume, path)
        return mount["mountPath"].rstrip("/") if mount else ""

    def generated_name(self) -> str:
        """The name a pattern gives the ConfigMap it generates for this container."""
        return f"{self.workload_name}-{self.container.get('name')}"

    def mount_holding(self, path: str) -> dict[str, Any] | None:
        """The mount whose directory holds `path` (the deepest one)."""
        holding = [m for m in self.container.get("volumeMounts") or []
                   if path.startswith(str(m.get("mountPath", "")).rstrip("/") + "/")]
        return max(holding, key=lambda m: len(m["mountPath"]), default=None)


Recogniser = Callable[[Found], Iterator[dict[str, Any]]]


def literal_env(container: dict[str, Any]) -> dict[str, str]:
    """The env a container sets to plain values (not from Secrets, fields or ConfigMaps)."""
    return {e["name"]: str(e["value"]) for e in container.get("env") or [] if "name" in e and "value" in e}
