"""Recognition by shape: which catalog pattern (and which params) a container found in a manifest is.

Each recogniser reads one container as the books and the Kubernetes docs write it (command and args,
image, mounts, ports, securityContext, the config files of the ConfigMaps it mounts) and as Pod Studio
renders it, and proposes params; it proposes nothing when unsure. A
proposal is only a hypothesis: the importer keeps it only if the pattern, given those params and
the container's own extra fields as overrides, renders the Pod exactly as found.
"""

from composer.domain.recognition.candidates import candidates
from composer.domain.recognition.found import Found
from composer.domain.recognition.known_images import KnownImage, known_image

__all__ = ["Found", "KnownImage", "candidates", "known_image"]
