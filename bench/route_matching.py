"""Microseconds the site spends finding the route of a request, by path.

Starlette and FastAPI try the app's routes in order until one matches the path and the
method, and FastAPI (0.165) tries each route of an included router in turn, a few
microseconds each: a page whose route comes after a hundred others pays for all of them
on every request. This times that search, as the router runs it (``route.matches`` on
each top-level route until the first full match), for the pages a reader requests most.

Run:  python bench/route_matching.py [--repeat 2000]
      PYTHONPATH=<other checkout>/src python bench/route_matching.py   (the same, before)

The app is built on an empty temporary home: routing does not read the data.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import Machine, add_machine_arguments  # noqa: E402

PATHS = [
    ("GET", "/"),
    ("GET", "/search"),
    ("GET", "/papers/2401.00001"),
    ("GET", "/trending"),
    ("GET", "/api/papers/search"),
    ("GET", "/api/daily_papers"),
    ("GET", "/api/papers/2401.00001"),
    ("GET", "/api/papers/search/trend"),
    ("GET", "/healthz"),
    ("GET", "/metrics"),
    ("POST", "/mcp"),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2000, help="timed matches per path")
    add_machine_arguments(parser)
    arguments = parser.parse_args()
    machine = Machine.check(arguments)

    home = tempfile.mkdtemp(prefix="paperfeed-routes-")
    os.environ.update({"PAPERFEED_HOME": home, "PAPERFEED_EMBED_MODEL": "hashing"})
    import logging

    logging.disable(logging.INFO)
    from starlette.routing import Match

    import paperfeed
    from paperfeed.web.app import create_app

    routes = create_app().router.routes
    print(f"paperfeed from {Path(paperfeed.__file__).parent}; {len(routes)} top-level routes")
    print()
    print("| method | path | top-level routes tried | µs to match (median of 5 runs) |")
    print("|---|---|---:|---:|")
    for method, path in PATHS:
        scope = {
            "type": "http",
            "method": method,
            "path": path,
            "root_path": "",
            "headers": [],
            "query_string": b"",
        }

        def find(scope: dict[str, object]) -> int:
            for position, route in enumerate(routes):
                match, _ = route.matches(dict(scope))
                if match is Match.FULL:
                    return position + 1
            return len(routes)

        tried = find(scope)
        runs = []
        for _ in range(5):
            started = time.perf_counter()
            for _ in range(arguments.repeat):
                find(scope)
            runs.append((time.perf_counter() - started) / arguments.repeat * 1e6)
        print(f"| {method} | `{path}` | {tried} | {statistics.median(runs):.1f} |")
    print()
    machine.report()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
