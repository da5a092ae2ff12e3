#!/usr/bin/env python3
"""Throughput and latency of 1, 2, 3 `order-host serve` processes sharing one
PostgreSQL store and one `order-host simulate`, printed as a table.

    scripts/pg-test.sh python3 scripts/bench-multi-host.py [--orders 300] [--clients 8] [--hosts 1,2,3]

Needs ORDER_TEST_POSTGRES (scripts/pg-test.sh starts a throwaway server and
sets it) and a built host (ORDER_HOST_BIN, default target/debug/order-host).
Each run gets a fresh database and fresh simulated backends; clients place
orders round-robin over the hosts through POST /orders, and the run ends when
every order's saga has finished. Only the standard library is used.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from bench_lib import order, percentile, request, start, write_auth_file

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
POLICY = {
    "retry": {"max-attempts": 20, "base-delay-ms": 10, "max-delay-ms": 200},
    "notification-retry": {"max-attempts": 20, "base-delay-ms": 10, "max-delay-ms": 200},
}


def psql(url, sql):
    """Runs one statement with the server's psql."""
    candidates = sorted(
        d for d in os.listdir("/usr/lib/postgresql") if os.path.isdir(f"/usr/lib/postgresql/{d}/bin")
    ) if os.path.isdir("/usr/lib/postgresql") else []
    binary = shutil.which("psql") or (
        f"/usr/lib/postgresql/{candidates[-1]}/bin/psql" if candidates else "psql"
    )
    subprocess.run([binary, "-q", "-v", "ON_ERROR_STOP=1", url, "-c", sql], check=True,
                   stdout=subprocess.DEVNULL)


def run(binary, server, hosts, orders, clients, workdir):
    name = f"bench_{hosts}_{os.getpid()}_{int(time.time())}"
    psql(server, f"CREATE DATABASE {name}")
    url = server.rsplit("/", 1)[0] + "/" + name
    procs = []
    try:
        auth = write_auth_file(workdir)
        policy = os.path.join(workdir, "policy.json")
        with open(policy, "w") as f:
            json.dump(POLICY, f)
        sim, sim_base = start(binary, ["--seed", "1", "--sim-state", os.path.join(workdir, f"sim-{hosts}.db"),
                                       "simulate", "--bind", "127.0.0.1:0"],
                              os.path.join(workdir, f"simulate-{hosts}.log"))
        procs.append(sim)
        bases = []
        for h in range(hosts):
            args = ["--store", url, "--policy", policy]
            for context in ("payment", "inventory", "carrier", "customer"):
                args += ["--backend", f"{context}={sim_base}"]
            args += ["serve", "--bind", "127.0.0.1:0", "--driver-interval-ms", "20", "--auth", auth]
            proc, base = start(binary, args, os.path.join(workdir, f"host-{hosts}-{h}.log"))
            procs.append(proc)
            bases.append(base)

        latencies = []
        lock = threading.Lock()
        next_order = iter(range(orders))
        failures = []

        def client():
            while True:
                with lock:
                    n = next(next_order, None)
                if n is None:
                    return
                base = bases[n % len(bases)]
                began = time.perf_counter()
                status, _ = request("POST", f"{base}/orders", order(n, name))
                took = time.perf_counter() - began
                with lock:
                    if status == 201:
                        latencies.append(took * 1000)
                    else:
                        failures.append(status)

        began = time.perf_counter()
        threads = [threading.Thread(target=client) for _ in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        placed = time.perf_counter() - began
        pending = [order(n, name)["order_id"] for n in range(orders)]
        deadline = time.time() + 600
        while pending and time.time() < deadline:
            still = []
            for i, order_id in enumerate(pending):
                status, saga = request("GET", f"{bases[i % len(bases)]}/orders/{order_id}/saga")
                if not (status == 200 and saga and saga.get("phase") == "finished"):
                    still.append(order_id)
            pending = still
            if pending:
                time.sleep(0.05)
        finished = time.perf_counter() - began
        return {
            "hosts": hosts,
            "orders": orders,
            "failed": len(failures) + len(pending),
            "place_per_s": len(latencies) / placed if placed else 0,
            "sagas_per_s": (orders - len(pending)) / finished if finished else 0,
            "p50": percentile(latencies, 50),
            "p99": percentile(latencies, 99),
        }
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        psql(server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--hosts", default="1,2,3")
    args = parser.parse_args()
    server = os.environ.get("ORDER_TEST_POSTGRES")
    if not server:
        sys.exit("ORDER_TEST_POSTGRES is not set: run through scripts/pg-test.sh")
    binary = os.environ.get("ORDER_HOST_BIN", os.path.join(ROOT, "target", "debug", "order-host"))
    if not os.path.isfile(binary):
        sys.exit(f"no host binary at {binary}: run `make build` or set ORDER_HOST_BIN")
    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        for hosts in [int(h) for h in args.hosts.split(",")]:
            rows.append(run(binary, server, hosts, args.orders, args.clients, workdir))
    print(f"{args.orders} orders, {args.clients} clients, one PostgreSQL, one `order-host simulate`")
    print("| hosts | orders placed/s | sagas finished/s | POST /orders p50 ms | p99 ms | failed |")
    print("|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['hosts']} | {r['place_per_s']:.0f} | {r['sagas_per_s']:.0f} | "
              f"{r['p50']:.1f} | {r['p99']:.1f} | {r['failed']} |")


if __name__ == "__main__":
    main()
