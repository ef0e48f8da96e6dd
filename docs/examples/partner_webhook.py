"""Receive Fursa's partner webhooks and check their signature (pip install standardwebhooks).

    FURSA_WEBHOOK_SECRET=whsec_... python partner_webhook.py --port 8080

Each request is one partner event (a CloudEvent, JSON), signed per the Standard Webhooks
specification with the secret ``fursa partner add`` printed (``webhook_secret``). A request
whose signature does not verify, or whose timestamp is more than five minutes off, is refused
(401) and never handled. Answer 2xx quickly: anything else is tried again later (410 Gone
switches the endpoint off). A retry or a re-delivery has the same ``webhook-id``: handle each
once.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError


def receiver(secret: str, handle: Callable[[dict[str, Any]], None]) -> type[BaseHTTPRequestHandler]:
    webhook = Webhook(secret)  # during a secret rotation, either current secret verifies
    handled: set[str] = set()  # webhook-ids seen (keep them in your database)

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            try:
                event = webhook.verify(body, dict(self.headers))
            except WebhookVerificationError:
                self.send_response(401)
                self.end_headers()
                return
            if self.headers["webhook-id"] not in handled:
                handle(event)
                handled.add(self.headers["webhook-id"])
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    return Receiver


def show(event: dict[str, Any]) -> None:
    print(json.dumps({key: event[key] for key in ("id", "type", "subject", "time")}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()
    server = ThreadingHTTPServer(
        (args.host, args.port), receiver(os.environ["FURSA_WEBHOOK_SECRET"], show)
    )
    server.serve_forever()


if __name__ == "__main__":
    main()
