"""A scripted OpenAI-compatible chat server on 127.0.0.1, for tests that must not reach the
internet.

Each request to ``POST /v1/chat/completions`` consumes the next entry of the script: a good
reply (with token usage), an HTTP error (500, 429 with ``Retry-After``, 401, ...), a slow
answer (the client's timeout fires), or a raw body (invalid JSON, a JSON object without
choices). An entry may be a function of the request, for replies that depend on the prompt.
Every request is recorded (path, headers, JSON body) so tests can check what was sent.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Reply:
    """A successful completion with this content and usage."""

    content: str | None
    prompt_tokens: int | None = 100
    completion_tokens: int | None = 50
    model: str = "scripted-model"
    finish_reason: str = "stop"


@dataclass(frozen=True)
class Error:
    """An HTTP error answer."""

    status: int
    message: str = "scripted failure"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Slow:
    """Answer only after ``seconds`` (longer than the client's timeout)."""

    seconds: float
    then: Reply = Reply("```dsl task\nTask * CPU;\n```")


@dataclass(frozen=True)
class Raw:
    """A raw body with this status (e.g. invalid JSON)."""

    body: bytes
    status: int = 200
    content_type: str = "application/json"


Entry = Reply | Error | Slow | Raw | Callable[[dict[str, Any]], "Reply | Error | Raw"]


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class ScriptedServer:
    """Serves the script in order; ``requests`` records what arrived."""

    def __init__(self) -> None:
        self.script: list[Entry] = []
        #: Served when the script is empty (``None``: an error that fails the test's request).
        self.default: Entry | None = None
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                return

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {"_unparsed": raw.decode("utf-8", "replace")}
                request = Request(self.path, {k.lower(): v for k, v in self.headers.items()},
                                  body)
                with outer._lock:
                    outer.requests.append(request)
                    if outer.script:
                        entry = outer.script.pop(0)
                    else:
                        entry = outer.default or Error(599, "script exhausted")
                if callable(entry) and not isinstance(entry, Reply | Error | Slow | Raw):
                    entry = entry(body)
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self._answer(entry, body)  # suppressed: the client gave up (timeouts)

            def _answer(self, entry: Entry, body: dict[str, Any]) -> None:
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._send(404, {"error": {"message": "no such route"}})
                    return
                if isinstance(entry, Slow):
                    time.sleep(entry.seconds)
                    entry = entry.then
                if isinstance(entry, Error):
                    self._send(entry.status, {"error": {"message": entry.message,
                                                        "type": "scripted"}}, entry.headers)
                elif isinstance(entry, Raw):
                    self.send_response(entry.status)
                    self.send_header("Content-Type", entry.content_type)
                    self.send_header("Content-Length", str(len(entry.body)))
                    self.end_headers()
                    self.wfile.write(entry.body)
                else:
                    assert isinstance(entry, Reply)
                    usage = None
                    if entry.prompt_tokens is not None and entry.completion_tokens is not None:
                        usage = {"prompt_tokens": entry.prompt_tokens,
                                 "completion_tokens": entry.completion_tokens,
                                 "total_tokens": entry.prompt_tokens + entry.completion_tokens}
                    payload: dict[str, Any] = {
                        "id": f"chatcmpl-{len(outer.requests)}",
                        "object": "chat.completion",
                        "created": 0,
                        "model": entry.model,
                        "choices": [{"index": 0, "finish_reason": entry.finish_reason,
                                     "message": {"role": "assistant",
                                                 "content": entry.content}}],
                    }
                    if usage is not None:
                        payload["usage"] = usage
                    self._send(200, payload)

            def _send(self, status: int, payload: dict[str, Any],
                      headers: dict[str, str] | None = None) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                return  # a client that hung up mid-answer is expected in timeout tests

        self._server = Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> ScriptedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()

    def push(self, *entries: Entry) -> None:
        with self._lock:
            self.script.extend(entries)

    @property
    def remaining(self) -> int:
        with self._lock:
            return len(self.script)
