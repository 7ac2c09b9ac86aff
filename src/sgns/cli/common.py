"""What every command shares: argparse with one-line errors, and help that gives each
option's default."""

from __future__ import annotations

import argparse


class Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")


class Formatter(argparse.HelpFormatter):
    """Appends "[default: X]" to every option whose help does not state its default already."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=32, width=100)

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        flag = isinstance(action, argparse._StoreTrueAction | argparse._StoreFalseAction)
        if flag or "default" in text or action.default in (None, False, [], argparse.SUPPRESS):
            return text
        return f"{text} [default: {action.default}]"


formatter = Formatter


# Words whose neighbours a finished run prints, and its word map shows, where it knows them.
PROBE_WORDS = ("doctor", "police", "knife", "engine")


def map_words(kv) -> list[str]:
    """The words a word map centres on: the probe words the vectors know, else the five
    most frequent."""
    present = [w for w in PROBE_WORDS if w in kv.key_to_index]  # not words built from n-grams
    return present or list(kv.index_to_key[:5])
