#!/usr/bin/env python3
"""Resident memory of one `order-host serve` over many orders, printed as a table.

    python3 scripts/bench-serve-memory.py [--orders 100000] [--clients 4] [--step 10000]
    make bench-serve-memory ORDERS=100000

Starts `serve` on a fresh SQLite store with the simulated backends kept in a
`--sim-state` file (the durable setting a shop would run), places orders
through `POST /orders` from a few client threads, keeps the saga backlog
bounded (placing pauses while more than --backlog sagas are unfinished, as
`order_host_store_saga_timers` on /metrics tells), and prints the server's
resident memory (VmRSS, and the peak VmHWM) every --step orders and once
every saga has finished. Needs a built host (ORDER_HOST_BIN, default
target/debug/order-host). Only the standard library is used.
"""

import argparse
import os
import sys
import tempfile
import threading
import time

from bench_lib import BENCH_KEY, order, request, resident_kib, start, write_auth_file

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
# Spread over enough products that the simulation's 1,000 units a product
# outlast 100,000 orders of one unit each.
PRODUCTS = 200


def unfinished_sagas(base):
    """Sagas with a timer set (not finished), from the Prometheus text."""
    import urllib.request

    req = urllib.request.Request(f"{base}/metrics",
                                 headers={"authorization": f"Bearer {BENCH_KEY}"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        for line in resp.read().decode().splitlines():
            if line.startswith("order_host_store_saga_timers "):
                return int(float(line.split()[1]))
    raise SystemExit("/metrics has no order_host_store_saga_timers")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--step", type=int, default=10_000)
    parser.add_argument("--backlog", type=int, default=2_000)
    parser.add_argument("--wait", type=int, default=1800, help="seconds to wait for the last sagas")
    args = parser.parse_args()
    binary = os.environ.get("ORDER_HOST_BIN", os.path.join(ROOT, "target", "debug", "order-host"))
    if not os.path.isfile(binary):
        sys.exit(f"no host binary at {binary}: run `make build` or set ORDER_HOST_BIN")
    with tempfile.TemporaryDirectory() as workdir:
        store = os.path.join(workdir, "orders.db")
        sim = os.path.join(workdir, "sim.db")
        proc, base = start(binary, ["--store", store, "--sim-state", sim,
                                    "serve", "--bind", "127.0.0.1:0",
                                    "--auth", write_auth_file(workdir)],
                           os.path.join(workdir, "serve.log"))
        try:
            run(proc, base, args, store)
        finally:
            proc.terminate()
            proc.wait(timeout=60)


def run(proc, base, args, store):
    lock = threading.Lock()
    next_order = iter(range(args.orders))
    failures = []
    placed = [0]
    paused = threading.Event()
    paused.set()

    def client():
        while True:
            paused.wait()
            with lock:
                n = next(next_order, None)
            if n is None:
                return
            status, _ = request("POST", f"{base}/orders", order(n, "serve-memory", PRODUCTS))
            with lock:
                if status == 201:
                    placed[0] += 1
                else:
                    failures.append(status)

    began = time.time()
    threads = [threading.Thread(target=client) for _ in range(args.clients)]
    for t in threads:
        t.start()
    print(f"{args.orders} orders through POST /orders, {args.clients} clients, SQLite store, "
          f"--sim-state, backlog at most about {args.backlog} sagas")
    print("| orders placed | sagas unfinished | RSS MiB | peak MiB | store MB | elapsed s |")
    print("|---:|---:|---:|---:|---:|---:|", flush=True)
    next_report = args.step

    def report(count, backlog):
        rss, peak = resident_kib(proc.pid)
        size = sum(os.path.getsize(p) for p in (store, store + "-wal") if os.path.exists(p))
        print(f"| {count:,} | {backlog:,} | {rss / 1024:.1f} | {peak / 1024:.1f} | "
              f"{size / 1e6:.1f} | {time.time() - began:.0f} |", flush=True)

    while any(t.is_alive() for t in threads):
        time.sleep(0.5)
        backlog = unfinished_sagas(base)
        if backlog > args.backlog:
            paused.clear()
        elif backlog < args.backlog // 2:
            paused.set()
        with lock:
            count = placed[0]
        if count >= next_report:
            report(count, backlog)
            next_report += args.step
    deadline = time.time() + args.wait
    backlog = unfinished_sagas(base)
    while backlog and time.time() < deadline:
        time.sleep(1)
        backlog = unfinished_sagas(base)
    report(placed[0], backlog)
    if failures or backlog:
        sys.exit(f"{len(failures)} placement(s) failed, {backlog} saga(s) unfinished")


if __name__ == "__main__":
    main()
