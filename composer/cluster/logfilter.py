"""Keep credentials out of the server log.

``CredentialFilter`` is attached to the console handler (``podstudio/settings.py`` LOGGING):

- records emitted from the ``kubernetes.config`` package are dropped. That package logs on the
  root logger (``logging.error(str(e))`` in ``kube_config._load_from_exec_plugin``), and what it
  logs quotes a failed exec credential plugin's stderr, which may hold the plugin's secret
  arguments and environment. Pod Studio reports such a failure itself, without the output
  (``composer.cluster.contexts``);
- every other record is scrubbed: its message (with its arguments) and its traceback pass through
  ``scrub_secrets``, so a token, a password or ``user:password@`` in a URL never reaches the log.

The cluster layer never imports Django; this is a plain ``logging.Filter``.
"""

from __future__ import annotations

import logging
import os

from composer.cluster.errors import scrub_secrets

_KUBERNETES_CONFIG_DIR = "/kubernetes/config/"
_KUBERNETES_CONFIG_LOGGER = "kubernetes.config"
# The package's modules, for records without a path (a record made up elsewhere keeps the module).
_KUBERNETES_CONFIG_MODULES = frozenset({"kube_config", "exec_provider", "incluster_config", "config_exception"})


def from_kubernetes_config(record: logging.LogRecord) -> bool:
    """Whether the record was emitted by code in the kubernetes.config package (on any logger)."""
    name = record.name or ""
    if name == _KUBERNETES_CONFIG_LOGGER or name.startswith(_KUBERNETES_CONFIG_LOGGER + "."):
        return True
    pathname = (record.pathname or "").replace(os.sep, "/")
    if pathname:
        return _KUBERNETES_CONFIG_DIR in pathname
    return record.module in _KUBERNETES_CONFIG_MODULES


class CredentialFilter(logging.Filter):
    """Drops kubernetes.config records; scrubs credential shapes from all others (message, args, traceback)."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        if from_kubernetes_config(record):
            return False
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: logging reports it itself, with the raw message
            message = None
        if message is not None:
            scrubbed = scrub_secrets(message)
            if scrubbed != message:
                record.msg, record.args = scrubbed, None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            scrubbed = scrub_secrets(record.exc_text)
            if scrubbed != record.exc_text:
                # Formatters format exc_info afresh when it is set (python-json-logger always does):
                # keep only the scrubbed text.
                record.exc_text, record.exc_info = scrubbed, None
        return True
