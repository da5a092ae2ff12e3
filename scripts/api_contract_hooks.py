"""Schemathesis hooks of scripts/api-contract.py: signs every webhook
request the way the payment gateway, the inventory service and the carrier
do (`Order-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`
under the secret in API_CONTRACT_WEBHOOK_SECRET), so that the fuzz reaches
the parsing of webhook bodies instead of stopping at the 401 of an unsigned
delivery. A body this hook cannot reproduce byte for byte is still sent,
and answered 401 (documented)."""

import hashlib
import hmac
import json
import os
import time

import schemathesis

SECRET = os.environ.get("API_CONTRACT_WEBHOOK_SECRET", "").encode()


@schemathesis.hook
def before_call(context, case, kwargs):
    if not SECRET or not case.path.startswith("/webhooks/"):
        return
    try:
        # What requests sends for `json=`: json.dumps with allow_nan=False.
        body = json.dumps(case.body, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError):
        return
    stamp = str(int(time.time()))
    tag = hmac.new(SECRET, stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    headers = dict(case.headers or {})
    headers["Order-Signature"] = f"t={stamp},v1={tag}"
    case.headers = headers
