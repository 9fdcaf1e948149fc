"""Load the IIIF Image API server with tile and computed requests, beside IIPImage.

    .venv/bin/python benchmarks/image_server.py [--seconds 10] [--connections 16]

What it does, all on 127.0.0.1 in a temporary folder:

1. an ini from development.ini (no sample data at start, in-process worker, 2 worker
   processes), a 6000×8000 synthetic TIFF page, ``heritage demo`` (the sample consortium),
   ``heritage ingest pns-ms-0001 PAGE``, then ``heritage serve`` — one waitress process,
   with the thread count of ``[server:main] threads`` — whose worker builds the pyramid;
2. the phases, each driven for ``--seconds`` by ``--connections`` concurrent clients:

   - ``tiles``: every tile of scale factors 1 and 2, as OpenSeadragon computes them from
     info.json (the hot path: files made at ingest);
   - ``mix-uncached``: a seeded random mix of regions (200–2000 px) scaled to 100–800 px,
     some gray, PNG, rotated or mirrored, more distinct URLs than can be answered in the time,
     after emptying the disk cache (``var/derivatives/cache``): every answer is computed;
   - ``mix-cached``: the URLs the previous phase answered, again (now disk-cache hits);
   - ``tiles`` on IIPImage 1.1 (Debian ``iipimage-server``, ``--iip-processes`` FastCGI
     processes behind ``nginx-light``) from a pyramidal TIFF made by ``vips tiffsave``, with
     the same tile URLs; skipped, saying so, when iipsrv, nginx or vips is missing.

The load generator is ``wrk`` (Debian ``wrk``) with a Lua script cycling through a URL file
(``--threads`` threads), or, without wrk, a Python one (a thread per connection, http.client
keep-alive) that competes far more for the 2 cores than wrk does. Either way the client runs
on the same machine as the server. "server CPU ms/req" is the CPU time of the server's
processes (/proc) over the requests answered.

The machine is noisy: compare the ratios of one run, not figures across runs
(../shared/design/PERFORMANCE.md, "Image serving"). Nothing here asserts a speed. Every
process started here is stopped at the end, also on errors and Ctrl-C.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder is sys.path[0], where a module named like a package (as
# benchmarks/pyramid.py once was) shadows it: take the folder off the path first.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import argparse  # noqa: E402
import configparser  # noqa: E402
import contextlib  # noqa: E402
import http.client  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402

from PIL import Image  # noqa: E402

ROOT = _HERE.parent
HERITAGE = str(Path(sys.executable).with_name("heritage"))
WIDTH, HEIGHT = 6000, 8000
ITEM_ID = "pns-ms-0001"  # a published, public item of the sample consortium
HOST = "127.0.0.1"
IIPSRV_CANDIDATES = ("/usr/lib/iipimage-server/iipsrv.fcgi", "iipsrv.fcgi", "iipsrv")
MIX_SEED = 20240601

WRK_SCRIPT = r"""
-- Cycle through the paths of a file: thread k of T sends paths k, k+T, k+2T, ... (wrapping).
-- wrk ... -s cycle.lua URL -- PATHS_FILE THREADS
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  paths = {}
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  nthreads = tonumber(args[2])
  pos = id
  sent = 0
  wrapped = 0
  non200 = 0
end

function request()
  if pos >= #paths then wrapped = wrapped + 1 end
  local path = paths[pos % #paths + 1]
  pos = pos + nthreads
  sent = sent + 1
  return wrk.format(nil, path)
end

function response(status, headers, body)
  if status ~= 200 then non200 = non200 + 1 end
end

function done(summary, latency, requests)
  local sent, non200, wrapped = {}, 0, 0
  for _, t in ipairs(threads) do
    sent[t:get("id") + 1] = t:get("sent")
    non200 = non200 + t:get("non200")
    wrapped = wrapped + t:get("wrapped")
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d non200=%d socket_errors=%d " ..
    "wrapped=%d sent=%s\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    non200, e.connect + e.read + e.write + e.timeout, wrapped, table.concat(sent, ",")))
end
"""

NGINX_CONF = """\
worker_processes 1;
daemon off;
pid nginx.pid;
error_log logs/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path tmp/body;
  fastcgi_temp_path tmp/fastcgi;
  proxy_temp_path tmp/proxy;
  uwsgi_temp_path tmp/uwsgi;
  scgi_temp_path tmp/scgi;
  upstream iipsrv {{ {upstreams} }}
  server {{
    listen {host}:{port};
    location /iiif/ {{
      fastcgi_pass iipsrv;
      fastcgi_param PATH_INFO $fastcgi_script_name;
      fastcgi_param REQUEST_METHOD $request_method;
      fastcgi_param QUERY_STRING $query_string;
      fastcgi_param CONTENT_TYPE $content_type;
      fastcgi_param CONTENT_LENGTH $content_length;
      fastcgi_param REQUEST_URI $request_uri;
      fastcgi_param SERVER_PROTOCOL $server_protocol;
      fastcgi_param SERVER_NAME $server_name;
      fastcgi_param SERVER_PORT $server_port;
      fastcgi_param HTTP_HOST $host;
    }}
  }}
}}
"""


# -- processes ------------------------------------------------------------------------------


class Processes:
    """Every process started here, each in its own process group, all stopped by stop_all."""

    def __init__(self) -> None:
        self.running: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, command: list[str], *, log: Path, **kw) -> subprocess.Popen:
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, **kw
            )
        self.running.append((name, proc))
        return proc

    def run(self, name: str, command: list[str], *, log: Path, timeout: float, **kw) -> None:
        """Run ``command`` to its end; raise with the tail of its log if it fails."""
        proc = self.start(name, command, log=log, **kw)
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            code = None
        finally:
            self.stop(proc)
        if code != 0:
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{name} failed ({code}): {' '.join(command)}\n{tail}")

    def stop(self, proc: subprocess.Popen, grace: float = 20) -> None:
        """SIGTERM to the process group (so children such as ZEO go too), then SIGKILL."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
        with contextlib.suppress(ProcessLookupError):  # stragglers of the group
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
        self.running = [(n, p) for n, p in self.running if p is not proc]

    def stop_all(self) -> None:
        for _name, proc in reversed(list(self.running)):
            self.stop(proc)


def group_cpu_seconds(pgids: set[int]) -> float | None:
    """Return the user+system CPU time of the live processes in these process groups."""
    total = 0
    try:
        entries = os.listdir("/proc")
    except OSError:
        return None
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[2]) in pgids:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def wait_quiet(pgids: set[int], *, share: float = 0.05, limit: float = 90) -> None:
    """Wait until these processes use under ``share`` of a core for a second (worker idle)."""
    deadline = time.monotonic() + limit
    before = group_cpu_seconds(pgids)
    while before is not None and time.monotonic() < deadline:
        time.sleep(1)
        after = group_cpu_seconds(pgids)
        if after is None or after - before < share:
            return
        before = after


# -- HTTP -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def get(port: int, path: str, timeout: float = 60) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def wait_for(port: int, path: str, proc: subprocess.Popen, log: Path, seconds: float) -> bytes:
    """Return the body of ``path`` once it answers 200; raise if the server dies or is slow."""
    deadline = time.monotonic() + seconds
    last = "no answer"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"the server exited ({proc.returncode}):\n{tail}")
        try:
            status, body = get(port, path, timeout=5)
            if status == 200:
                return body
            last = f"HTTP {status}"
        except (OSError, http.client.HTTPException) as exc:
            last = repr(exc)
        time.sleep(0.25)
    raise RuntimeError(f"http://{HOST}:{port}{path} did not answer 200 in {seconds:.0f} s: {last}")


def check_size(port: int, path: str, expected: tuple[int, int]) -> str:
    """Return "" if ``path`` is a JPEG of ``expected`` size, else what is wrong."""
    status, body = get(port, path)
    if status != 200:
        return f"HTTP {status}"
    with Image.open(io.BytesIO(body)) as im:
        return "" if im.size == expected else f"{im.size[0]}×{im.size[1]}"


def warm_up(port: int, paths: list[str]) -> int:
    """Request every path once, in order, on one connection; return how many were not 200."""
    bad = 0
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    try:
        for path in paths:
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            bad += response.status != 200
    finally:
        conn.close()
    return bad


# -- the requests -----------------------------------------------------------------------------


def tile_requests(info: dict, scale_factors: tuple[int, ...] = (1, 2)) -> list[str]:
    """Return the tile requests of these scale factors, as OpenSeadragon computes them.

    Region ``x,y,w,h`` in full-image pixels clipped at the edges (``full`` when it is the
    whole image), size ``ceil(w/s),ceil(h/s)``.
    """
    width, height = info["width"], info["height"]
    tiles = info["tiles"][0]
    tw, th = tiles["width"], tiles.get("height", tiles["width"])
    out = []
    for s in scale_factors:
        if s not in tiles["scaleFactors"]:
            continue
        for y in range(0, height, th * s):
            for x in range(0, width, tw * s):
                w, h = min(tw * s, width - x), min(th * s, height - y)
                full = (x, y, w, h) == (0, 0, width, height)
                region = "full" if full else f"{x},{y},{w},{h}"
                out.append(f"{region}/{math.ceil(w / s)},{math.ceil(h / s)}/0/default.jpg")
    return out


def mix_requests(width: int, height: int, count: int, seed: int = MIX_SEED) -> list[str]:
    """Return ``count`` distinct, reproducible requests that need computing."""
    rng = random.Random(seed)
    seen: set[str] = set()
    out = []
    while len(out) < count:
        rw, rh = rng.randint(200, 2000), rng.randint(200, 2000)
        x, y = rng.randint(0, width - rw), rng.randint(0, height - rh)
        longest = rng.randint(100, min(800, max(rw, rh)))
        scale = longest / max(rw, rh)
        ow, oh = max(1, int(rw * scale)), max(1, int(rh * scale))
        size = rng.choices([f"{ow},{oh}", f"{ow},", f"!{ow},{oh}"], weights=[6, 2, 2])[0]
        rotation = rng.choices(["0", "90", "180", "270", "!0"], weights=[80, 6, 4, 5, 5])[0]
        quality = rng.choices(["default", "gray"], weights=[85, 15])[0]
        fmt = rng.choices(["jpg", "png"], weights=[85, 15])[0]
        url = f"{x},{y},{rw},{rh}/{size}/{rotation}/{quality}.{fmt}"
        if url not in seen:
            seen.add(url)
            out.append(url)
    return out


# -- load generators ------------------------------------------------------------------------


@dataclass
class Phase:
    phase: str
    server: str
    requests: int = 0
    seconds: float = 0.0
    p50_ms: float = math.nan
    p99_ms: float = math.nan
    non200: int = 0
    socket_errors: int = 0
    wrapped: int = 0
    cpu_s: float | None = None
    served: list[int] = field(default_factory=list)  # indices of the paths sent
    note: str = ""

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def errors(self) -> int:
        return self.non200 + self.socket_errors

    @property
    def cpu_ms_per_request(self) -> float:
        if self.cpu_s is None or not self.requests:
            return math.nan
        return self.cpu_s * 1000 / self.requests


def served_indices(sent: list[int], total: int) -> list[int]:
    """Return the path indices sent when stream k of len(sent) sent k, k+n, … (no wrap)."""
    n = len(sent)
    return sorted(
        {k + n * j for k, count in enumerate(sent) for j in range(count)} & set(range(total))
    )


def run_wrk(wrk: str, port: int, paths: list[str], args: argparse.Namespace, work: Path) -> Phase:
    script, url_file = work / "cycle.lua", work / "paths.txt"
    script.write_text(WRK_SCRIPT)
    url_file.write_text("\n".join(paths) + "\n")
    threads = min(args.threads, args.connections)
    command = [wrk, "-t", str(threads), "-c", str(args.connections)]
    command += ["-d", f"{args.seconds}s", "--timeout", "60s", "-s", str(script)]
    command += [f"http://{HOST}:{port}", "--", str(url_file), str(threads)]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=args.seconds + 120, check=False
    )
    match = re.search(r"^BENCH (.*)$", done.stdout, re.MULTILINE)
    if done.returncode != 0 or match is None:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    v = dict(pair.split("=", 1) for pair in match.group(1).split())
    sent = [int(s) for s in v["sent"].split(",") if s]
    return Phase(
        "",
        "",
        requests=int(v["requests"]),
        seconds=int(v["duration_us"]) / 1e6,
        p50_ms=int(v["p50_us"]) / 1000,
        p99_ms=int(v["p99_us"]) / 1000,
        non200=int(v["non200"]),
        socket_errors=int(v["socket_errors"]),
        wrapped=int(v["wrapped"]),
        served=served_indices(sent, len(paths)),
    )


def run_python(port: int, paths: list[str], args: argparse.Namespace) -> Phase:
    """A thread per connection, keep-alive, each cycling k, k+C, …; bounded by time."""
    n = args.connections
    latencies: list[list[float]] = [[] for _ in range(n)]
    sent, non200, errors, wrapped = [0] * n, [0] * n, [0] * n, [0] * n
    start = time.perf_counter()
    deadline = start + args.seconds

    def client(k: int) -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=60)
        pos = k
        while time.perf_counter() < deadline:
            wrapped[k] += pos >= len(paths)
            path = paths[pos % len(paths)]
            pos += n
            sent[k] += 1
            t0 = time.perf_counter()
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                errors[k] += 1
                conn.close()
                conn = http.client.HTTPConnection(HOST, port, timeout=60)
                continue
            latencies[k].append(time.perf_counter() - t0)
            non200[k] += response.status != 200
        conn.close()

    workers = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(n)]
    for t in workers:
        t.start()
    for t in workers:
        t.join(args.seconds + 120)
    seconds = time.perf_counter() - start
    every = sorted(x for lat in latencies for x in lat)

    def pct(p: float) -> float:
        return every[min(len(every) - 1, int(p / 100 * len(every)))] * 1000 if every else math.nan

    return Phase(
        "",
        "",
        requests=len(every),
        seconds=seconds,
        p50_ms=pct(50),
        p99_ms=pct(99),
        non200=sum(non200),
        socket_errors=sum(errors),
        wrapped=sum(wrapped),
        served=served_indices(sent, len(paths)),
    )


class Driver:
    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args = args
        self.work = work
        self.wrk = None if args.client == "python" else shutil.which("wrk")
        if args.client == "wrk" and self.wrk is None:
            raise RuntimeError("--client wrk: wrk is not on PATH (Debian: apt install wrk)")
        self.results: list[Phase] = []

    def describe(self) -> str:
        a = self.args
        if self.wrk:
            return f"wrk, {min(a.threads, a.connections)} threads, {a.connections} connections"
        return (
            f"Python load generator, {a.connections} threads with keep-alive connections "
            "(wrk not found: this client competes with the server for the CPU; "
            "Debian: apt install wrk)"
        )

    def drive(self, phase: str, server: str, port: int, paths: list[str], pgids: set[int]) -> Phase:
        cpu0 = group_cpu_seconds(pgids)
        if self.wrk:
            result = run_wrk(self.wrk, port, paths, self.args, self.work)
        else:
            result = run_python(port, paths, self.args)
        cpu1 = group_cpu_seconds(pgids)
        result.phase, result.server = phase, server
        if cpu0 is not None and cpu1 is not None:
            result.cpu_s = cpu1 - cpu0
        self.results.append(result)
        extra = f", {len(paths)} distinct URLs"
        if result.wrapped:
            extra += f", cycled {result.requests / len(paths):.1f}×"
        print(
            f"  {phase} on {server}: {result.rate:.1f} req/s, p50 {result.p50_ms:.1f} ms, "
            f"p99 {result.p99_ms:.1f} ms, {result.requests} requests in "
            f"{result.seconds:.1f} s, {result.non200} non-200, "
            f"{result.socket_errors} socket errors, server CPU "
            f"{result.cpu_ms_per_request:.2f} ms/req{extra}",
            flush=True,
        )
        return result


# -- set-up ---------------------------------------------------------------------------------


def set_option(text: str, section: str, key: str, value: str) -> str:
    """Return ini ``text`` with ``key = value`` in ``section`` (replaced, or added)."""
    lines = text.splitlines()
    start = lines.index(f"[{section}]")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("[")), len(lines))
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
    for i in range(start + 1, end):
        if pattern.match(lines[i]):
            lines[i] = f"{key} = {value}"
            break
    else:
        lines.insert(start + 1, f"{key} = {value}")
    return "\n".join(lines) + "\n"


def write_ini(work: Path) -> tuple[Path, int]:
    """Return the benchmark's ini (from development.ini) and its waitress thread count."""
    text = (ROOT / "development.ini").read_text()
    for key, value in {
        "heritage.sample_data": "false",
        "heritage.worker_in_process": "true",
        "heritage.worker_processes": "2",
    }.items():
        text = set_option(text, "app:main", key, value)
    ini = work / "bench.ini"
    ini.write_text(text)
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(text)
    threads = int(parser.get("server:main", "threads", fallback="4"))  # waitress' default: 4
    return ini, threads


def find_iipsrv() -> str | None:
    for candidate in IIPSRV_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    return None


def find_nginx() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None
    )


# -- the run --------------------------------------------------------------------------------


def ours(procs: Processes, driver: Driver, work: Path, master: Path, args) -> list[str]:
    """Benchmark our server; return the tile paths (relative) for the peer."""
    ini, threads = write_ini(work)
    log = work / "heritage.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    t0 = time.perf_counter()
    procs.run("heritage demo", [HERITAGE, "demo", "-c", str(ini)], log=log, timeout=300, cwd=work)
    command = [HERITAGE, "ingest", "-c", str(ini), ITEM_ID, str(master)]
    procs.run("heritage ingest", command, log=log, timeout=300, cwd=work, env=env)
    print(f"heritage demo + ingest: {time.perf_counter() - t0:.1f} s", flush=True)

    port = free_port()
    serve_log = work / "serve.log"
    t0 = time.perf_counter()
    command = [HERITAGE, "serve", "-c", str(ini), "--port", str(port)]
    server = procs.start("heritage serve", command, log=serve_log, cwd=work, env=env)
    body = wait_for(port, f"/api/items/{ITEM_ID}/files", server, serve_log, 120)
    name = json.loads(body)["files"][-1]["name"]
    image_id = f"{ITEM_ID}_{name}"
    base = f"/iiif/3/{image_id}"
    info = json.loads(wait_for(port, f"{base}/info.json", server, serve_log, 300))
    built = time.perf_counter() - t0
    wait_quiet({server.pid})  # the worker may still be building the sample items' pyramids
    print(
        f"ours: heritage serve on {HOST}:{port}, 1 waitress process, {threads} threads; "
        f"{image_id} {info['width']}×{info['height']}, tiles "
        f"{info['tiles'][0]['width']} px, scale factors {info['tiles'][0]['scaleFactors']} "
        f"(server up and pyramid built {built:.1f} s after start)",
        flush=True,
    )

    tiles = tile_requests(info)
    random.Random(1).shuffle(tiles)  # a viewer asks in viewport order: no thread in lockstep
    tile_paths = [f"{base}/{t}" for t in tiles]
    bad = warm_up(port, tile_paths)
    problem = check_size(port, tile_paths[0], tuple(map(int, tiles[0].split("/")[1].split(","))))
    print(f"  warm-up: {len(tiles)} tile URLs (scale factors 1, 2), {bad} not 200", flush=True)
    if problem:
        print(f"  WARNING: {tile_paths[0]} is {problem}", flush=True)
    driver.drive("tiles", "ours", port, tile_paths, {server.pid})

    count = max(2000, 300 * args.seconds)
    mix = [f"{base}/{m}" for m in mix_requests(info["width"], info["height"], count)]
    cache = work / "var" / "derivatives" / "cache"
    shutil.rmtree(cache, ignore_errors=True)
    first = driver.drive("mix-uncached", "ours", port, mix, {server.pid})
    if first.wrapped:
        first.note = f"{first.wrapped} requests past the list were cache hits"
    answered = [mix[i] for i in first.served]
    if answered:
        driver.drive("mix-cached", "ours", port, answered, {server.pid})
    cached_files = sum(1 for p in cache.rglob("*") if p.is_file()) if cache.is_dir() else 0
    print(f"  disk cache after the mix: {cached_files} files", flush=True)
    procs.stop(server)
    warnings = serve_log.read_text(errors="replace").count("Task queue depth")
    if warnings:
        print(
            f"  waitress logged {warnings} 'Task queue depth' warnings (more connections "
            "than threads: each queued request logs one line)",
            flush=True,
        )
    return tiles


def peer(procs: Processes, driver: Driver, work: Path, master: Path, tiles: list[str], args):
    """Benchmark IIPImage on the same tiles, if it, nginx and vips are installed."""
    iipsrv, nginx, vips = find_iipsrv(), find_nginx(), shutil.which("vips")
    missing = [
        n for n, p in (("iipsrv.fcgi", iipsrv), ("nginx", nginx), ("vips", vips)) if p is None
    ]
    if missing:
        print(
            f"peer IIPImage skipped: {', '.join(missing)} not found "
            "(Debian: apt install iipimage-server nginx-light libvips-tools)",
            flush=True,
        )
        return
    assert iipsrv and nginx and vips
    peer_dir = work / "iip"
    for sub in ("logs", "tmp", "images"):
        (peer_dir / sub).mkdir(parents=True, exist_ok=True)
    tif = peer_dir / "images" / "page.tif"
    t0 = time.perf_counter()
    command = [vips, "tiffsave", str(master), str(tif), "--tile", "--tile-width", "512"]
    command += ["--tile-height", "512", "--pyramid", "--compression", "jpeg", "--Q", "85"]
    procs.run("vips tiffsave", command, log=peer_dir / "logs" / "vips.log", timeout=300)
    print(f"vips tiffsave (pyramidal TIFF, JPEG Q85): {time.perf_counter() - t0:.1f} s")

    env = {
        **os.environ,
        "FILESYSTEM_PREFIX": f"{tif.parent}/",
        "URI_MAP": "iiif=>IIIF",
        "JPEG_QUALITY": "85",
        "CORS": "*",
        "VERBOSITY": "1",
        "LOGFILE": str(peer_dir / "logs" / "iipsrv.log"),
    }
    ports = [free_port() for _ in range(args.iip_processes)]
    group = set()
    for p in ports:
        proc = procs.start(
            "iipsrv",
            [iipsrv, "--bind", f"{HOST}:{p}"],
            log=peer_dir / "logs" / f"iipsrv-{p}.out",
            env=env,
        )
        group.add(proc.pid)
    port = free_port()
    upstreams = " ".join(f"server {HOST}:{p};" for p in ports)
    conf = peer_dir / "nginx.conf"
    conf.write_text(NGINX_CONF.format(upstreams=upstreams, host=HOST, port=port))
    ngx_log = peer_dir / "logs" / "nginx.out"
    proxy = procs.start("nginx", [nginx, "-c", str(conf), "-p", f"{peer_dir}/"], log=ngx_log)
    group.add(proxy.pid)
    info = json.loads(wait_for(port, "/iiif/page.tif/info.json", proxy, ngx_log, 30))
    print(
        f"peer: IIPImage ({Path(iipsrv).name}, {args.iip_processes} FastCGI processes, default "
        f"tile cache) behind nginx (1 worker) on {HOST}:{port}; info.json "
        f"{info.get('@context', '?').rsplit('/', 2)[-2]} {info['width']}×{info['height']}",
        flush=True,
    )
    paths = [f"/iiif/page.tif/{t}" for t in tiles]
    expected = tuple(map(int, tiles[0].split("/")[1].split(",")))
    syntax = "w,h"
    if check_size(port, paths[0], expected):  # try the older w, form
        width_only = re.compile(r"/(\d+),\d+/")
        paths = ["/iiif/page.tif/" + width_only.sub(r"/\1,/", t, count=1) for t in tiles]
        syntax = "w,"
        if problem := check_size(port, paths[0], expected):
            print(f"peer IIPImage skipped: {paths[0]} answered {problem}", flush=True)
            return
    bad = warm_up(port, paths)
    print(f"  warm-up: {len(paths)} tile URLs (sizes as {syntax}), {bad} not 200", flush=True)
    driver.drive("tiles", "IIPImage", port, paths, group)


def print_table(results: list[Phase]) -> None:
    print()
    header = f"{'phase':<14} {'server':<10} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}"
    header += f" {'errors':>7} {'CPU ms/req':>11}"
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r.phase:<14} {r.server:<10} {r.rate:>9.1f} {r.p50_ms:>8.1f} {r.p99_ms:>8.1f}"
            f" {r.errors:>7} {r.cpu_ms_per_request:>11.2f}"
        )
    for r in results:
        if r.note:
            print(f"note: {r.phase} on {r.server}: {r.note}")
    tiles = {r.server: r for r in results if r.phase == "tiles"}
    if "ours" in tiles and "IIPImage" in tiles and tiles["IIPImage"].rate:
        ratio = tiles["ours"].rate / tiles["IIPImage"].rate
        print(f"tiles, ours / IIPImage: {ratio:.2f}× the requests per second")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=int, default=10, help="per phase (default 10)")
    parser.add_argument("--connections", type=int, default=16, help="concurrent clients")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--iip-processes", type=int, default=2, help="IIPImage processes")
    parser.add_argument(
        "--client", choices=["auto", "wrk", "python"], default="auto", help="load generator"
    )
    parser.add_argument("--format", choices=["tiff", "jpeg"], default="tiff", help="the page")
    parser.add_argument("--no-peer", action="store_true", help="skip IIPImage")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()

    def interrupted(signum, frame):  # SIGTERM: clean up as for Ctrl-C
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    procs = Processes()
    work = Path(tempfile.mkdtemp(prefix="image-server-bench-"))
    try:
        driver = Driver(args, work)
        print(f"load: {driver.describe()}, {args.seconds} s per phase; {os.cpu_count()} CPUs")
        t0 = time.perf_counter()
        master = work / f"page.{'tif' if args.format == 'tiff' else 'jpg'}"
        from digitization.samples import make_sample_page

        make_sample_page(
            master, seed=1, page_no=1, width=WIDTH, height=HEIGHT, fmt=args.format.upper()
        )
        print(
            f"sample page: {WIDTH}×{HEIGHT} {args.format.upper()}, "
            f"{master.stat().st_size / 1e6:.1f} MB, {time.perf_counter() - t0:.1f} s",
            flush=True,
        )
        tiles = ours(procs, driver, work, master, args)
        if args.no_peer:
            print("peer IIPImage skipped: --no-peer")
        else:
            peer(procs, driver, work, master, tiles, args)
        print_table(driver.results)
    except KeyboardInterrupt:
        print("interrupted; stopping what was started", file=sys.stderr)
        return 130
    finally:
        procs.stop_all()
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
