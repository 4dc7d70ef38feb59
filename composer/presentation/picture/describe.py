"""The Pod picture in words: the plain sentences of its <desc>, for screen readers, and the words
of the container boxes' tooltips.
"""

from __future__ import annotations

from composer.domain.render import Placement
from composer.presentation.picture.model import ContainerBox, PodPicture, PortTag


def describe(picture: PodPicture, kind: str, name: str) -> str:
    """The picture in plain sentences, for <desc> and screen readers."""
    subject = f"Pod {name}" if kind == "Pod" else f"{kind} {name} (Pod template)"
    sentences = []
    sequence: list[tuple[int, str]] = [(box.step or 0, box.name) for box in picture.init_boxes]
    sequence += [(marker.step, f"{marker.container} (native sidecar, keeps running)") for marker in picture.markers]
    if sequence:
        steps = ", ".join(f"{step} {text}" for step, text in sorted(sequence))
        sentences.append(f"{subject}: init containers run in order: {steps}.")
    else:
        sentences.append(f"{subject}: no init containers.")
    running = []
    for box in picture.boxes:
        if box.is_app:
            details = [box.image] if box.name == "app" else ["app container", box.image]
        else:
            details = [role_words(box)]
        ports = _ports_words(box.ports)
        if ports:
            details.append(ports)
        running.append(f"{box.name} ({', '.join(details)})")
    sentences.append(f"Running: {', '.join(running)}." if running else "Running: nothing.")
    for pill in picture.volumes:
        users = [f"{line.container} {line.mode}" for line in picture.mounts if line.volume == pill.name]
        where = f"Volume {pill.name} ({pill.kind})"
        sentences.append(f"{where}: {', '.join(users)}." if users else f"{where}: not mounted.")
    if picture.service is not None:
        ports = []
        for chip in picture.service.ports:
            shown = chip.text.split(" → ")[0]
            goes = ", ".join(chip.targets) if chip.targets else f"no container declares {chip.target}"
            ports.append(f"{shown} → {goes}")
        listed = "; ".join(ports) if ports else "no ports"
        sentences.append(f"Service {picture.service.name} ({picture.service.type}): {listed}.")
    sentences.append("Network: shared, every running container reaches the others on localhost.")
    if picture.process_namespace.shared:
        sentences.append("Process namespace: shared by all containers.")
    else:
        sentences.append("Process namespace: isolated.")
    return " ".join(sentences)


def role_words(box: ContainerBox) -> str:
    if box.kind == Placement.NATIVE_SIDECAR:
        role = "" if box.role == "sidecar" else f"{box.role}, "
        return f"{role}native sidecar, starts at step {box.step}"
    if box.is_app:
        return "app container"
    return box.role


def _ports_words(tags: tuple[PortTag, ...]) -> str:
    if not tags:
        return ""
    words = []
    for tag in tags:
        number = str(tag.number) if tag.protocol == "TCP" else f"{tag.number}/{tag.protocol}"
        words.append(f"{number} {tag.name}" if tag.name else number)
    return ("port " if len(words) == 1 else "ports ") + ", ".join(words)
