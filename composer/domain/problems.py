"""What lint and schema validation report about a composition."""

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Problem:
    severity: Severity
    code: str
    message: str
    # Where in the rendered manifests, e.g. "Pod/web: spec.containers[1].ports[0]".
    path: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"severity": str(self.severity), "code": self.code, "message": self.message, "path": self.path}
