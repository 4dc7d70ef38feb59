"""A shell script read as the simple commands it runs, the way a recogniser needs it.

Enough of sh for the scripts helpers are written with (quotes, `;`, `&&`, new lines, `|`, `>`), and
nothing more: a script this cannot read is not recognised (the recognisers propose nothing)."""

from __future__ import annotations

import shlex


def _tokens(script: str) -> list[str] | None:
    lexer = shlex.shlex(script, posix=True, punctuation_chars=";&|<>\n")
    lexer.whitespace = " \t\r"
    lexer.whitespace_split = True
    try:
        return list(lexer)
    except ValueError:  # an unclosed quote
        return None


def _separates(token: str) -> bool:
    """`;`, `&&` and new lines end a command (runs of them as shlex groups them); a lone `&` does not."""
    return set(token.replace("&&", "")) <= {";", "\n"}


def commands(script: str) -> list[list[str]] | None:
    """The script's commands in order, each as its words (`|` and `>` kept as words); None if unreadable."""
    tokens = _tokens(script)
    if tokens is None:
        return None
    found: list[list[str]] = [[]]
    for token in tokens:
        if _separates(token):
            found.append([])
        else:
            found[-1].append(token)
    return [words for words in found if words]


def redirected(words: list[str]) -> tuple[list[str], str] | None:
    """(the command or pipeline, the file its output goes to) for `COMMAND … > FILE`; None for anything else."""
    if len(words) < 3 or words[-2] != ">" or ">" in words[:-2] or any(w in (">>", "<", "&", "||") for w in words):
        return None
    return words[:-2], words[-1]


def is_dynamic(text: str) -> bool:
    """Whether the shell would expand something in it: a variable or a command's output."""
    return "$" in text or "`" in text
