"""The nurse-station web form under load: 8 clients at once for 30 s, full vs stamped.

    .venv/bin/python benchmarks/web.py [--clients 8] [--seconds 30] [--threads 8]

Starts `make-handouts serve` on loopback twice: with notes longer than the notes box in
every request (they take the full render) and with a layout cache warmed by one request per layout
class. Each client posts personalized handout requests (both procedures and phases,
English and Spanish, every field, notes only in the first run) one after another;
prints requests, median and 95th percentile latency. Target: stamped median <= one
tenth of the full median.
"""

from __future__ import annotations

import argparse
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

from batch import LONG_NOTE  # notes that take the full render

CLASSES = [
    (procedure, phase, language)
    for procedure in ("vertebroplasty", "kyphoplasty")
    for phase in ("pre", "post")
    for language in ("en", "es")
]
NAMES = ["Maria Garcia", "José Hernández", "Ana Smith", "James Okafor", "Ruth Chen"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def form(rng: random.Random, kind: tuple[str, str, str], notes: bool) -> bytes:
    procedure, phase, language = kind
    fields = {
        "procedure": procedure,
        "phase": phase,
        "language": language,
        "patient_name": rng.choice(NAMES),
        "procedure_date": f"2026-12-{rng.randint(1, 28):02d}",
        "arrival_time": f"{rng.randint(6, 11)}:{rng.choice(['00', '15', '30', '45'])}",
        "physician": "Dr. Okafor",
        "levels": rng.choice(["L1", "T12, L1"]),
    }
    if notes:
        fields["notes"] = LONG_NOTE
    return urllib.parse.urlencode(fields).encode()


def post(url: str, body: bytes) -> float:
    started = time.perf_counter()
    with urllib.request.urlopen(urllib.request.Request(url, data=body), timeout=120) as reply:
        assert reply.headers["Content-Type"] == "application/pdf"
        reply.read()
    return time.perf_counter() - started


def wait_for(url: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise SystemExit("the server stopped")
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the server did not start")


def load(url: str, clients: int, seconds: float, notes: bool) -> list[float]:
    latencies: list[float] = []
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def client(number: int) -> None:
        rng = random.Random(number)
        while time.perf_counter() < stop:
            took = post(url, form(rng, rng.choice(CLASSES), notes))
            with lock:
                latencies.append(took)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies


def run(args: argparse.Namespace, cache: list[str], notes: bool = False) -> list[float]:
    port = free_port()
    exe = str(Path(sys.executable).with_name("make-handouts"))
    command = [exe, "-q", *cache, "serve", "--port", str(port), "--threads", str(args.threads)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(f"http://127.0.0.1:{port}/", server)
        url = f"http://127.0.0.1:{port}/handout"
        rng = random.Random(0)
        for kind in CLASSES:  # warms the layout cache (and the full render's fonts)
            post(url, form(rng, kind, notes))
        return load(url, args.clients, args.seconds, notes)
    finally:
        server.terminate()
        server.wait(timeout=30)


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        full = run(args, ["--no-cache"], notes=True)
        stamped = run(args, ["--cache-dir", str(Path(tmp) / "cache")])
    print(
        f"web form: {args.clients} clients for {args.seconds:g} s, serve --threads {args.threads}"
    )
    print(f"{'mode':<8} {'requests':>9} {'req/s':>7} {'median s':>9} {'p95 s':>7}")
    for name, values in (("full", full), ("stamped", stamped)):
        print(
            f"{name:<8} {len(values):>9} {len(values) / args.seconds:>7.1f} "
            f"{statistics.median(values):>9.3f} {p95(values):>7.3f}"
        )
    ratio = statistics.median(stamped) / statistics.median(full)
    verdict = "met" if ratio <= 0.1 else "NOT MET"
    print(f"stamped median / full median: {ratio:.3f} (target <= 0.100): {verdict}")


if __name__ == "__main__":
    main()
