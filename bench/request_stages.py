"""CPU milliseconds per request, by stage, for the distinct-search pages of bench/http_load.py.

Runs the site in this process (no sockets: an httpx client on the ASGI app, whose own CPU
is part of "whole request") over the home of http_load.py ($PAPERFEED_HOME, else
bench/out/latency_home), with http_load.py's distinct queries, one request at a time, and
times each stage with the thread's CPU clock: the search itself (query embedding, lexical
and dense candidates, fusion, the page of results with its snippets), the templates, the
search trend chart's data, and the JSON entries. What a request costs beyond the stages
is the framework: routing, middleware, the response. The page cache is off.

The stages are timed by wrapping the functions named below for this run only; the
wrapped code is the code that serves. One CPU clock per thread: onnxruntime's own threads
(PAPERFEED_QUERY_THREADS, 1 by default) would not be counted in a stage, so it is pinned to 1.

Run:  python bench/request_stages.py [--requests 400]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import functools
import os
import sys
import time
from typing import Any

import http_load  # this folder's: the home, the queries it sends, and its _machine.py loader


def main() -> int:
    machine_module = http_load._machine_module()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400, help="timed requests per page")
    machine_module.add_machine_arguments(parser)
    arguments = parser.parse_args()
    machine = machine_module.Machine.check(arguments)

    os.environ.update(
        {
            "PAPERFEED_HOME": str(http_load.HOME),
            "PAPERFEED_PAGE_CACHE_SECONDS": "0",
            "PAPERFEED_QUERY_THREADS": "1",
            "PAPERFEED_EMBED_MODEL": "minilm",
        }
    )
    warm = 100
    _, queries, _ = http_load.prepare(warm + 2 * arguments.requests)

    import logging

    logging.disable(logging.INFO)  # one log line per request would be timed too
    import httpx

    import paperfeed.web.api as api
    import paperfeed.web.pages as pages
    from paperfeed.config import Settings
    from paperfeed.search.engine import SearchEngine
    from paperfeed.web.app import create_app

    spent: collections.defaultdict[str, float] = collections.defaultdict(float)

    def timed(stage: str, function: Any) -> Any:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                spent[stage] += time.thread_time() - started

        return wrapper

    SearchEngine.search = timed("search (engine)", SearchEngine.search)
    pages.render = timed("templates", pages.render)
    pages._search_trend = timed("trend chart data", pages._search_trend)
    api.paper_entries = timed("JSON entries (votes, comments, accounts)", api.paper_entries)

    app = create_app(Settings.from_environment())
    from urllib.parse import quote_plus

    pages_to_time = [
        ("/search?q=", "HTML search page"),
        ("/api/papers/search?q=", "JSON search"),
    ]
    rows: list[tuple[str, float, list[tuple[str, float]]]] = []

    async def run() -> None:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bench"
        ) as client:
            for prefix, _label in pages_to_time:
                for query in queries[:warm]:  # model, caches and code paths warm
                    assert (await client.get(prefix + quote_plus(query))).status_code == 200
            for index, (prefix, label) in enumerate(pages_to_time):
                timed_queries = queries[warm + index * arguments.requests :][: arguments.requests]
                spent.clear()
                started = time.process_time()
                for query in timed_queries:
                    response = await client.get(prefix + quote_plus(query))
                    assert response.status_code == 200, (query, response.status_code)
                whole = (time.process_time() - started) / len(timed_queries)
                stages = [(stage, seconds / len(timed_queries)) for stage, seconds in spent.items()]
                rows.append((label, whole, stages))

    asyncio.run(run())
    print(
        f"CPU ms per request, one at a time, {arguments.requests} distinct queries per page, "
        f"home {http_load.HOME}"
    )
    print("| page | stage | CPU ms | share |")
    print("|---|---|---:|---:|")
    for label, whole, stages in rows:
        accounted = 0.0
        for stage, seconds in sorted(stages, key=lambda item: -item[1]):
            accounted += seconds
            print(f"| {label} | {stage} | {1000 * seconds:.2f} | {100 * seconds / whole:.0f}% |")
        rest = whole - accounted
        share = 100 * rest / whole
        print(f"| {label} | framework, middleware, client | {1000 * rest:.2f} | {share:.0f}% |")
        print(f"| {label} | **whole request** | **{1000 * whole:.2f}** | 100% |")
    machine.report()
    return 0


if __name__ == "__main__":
    sys.exit(main())
