#!/usr/bin/env python3
"""The API contract, checked against a live server (part of `make test`).

1. Installs openapi-spec-validator and schemathesis (pinned) into a
   virtualenv under target/api-contract/venv, reused when present.
2. Starts `order-host serve` on 127.0.0.1 (a free port) with an admin API
   key and a webhook secret, on a SQLite file in a temporary directory.
3. Validates GET /openapi.json with openapi-spec-validator.
4. Runs schemathesis against the live server from that document, bounded
   in examples per operation and in total time: no 5xx, every status code
   documented, every response's content type and body as its schema says.
5. Stops the server on every exit path (success, failure, Ctrl-C).

Usage: scripts/api-contract.py [--host target/debug/order-host]
       [--max-examples N] [--budget SECONDS]

To explore beyond the contract (not part of `make test`), the checks can
be replaced and options added, e.g.
  API_CONTRACT_CHECKS=positive_data_acceptance \
  API_CONTRACT_EXTRA="--mode positive --max-failures 40" scripts/api-contract.py
"""

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / "target" / "api-contract" / "venv"
PINS = ["openapi-spec-validator==0.9.0", "schemathesis==4.32.5"]
# What schemathesis checks on every response.
CONTRACT_CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
]
CHECKS = [c for c in os.environ.get("API_CONTRACT_CHECKS", "").split(",") if c] or CONTRACT_CHECKS


def log(message):
    print(f"api-contract: {message}", flush=True)


def venv_python():
    return VENV / "bin" / "python"


def ensure_venv():
    """The virtualenv with the pinned tools; created (pip from PyPI) once."""
    marker = VENV / "pins.txt"
    wanted = "\n".join(PINS)
    if marker.exists() and marker.read_text() == wanted and venv_python().exists():
        return
    log(f"installing {', '.join(PINS)} into {VENV.relative_to(ROOT)}")
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run(
        [str(venv_python()), "-m", "pip", "install", "-q", "--disable-pip-version-check", *PINS],
        check=True,
    )
    marker.write_text(wanted)


class Server:
    """`order-host serve` on a free loopback port; stopped by `stop`."""

    def __init__(self, host_binary, workdir, key):
        self.key = key
        auth = workdir / "auth.toml"
        hashed = subprocess.run(
            [host_binary, "api-key", "hash"],
            input=key,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        auth.write_text(
            f'[[api-keys]]\nname = "contract"\nrole = "admin"\nhash = "{hashed}"\n'
        )
        env = dict(os.environ)
        self.webhook_secret = secrets.token_hex(16)
        env["ORDER_HOST_WEBHOOK_SECRET"] = self.webhook_secret
        env.setdefault("RUST_LOG", "warn")
        self.process = subprocess.Popen(
            [
                host_binary,
                "--config", str(workdir / "none.toml"),
                "serve",
                "--bind", "127.0.0.1:0",
                "--store", str(workdir / "orders.db"),
                "--auth", str(auth),
                "--shutdown-deadline", "5",
            ],
            stdout=subprocess.PIPE,
            stderr=open(workdir / "server.log", "wb"),
            env=env,
            cwd=workdir,
        )
        self.base = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = self.process.stdout.readline().decode()
            if not line:
                break
            if line.startswith("listening on "):
                self.base = line.split()[-1].strip()
                break
        if self.base is None:
            self.stop()
            log_text = (workdir / "server.log").read_text(errors="replace")
            raise SystemExit(f"api-contract: the server did not start:\n{log_text}")

    def get(self, path):
        request = urllib.request.Request(
            self.base + path, headers={"Authorization": f"Bearer {self.key}"}
        )
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.read()

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=str(ROOT / "target" / "debug" / "order-host"))
    parser.add_argument("--max-examples", type=int, default=20)
    parser.add_argument("--budget", type=int, default=300, help="seconds for schemathesis")
    args = parser.parse_args()

    started = time.monotonic()
    ensure_venv()
    key = "ohk_" + secrets.token_hex(32)
    with tempfile.TemporaryDirectory(prefix="api-contract-") as tmp:
        workdir = Path(tmp)
        (workdir / "none.toml").write_text("")
        server = Server(args.host, workdir, key)
        # SIGTERM (a CI time-out) stops the server too.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        try:
            document = workdir / "openapi.json"
            document.write_bytes(server.get("/openapi.json"))
            operations = sum(
                1
                for item in json.loads(document.read_text())["paths"].values()
                for method in item
                if method in ("get", "put", "post", "delete", "patch")
            )
            log(f"validating /openapi.json ({operations} operations)")
            subprocess.run(
                [str(venv_python()), "-m", "openapi_spec_validator", str(document)],
                check=True,
            )
            log(
                f"schemathesis: {args.max_examples} examples per operation, "
                f"at most {args.budget} s"
            )
            schemathesis = VENV / "bin" / "schemathesis"
            command = [
                str(schemathesis),
                "run",
                str(document),
                "--url", server.base,
                "--header", f"Authorization: Bearer {key}",
                "--checks", ",".join(CHECKS),
                "--max-examples", str(args.max_examples),
                "--phases", "examples,coverage,fuzzing,stateful",
                *os.environ.get("API_CONTRACT_EXTRA", "").split(),
                "--seed", "1",
                "--request-timeout", "10",
                "--no-color",
                "--suppress-health-check", "all",
                "--generation-database", "none",
                "--workers", "1",
            ]
            # The hooks sign the webhook deliveries with the server's secret.
            env = dict(
                os.environ,
                SCHEMATHESIS_HOOKS="api_contract_hooks",
                PYTHONPATH=str(ROOT / "scripts"),
                API_CONTRACT_WEBHOOK_SECRET=server.webhook_secret,
            )
            try:
                run = subprocess.run(command, timeout=args.budget, cwd=workdir, env=env)
            except subprocess.TimeoutExpired:
                raise SystemExit(
                    f"api-contract: schemathesis did not finish within {args.budget} s"
                )
            if run.returncode != 0:
                log_text = (workdir / "server.log").read_text(errors="replace")
                tail = "\n".join(log_text.splitlines()[-40:])
                raise SystemExit(
                    f"api-contract: schemathesis found problems (exit {run.returncode}); "
                    f"the server's log ends with:\n{tail}"
                )
        finally:
            server.stop()
    log(f"passed in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
