"""What the benchmark scripts share: starting `order-host`, one HTTP request,
a deterministic order body, a nearest-rank percentile, and a process's
resident memory. Only the standard library is used."""

import hashlib
import json
import os
import subprocess
import time
import urllib.error
import urllib.request
import uuid

# The admin key of the benchmarks' hosts (hashed into their credentials file).
BENCH_KEY = "ohk_bench_" + "0" * 54


def write_auth_file(workdir):
    """A credentials file for `serve --auth` holding BENCH_KEY as an admin."""
    path = os.path.join(workdir, "auth.toml")
    with open(path, "w") as f:
        f.write('[[api-keys]]\nname = "bench"\nrole = "admin"\nhash = "sha256:%s"\n'
                % hashlib.sha256(BENCH_KEY.encode()).hexdigest())
    return path


def start(binary, args, log_path):
    """Starts order-host with args; returns (process, base URL)."""
    log = open(log_path, "w")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDER_HOST_")}
    proc = subprocess.Popen([binary] + args, stdout=subprocess.PIPE, stderr=log, env=env, text=True)
    deadline = time.time() + 120
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if line.startswith("listening on "):
            return proc, line.split("listening on ", 1)[1].strip()
    proc.kill()
    raise SystemExit(f"{' '.join(args)} did not start; see {log_path}")


def request(method, url, body=None, timeout=30):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"content-type": "application/json",
                                          "authorization": f"Bearer {BENCH_KEY}"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, None


def order(n, run, products=20):
    def ident(name):
        return str(uuid.uuid5(uuid.NAMESPACE_OID, f"bench:{run}:{name}"))
    address = {"street1": "1 Market Street", "city": "San Francisco", "state_province": "CA",
               "postal_code": "94105", "country": "US"}
    return {
        "order_id": ident(f"order:{n}"),
        "customer_id": ident(f"customer:{n % 50}"),
        "items": [{
            "item_id": ident(f"item:{n}"),
            "product_id": ident(f"product:{n % products}"),
            "sku": f"SKU-{n % products}",
            "product_name": "mug",
            "quantity": 1,
            "unit_price": {"amount": 2500, "currency": "USD"},
        }],
        "shipping_address": address,
        "billing_address": address,
        "payment_method": "credit-card",
    }


def percentile(values, p):
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return ordered[index]


def resident_kib(pid):
    """(VmRSS, VmHWM) of a process in KiB, read from one /proc snapshot."""
    fields = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                fields[name] = int(value.split()[0])
    return fields.get("VmRSS"), fields.get("VmHWM")
