"""Throughput and latency of ``paperfeed serve`` over real HTTP, on all shared papers.

Serves the home of bench/latency.py ($PAPERFEED_HOME, else bench/out/latency_home: ~89k
papers with vectors; built here through latency.py's ``build_home`` when missing, which
takes a few minutes)
with ``paperfeed serve --workers N`` and drives it from a separate client process: C
keep-alive HTTP/1.1 connections on raw asyncio streams, each sending its next request as
soon as the last one answered (a closed loop), for D seconds or a bounded request count.
Endpoints: ``/`` (daily page), ``/search?q=`` (HTML), ``/papers/<id>`` (page with similar
papers) and ``/api/papers/search?q=`` (JSON). Search queries are 2-3 of the rarest title
words of random stored papers, and one in five a SciFact claim; "distinct" sends a new
query each time (no cache can help), "repeated" draws from a pool of 50 (a popular site;
the warm-up fills the result caches with it, so this is the steady state). The client's
CPU use (% of one core) is printed, to judge whether it saturated a core, and the cores
the server's processes used, to judge whether other work on the machine took some.

The load generator is wrk when installed (``apt-get install wrk``; 2 threads, a Lua script
giving every request its own path, rows then run for the full --seconds), else the script's
own client (``--client own``).

Run:  python bench/http_load.py [--workers 2] [--concurrency 16] [--seconds 15]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import numpy as np

BENCH = Path(__file__).resolve().parent
# keep this folder off the path: a bench script must never shadow a standard module
# (none of the imports above needs ``http``; paperfeed and latency.py are imported later)
sys.path = [entry for entry in sys.path if Path(entry or ".").resolve() != BENCH]
ROOT = BENCH.parent
SHARED = ROOT.parent / "shared" / "data"
OUT = BENCH / "out"
HOME = Path(os.environ.get("PAPERFEED_HOME") or OUT / "latency_home")  # latency.py --build
REPEATED_POOL = 50


def _machine_module() -> Any:
    """bench/_machine.py (this folder is off sys.path, see above)."""
    spec = importlib.util.spec_from_file_location("bench_machine", BENCH / "_machine.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_machine"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# -- the client: runs in its own process (--client), job on stdin, result on stdout --


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one response; (status, whether the connection can be reused)."""
    lines = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {
        name.strip().lower(): value.strip().lower()
        for name, _, value in (line.partition(":") for line in lines[1:] if line)
    }
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            await reader.readexactly(size + 2)
        await reader.readuntil(b"\r\n")
    elif status >= 200 and status not in (204, 304):
        await reader.read()  # body runs to the end of the connection
        return status, False
    return status, headers.get("connection") != "close"


async def drive(port: int, urls: list[str], concurrency: int, seconds: float) -> dict[str, Any]:
    deadline = time.perf_counter() + seconds
    latencies: list[float] = []
    statuses: list[int] = []
    cursor = iter(urls)

    async def connection() -> None:
        streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        for url in cursor:
            started = time.perf_counter()
            if started > deadline:
                break
            try:
                if streams is None:
                    streams = await asyncio.open_connection("127.0.0.1", port)
                request = f"GET {url} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"
                streams[1].write(request.encode())
                status, reusable = await read_response(streams[0])
            except (OSError, ValueError, IndexError, asyncio.IncompleteReadError):
                status, reusable = 0, False
            latencies.append(time.perf_counter() - started)
            statuses.append(status)
            if not reusable and streams is not None:
                streams[1].close()
                streams = None
        if streams is not None:
            streams[1].close()

    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return {"latencies": latencies, "statuses": statuses, "wall": wall, "cpu": cpu}


def client_main() -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us
    job = json.load(sys.stdin)
    result = asyncio.run(drive(job["port"], job["urls"], job["concurrency"], job["seconds"]))
    json.dump(result, sys.stdout)
    return 0


def run_client(port: int, urls: list[str], concurrency: int, seconds: float) -> dict[str, Any]:
    job = {"port": port, "urls": urls, "concurrency": concurrency, "seconds": seconds}
    command = [sys.executable, __file__, "--client"]
    done = subprocess.run(command, input=json.dumps(job), capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"the client failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def log(message: str) -> None:
    print(f"[http] {message}", file=sys.stderr, flush=True)


def prepare(count: int, seed: int = 11) -> tuple[int, list[str], list[str]]:
    """Papers in the store (building the home when missing), ``count`` distinct short
    queries (1 in 5 a SciFact claim) and ``count`` stored arxiv ids."""
    from paperfeed.config import Settings
    from paperfeed.index.builder import lexical_folder
    from paperfeed.index.lexical import LexicalIndex
    from paperfeed.index.tokenizer import tokenize
    from paperfeed.store import Store

    settings = Settings.from_environment({"PAPERFEED_HOME": str(HOME)})
    if not (HOME / "paperfeed.db").exists() or not (HOME / "index" / "state.json").exists():
        log(f"no {HOME}: building it with bench/latency.py's build_home (minutes)")
        spec = importlib.util.spec_from_file_location("bench_latency", BENCH / "latency.py")
        assert spec is not None and spec.loader is not None
        latency = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(latency)
        latency.build_home(settings, [])
    store = Store(settings.database_url)
    papers_in_store: int = store.count_papers()
    lexical = LexicalIndex.load(lexical_folder(settings))
    frequency = np.zeros(len(lexical.vocabulary), np.int64)
    for segment in lexical.segments:
        sizes = np.diff(segment.combined.indptr)
        frequency[: len(sizes)] += sizes
    keys = lexical.live_keys().tolist()
    random.Random(seed).shuffle(keys)
    papers = store.get_papers(keys[: count * 2])
    store.close()
    ids = [papers[key].arxiv_id for key in keys[:count] if key in papers]
    with open(SHARED / "eval" / "beir_scifact" / "queries.jsonl") as handle:
        claims = [json.loads(line)["text"] for line in handle]
    random.Random(seed).shuffle(claims)
    generator = random.Random(seed)
    queries: list[str] = []
    seen: set[str] = set()
    for key in keys[: count * 2]:
        paper = papers.get(key)
        words = [w for w in (paper.title if paper else "").replace(":", " ").split() if tokenize(w)]
        words.sort(key=lambda word: frequency[lexical.vocabulary.get(tokenize(word)[0], 0)])
        query = " ".join(words[: generator.choice((2, 3))])
        if len(words) >= 2 and query.lower() not in seen:
            if len(queries) % 5 == 4 and claims:
                queries.append(claims.pop())
            seen.add(query.lower())
            queries.append(query)
        if len(queries) >= count:
            break
    return papers_in_store, queries[:count], ids


def workloads(
    queries: list[str], ids: list[str], total: int, warm: int, workers: int
) -> tuple[list[str], list[tuple[str, str, list[str]]]]:
    """(warm-up urls, [(endpoint, workload, urls)]).

    The warm-up loads the model in every worker and fills the result caches with the
    repeated pool ("repeated" is the steady state); "distinct" queries are unseen there.
    """
    search, api = "/search?q=", "/api/papers/search?q="
    warmup_queries, queries = queries[:warm], queries[warm:]
    pool = random.Random(5).sample(queries[2 * total :], REPEATED_POOL)
    generator = random.Random(6)
    repeated = [generator.choice(pool) for _ in range(total)]
    html, json_ = queries[:total], queries[total : 2 * total]
    warmup = [
        url
        for query, arxiv_id in zip(warmup_queries, ids[-warm:], strict=True)
        for url in (search + quote_plus(query), api + quote_plus(query), f"/papers/{arxiv_id}", "/")
    ]
    warmup += [prefix + quote_plus(q) for q in pool * workers for prefix in (search, api)]
    return warmup, [
        ("/", "same page", ["/"] * total),
        (search + "…", "distinct", [search + quote_plus(q) for q in html]),
        (search + "…", "repeated (50)", [search + quote_plus(q) for q in repeated]),
        ("/papers/<id>", "random ids", [f"/papers/{i}" for i in ids[:total]]),
        (api + "…", "distinct", [api + quote_plus(q) for q in json_]),
        (api + "…", "repeated (50)", [api + quote_plus(q) for q in repeated]),
    ]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


# The settings of this environment the server is given: how it serves, never where its
# data is or what it syncs (the home above is the data). Before, every PAPERFEED_
# variable was dropped, so `PAPERFEED_PAGE_CACHE_SECONDS=0` or `PAPERFEED_SERVER_LOOP=
# asyncio` on the command line changed nothing in the server.
SERVING_SETTINGS = (
    "PAPERFEED_PAGE_CACHE_SECONDS",
    "PAPERFEED_SERVER_LOOP",
    "PAPERFEED_SERVER_HTTP",
    "PAPERFEED_SERVER_THREADS",
    "PAPERFEED_QUERY_THREADS",
    "PAPERFEED_QUERY_CACHE_SIZE",
    "PAPERFEED_EMBED_SPINNING",
    "PAPERFEED_EXACT_SEARCH_LIMIT",
    "PAPERFEED_HNSW_EF_SEARCH",
    "PAPERFEED_LOG_FORMAT",
)


def serving_settings() -> dict[str, str]:
    """The ``SERVING_SETTINGS`` set in this environment."""
    return {name: os.environ[name] for name in SERVING_SETTINGS if name in os.environ}


def start_server(port: int, workers: int, log_path: Path) -> subprocess.Popen[bytes]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PAPERFEED_")}
    environment |= serving_settings()
    environment |= {"PAPERFEED_HOME": str(HOME), "PAPERFEED_EMBED_MODEL": "minilm"}
    script = Path(sys.executable).parent / "paperfeed"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "paperfeed.cli"]
    command += ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    with open(log_path, "wb") as output:
        return subprocess.Popen(
            command,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            start_new_session=True,
        )


def wait_ready(server: subprocess.Popen[bytes], port: int, log_path: Path) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < 120:
        if server.poll() is not None:
            raise SystemExit(f"the server exited ({server.returncode}):\n{log_path.read_text()}")
        if run_client(port, ["/"], 1, 5)["statuses"] == [200]:
            return time.perf_counter() - started
        time.sleep(0.5)
    raise SystemExit(f"GET / did not answer 200 within 120 s; see {log_path}")


def group_cpu_seconds(group: int) -> dict[str, float]:
    """CPU seconds used so far by each live process of a process group (Linux /proc)."""
    seconds = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[2]) == group:  # utime + stime
            seconds[stat.parent.name] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return seconds


def machine_cpu_seconds() -> float:
    """CPU seconds all cores have been busy since boot (Linux /proc/stat)."""
    ticks = [int(field) for field in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    return (sum(ticks[:8]) - ticks[3] - ticks[4]) / CLOCK_TICKS  # minus idle, iowait


def stop_server(server: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's process group (its workers too), SIGKILL after 15 s."""
    for sent in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(server.pid, sent)
            server.wait(15)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


# wrk's Lua hooks: thread i of n sends paths i, i + n, i + 2n, ... of the file, so no two
# requests of a run share a query (a repeat would be answered by the caches).
_WRK_SCRIPT = """
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  paths = {}
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  step = tonumber(args[2])
  cursor = id
end
function request()
  local path = paths[(cursor % #paths) + 1]
  cursor = cursor + step
  return wrk.format("GET", path)
end
"""
WRK_THREADS = 2


def run_wrk(port: int, urls: list[str], concurrency: int, seconds: float) -> dict[str, Any]:
    """The same measurement with wrk (``apt-get install wrk``): req/s and percentiles."""
    folder = OUT / "wrk"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "paths.txt").write_text("\n".join(urls) + "\n")
    (folder / "paths.lua").write_text(_WRK_SCRIPT)
    command = [
        "wrk", f"-t{WRK_THREADS}", f"-c{concurrency}", f"-d{max(1, round(seconds))}s",
        "--latency", "--timeout", "10s", "-s", str(folder / "paths.lua"),
        f"http://127.0.0.1:{port}",
        "--", str(folder / "paths.txt"), str(WRK_THREADS),
    ]  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        raise SystemExit(f"wrk failed:\n{done.stdout}\n{done.stderr}")
    text = done.stdout

    def milliseconds(percent: str) -> float:
        value = text.split(f" {percent}%")[1].split()[0]
        for unit, factor in (("us", 1e-3), ("ms", 1.0), ("s", 1000.0), ("m", 60_000.0)):
            if value.endswith(unit):
                return float(value[: -len(unit)]) * factor
        return float(value)

    requests = int(text.split(" requests in ")[0].split()[-1])
    errors = int(text.split("Non-2xx or 3xx responses:")[1].split()[0]) if "Non-2xx" in text else 0
    if "Socket errors:" in text:
        counts = text.split("Socket errors:")[1].split("\n")[0]
        errors += sum(int(part.split()[-1]) for part in counts.split(","))
    return {
        "requests": requests,
        "rate": float(text.split("Requests/sec:")[1].split()[0]),
        "p50": milliseconds("50"),
        "p99": milliseconds("99"),
        "errors": errors,
        "wall": wall,
        "cpu": after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime,
    }


def measure(
    server: int, port: int, urls: list[str], concurrency: int, seconds: float, client: str
) -> str:
    """One table row's numbers: requests, req/s, p50, p99, errors and the CPU columns."""
    before, machine = group_cpu_seconds(server), machine_cpu_seconds()
    started = time.perf_counter()
    if client == "wrk":
        found = run_wrk(port, urls, concurrency, seconds)
        elapsed = time.perf_counter() - started
        after = group_cpu_seconds(server)
        cores = sorted(((used - before.get(pid, 0)) / elapsed for pid, used in after.items()))
        other = (machine_cpu_seconds() - machine - found["cpu"]) / elapsed - sum(cores)
        return (
            f"{found['requests']:>8} {found['rate']:>8.1f} {found['p50']:>8.1f} "
            f"{found['p99']:>8.1f} {found['errors']:>6} "
            f"{100 * found['cpu'] / found['wall']:>9.0f}% "
            f"{'+'.join(f'{used:.2f}' for used in cores[::-1] if used >= 0.01):>12} "
            f"{other:>9.2f}"
        )
    result = run_client(port, urls, concurrency, seconds)
    elapsed = time.perf_counter() - started
    after = group_cpu_seconds(server)
    cores = sorted(((used - before.get(pid, 0)) / elapsed for pid, used in after.items()))[::-1]
    other = (machine_cpu_seconds() - machine - result["cpu"]) / elapsed - sum(cores)
    milliseconds = np.array(result["latencies"]) * 1000
    return (
        f"{len(milliseconds):>8} {len(milliseconds) / result['wall']:>8.1f} "
        f"{np.percentile(milliseconds, 50):>8.1f} {np.percentile(milliseconds, 99):>8.1f} "
        f"{sum(status != 200 for status in result['statuses']):>6} "
        f"{100 * result['cpu'] / result['wall']:>9.0f}% "
        f"{'+'.join(f'{used:.2f}' for used in cores if used >= 0.01):>12} {other:>9.2f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--max-requests", type=int, default=10_000, help="per measurement")
    parser.add_argument(
        "--client",
        choices=("wrk", "own"),
        default="wrk" if shutil.which("wrk") else "own",
        help="load generator: wrk (default when installed: apt-get install wrk) or this "
        "script's own asyncio client",
    )
    machine_module = _machine_module()
    machine_module.add_machine_arguments(parser)
    arguments = parser.parse_args()
    machine = machine_module.Machine.check(arguments)
    total, warm, load = arguments.max_requests, 4 * arguments.workers * 2, os.getloadavg()[0]
    OUT.mkdir(parents=True, exist_ok=True)
    log(f"load average {load:.2f}; reading {HOME}, making queries and ids")
    papers, queries, ids = prepare(2 * total + REPEATED_POOL * 4 + warm)
    if len(queries) < 2 * total + REPEATED_POOL * 4 + warm:
        # a small store (the bundled corpus) yields fewer distinct queries than asked for
        total = max(1, (len(queries) - REPEATED_POOL * 4 - warm) // 2)
        log(f"only {len(queries)} distinct queries in this store: {total} requests per row")
    warmup, measured = workloads(queries, ids, total, warm, arguments.workers)
    port, log_path = free_port(), OUT / "http_server.log"
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the cleanup below
    server = start_server(port, arguments.workers, log_path)
    rows: list[str] = []
    try:
        log(f"server on port {port} ({arguments.workers} workers), log {log_path}")
        log(f"GET / answered 200 after {wait_ready(server, port, log_path):.1f} s; warming up")
        statuses = run_client(port, warmup, 4 * arguments.workers, 120)["statuses"]
        log(f"warm-up: {len(statuses)} requests, {sum(s != 200 for s in statuses)} not 200")
        for endpoint, workload, urls in measured:
            log(f"{endpoint} {workload}: {arguments.concurrency} connections, up to "
                f"{arguments.seconds:g} s or {len(urls)} requests")  # fmt: skip
            numbers = measure(
                server.pid, port, urls, arguments.concurrency, arguments.seconds, arguments.client
            )
            rows.append(f"{endpoint:<24} {workload:<14} {numbers}")
        # the server's processes are this benchmark's own work, not other load
        machine.exclude(sum(group_cpu_seconds(server.pid).values()))
        verdict = machine.verdict()
    finally:
        stop_server(server)
        log("server stopped")
    table = [
        f"paperfeed serve over HTTP: {os.cpu_count()} cores, {arguments.workers} workers, "
        f"{arguments.concurrency} keep-alive connections, {arguments.seconds:g} s or "
        f"{total} requests per row ({arguments.client} client), {papers} papers in the store",
        "server settings: "
        + (" ".join(f"{name}={value}" for name, value in serving_settings().items()) or "defaults"),
        f"{'endpoint':<24} {'workload':<14} {'requests':>8} {'req/s':>8} {'p50 ms':>8} "
        f"{'p99 ms':>8} {'errors':>6} {'client cpu':>10} {'server cpu':>12} {'other cpu':>9}",
        *rows,
        "client cpu: % of one core used by the load generator; server cpu: cores used by each",
        "server process; other cpu: cores used by everything else on the machine (competing",
        f"with the server); 1-min load average before the run: {load:.2f}",
        *verdict,
    ]
    print("\n".join(table))
    (OUT / "http.txt").write_text("\n".join(table) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(client_main() if sys.argv[1:] == ["--client"] else main())
