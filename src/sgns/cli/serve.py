"""``sgns serve``: the runs in a browser page, served on this machine."""

from __future__ import annotations

import argparse
import sys

from ..errors import SgnsError
from .common import formatter


def add_serve_parser(sub) -> None:
    s = sub.add_parser(
        "serve", formatter_class=formatter, help="look at runs in a browser page",
        description="Serve a page to look at trained runs: neighbours as you type, analogies, "
        "a map of a word's neighbourhood, each run's settings, loss curve and scores, and two "
        "runs side by side. Read-only; it listens on this machine only unless --host says "
        "otherwise. Ctrl-C stops it.")
    s.add_argument("runs", nargs="+", metavar="RUN_DIR", help="run folders written by sgns train")
    s.add_argument("--host", default="127.0.0.1",
                   help="address to listen on; 0.0.0.0 opens it to the network [default: "
                   "127.0.0.1, this machine only]")
    s.add_argument("--port", type=int, default=8000, help="port to listen on [default: 8000]")


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from ..browser.app import create_app
    from ..browser.runs import load_run

    if not 0 < args.port < 65536:
        raise SgnsError(f"--port must be in 1..65535, got {args.port}")
    runs = [load_run(folder) for folder in args.runs]
    app = create_app(runs)
    # Queries run side by side on the server's threads, one core each: a BLAS product that
    # spread each one over every core made 200 clients wait seconds (benchmarks/bench_serve.py).
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level="warning",
                            h11_max_incomplete_event_size=16 * 1024)
    server = uvicorn.Server(config)
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"serving {len(runs)} run(s) at http://{host}:{args.port}/ (Ctrl-C stops)",
          file=sys.stderr, flush=True)
    try:
        server.run()
    except OSError as exc:  # the port is taken, or the address is not this machine's
        raise SgnsError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") \
            from None
    return 0 if server.started else 2
