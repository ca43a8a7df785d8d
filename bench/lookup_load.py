"""The load drivers of `bench.lookup`: `wrk` with a Lua script picking a random customer per request,
or an asyncio httpx pool where wrk is missing; both return the same `Measured` figures."""

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TOKEN = "bench-lookup-token"

WRK_SCRIPT = """
local n = tonumber(os.getenv("LOOKUP_CUSTOMERS"))
local prefix = os.getenv("LOOKUP_PREFIX")
local headers = { ["Authorization"] = "Bearer " .. os.getenv("LOOKUP_TOKEN") }
math.randomseed(tonumber(os.getenv("LOOKUP_SEED")))

request = function()
  return wrk.format("GET", prefix .. string.format("C%07d", math.random(0, n - 1)), headers)
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK {\\"requests\\": %d, \\"duration_us\\": %d, \\"errors\\": %d, \\"non2xx\\": %d, " ..
    "\\"p50_us\\": %d, \\"p99_us\\": %d}\\n",
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99)))
end
"""


@dataclass(frozen=True, kw_only=True)
class Measured:
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def run_wrk(url_prefix: str, *, customers: int, connections: int, seconds: float, script: Path, seed: int) -> Measured:
    environment = {
        **os.environ, "LOOKUP_CUSTOMERS": str(customers), "LOOKUP_PREFIX": url_prefix,
        "LOOKUP_TOKEN": TOKEN, "LOOKUP_SEED": str(seed),
    }
    base = url_prefix.split("/", 3)
    result = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "5s", "-s", str(script),
         "/".join(base[:3]) + "/"],
        capture_output=True, text=True, env=environment, check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"wrk failed ({result.returncode}): {result.stdout} {result.stderr}")
    line = next(line for line in result.stdout.splitlines() if line.startswith("WRK "))
    found = json.loads(line[4:])
    return Measured(
        requests=found["requests"],
        rps=found["requests"] / (found["duration_us"] / 1e6),
        p50_ms=found["p50_us"] / 1000,
        p99_ms=found["p99_us"] / 1000,
        errors=found["errors"] + found["non2xx"],
    )


async def _httpx_load(make_url: Any, *, connections: int, seconds: float) -> Measured:
    import httpx

    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                response = await client.get(make_url())
                latencies.append(time.perf_counter() - started)
                errors += response.status_code != 200

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - started
    quantiles = statistics.quantiles(latencies, n=100)
    return Measured(
        requests=len(latencies),
        rps=len(latencies) / elapsed, p50_ms=quantiles[49] * 1000, p99_ms=quantiles[98] * 1000, errors=errors
    )


def run_httpx(url_prefix: str, *, customers: int, connections: int, seconds: float, seed: int) -> Measured:
    rng = random.Random(seed)
    return asyncio.run(
        _httpx_load(lambda: f"{url_prefix}C{rng.randrange(customers):07d}", connections=connections, seconds=seconds)
    )


def measure(arguments: argparse.Namespace, url_prefix: str, seconds: float, seed: int, script: Path) -> Measured:
    if arguments.client == "wrk":
        return run_wrk(url_prefix, customers=arguments.customers, connections=arguments.connections,
                       seconds=seconds, script=script, seed=seed)
    return run_httpx(url_prefix, customers=arguments.customers, connections=arguments.connections,
                     seconds=seconds, seed=seed)
