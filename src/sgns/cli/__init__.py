"""``sgns``: a thin command line over the Python API, one module a command. Bad input ends
with one line on stderr and exit status 2."""

from __future__ import annotations

import argparse
import os
import sys

from ..errors import SgnsError
from .common import Parser, formatter


def build_parser() -> argparse.ArgumentParser:
    from .phrases import add_phrases_parser
    from .query_options import add_query_parsers
    from .serve import add_serve_parser
    from .train_options import add_train_parser

    parser = Parser(
        prog="sgns",
        description="Train word embeddings with skip-gram and negative sampling (word2vec), "
        "then query them.",
        formatter_class=formatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    add_train_parser(sub)
    add_query_parsers(sub)
    add_serve_parser(sub)
    add_phrases_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:  # --help, or a usage error already printed on one line
        return int(exit_.code or 0)
    try:
        from importlib import import_module

        module = args.command if args.command in ("train", "serve", "phrases") else "queries"
        return import_module(f".{module}", __name__).run(args)
    except SgnsError as exc:
        print(f"sgns {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"sgns {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (sgns neighbors ... | head): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


