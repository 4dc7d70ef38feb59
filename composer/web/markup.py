"""HTML that the presentation layer escaped itself, marked safe for templates in one place."""

from __future__ import annotations

from django.utils.safestring import SafeString, mark_safe

from composer.presentation.highlight import highlight_yaml


def yaml_html(text: str) -> SafeString:
    # Pygments' formatter escapes every token it emits.
    return mark_safe(highlight_yaml(text))  # noqa: S308
