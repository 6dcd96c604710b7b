"""A local HTTP server that stands in for Slack, Teams, Telegram, the WhatsApp Cloud API and a
webhook receiver: it records every request and answers with the recorded real-shaped answers of
``tests/fixtures/notify/answers.json`` (scripted per path prefix; the last answer repeats).
Sigap reaches it through the SSRF-safe client because the tests list it in
``SIGAP_OUTBOUND_ALLOWLIST``, the documented setting; nothing is bypassed."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ANSWERS = json.loads(
    (Path(__file__).resolve().parent.parent / "fixtures" / "notify" / "answers.json").read_text()
)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Replay:
    host: str = "127.0.0.1"
    port: int = 0
    received: list[Received] = field(default_factory=list)
    scripts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def script(self, prefix: str, service: str, *names: str) -> None:
        """Answer requests whose path starts with ``prefix`` with these recorded answers."""
        self.scripts[prefix] = [ANSWERS[service][name] for name in names]

    def answer(self, path: str) -> dict[str, Any]:
        with self.lock:
            for prefix, answers in sorted(self.scripts.items(), key=lambda kv: -len(kv[0])):
                if path.startswith(prefix):
                    return answers.pop(0) if len(answers) > 1 else answers[0]
        return {"status": 404, "headers": {}, "body": "no script"}

    def to(self, prefix: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path.startswith(prefix)]


def serve(replay: Replay) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            with replay.lock:
                replay.received.append(Received(self.path, dict(self.headers.items()), body))
            answer = replay.answer(self.path)
            payload = answer["body"]
            data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
            self.send_response(answer["status"])
            for name, value in answer["headers"].items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((replay.host, 0), Handler)
    replay.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
