# SPDX-License-Identifier: GPL-3.0-or-later
"""The example API: HTTP on port 8000 (PORT), items in postgres, a counter in redis.

GET /health   200 "ok" (checks nothing external: a database blip never blocks a toggle)
GET /         JSON greeting (GREETING) and the container's hostname
GET /version  JSON {"version": APP_VERSION}
POST /items   {"name": ...} -> a row in postgres table items and INCR of a redis counter
GET /items    the rows and the counter
POST /docs    {"id": ..., "title": ..., "body": ...} -> a document in OpenSearch (when the api depends on one)
GET /search?q=text   the matching documents
"""
import json
import os
import signal
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import connections
import search

COUNTER_KEY = "items:created"
SCHEMA = """CREATE TABLE IF NOT EXISTS items (
    id serial PRIMARY KEY,
    name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
)"""
_schema_lock = threading.Lock()
_schema_ready = False
_redis = None
_redis_lock = threading.Lock()


def ensure_schema(conn):
    global _schema_ready
    if _schema_ready:
        return
    with _schema_lock:
        if not _schema_ready:
            with conn.cursor() as cur:
                cur.execute(SCHEMA)
            conn.commit()
            _schema_ready = True


def redis_conn():
    global _redis
    with _redis_lock:
        if _redis is None:
            _redis = connections.redis_client()
        return _redis


def create_item(name):
    conn = connections.postgres_connect()
    try:
        ensure_schema(conn)
        with conn.cursor() as cur:
            cur.execute("INSERT INTO items (name) VALUES (%s) RETURNING id, created_at", (name,))
            item_id, created = cur.fetchone()
        conn.commit()
    finally:
        conn.close()
    counter = redis_conn().incr(COUNTER_KEY)
    return {"id": item_id, "name": name, "created_at": created.isoformat(), "counter": counter}


def list_items():
    conn = connections.postgres_connect()
    try:
        ensure_schema(conn)
        with conn.cursor() as cur:
            cur.execute("SELECT id, name, created_at FROM items ORDER BY id")
            rows = [{"id": i, "name": n, "created_at": c.isoformat()} for i, n, c in cur.fetchall()]
    finally:
        conn.close()
    counter = int(redis_conn().get(COUNTER_KEY) or 0)
    return {"items": rows, "count": len(rows), "counter": counter}


class Handler(BaseHTTPRequestHandler):
    server_version = "fleet-example-api/1"
    protocol_version = "HTTP/1.1"
    # Headers and body go out as two writes; without this, Nagle's algorithm holds the body ~40 ms.
    disable_nagle_algorithm = True

    def _send(self, code, body, content_type="application/json"):
        if not isinstance(body, (bytes, str)):
            body = json.dumps(body) + "\n"
        if isinstance(body, str):
            body = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _backend(self, func, *args):
        try:
            return 200, func(*args)
        except connections.ConfigError as exc:
            return 503, {"error": "not configured: %s" % exc}
        except Exception as exc:  # a database or redis failure: answer, log, keep serving
            print("ERROR %s %s: %s: %s" % (self.command, self.path, type(exc).__name__, exc), flush=True)
            return 503, {"error": "%s: %s" % (type(exc).__name__, str(exc).strip().splitlines()[0] if str(exc).strip() else "")}

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/health":
            self._send(200, "ok\n", "text/plain")
        elif path == "/":
            self._send(200, {"greeting": os.environ.get("GREETING", "hello"), "hostname": socket.gethostname(),
                             "service": os.environ.get("FLEET_SERVICE"), "version": os.environ.get("APP_VERSION")})
        elif path == "/version":
            self._send(200, {"version": os.environ.get("APP_VERSION", "unknown")})
        elif path == "/items":
            self._send(*self._backend(list_items))
        elif path == "/search":
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query).get("q", [""])[0]
            self._send(*self._backend(search.search, query))
        else:
            self._send(404, {"error": "not found: %s" % path})

    do_HEAD = do_GET

    def _json_body(self):
        try:
            length = int(self.headers.get("Content-Length") or 0)
            return json.loads(self.rfile.read(length) or b"{}") if 0 <= length <= 65536 else None
        except ValueError:
            return None

    def do_POST(self):
        path = self.path.split("?", 1)[0]
        if path == "/docs":
            self._post_doc(self._json_body())
            return
        if path != "/items":
            self._send(404, {"error": "not found: %s" % path})
            return
        data = self._json_body()
        name = data.get("name") if isinstance(data, dict) else None
        if not isinstance(name, str) or not name.strip() or len(name) > 200:
            self._send(400, {"error": 'send JSON {"name": "..."} with a non-empty name of at most 200 characters'})
            return
        code, body = self._backend(create_item, name.strip())
        self._send(201 if code == 200 else code, body)

    def _post_doc(self, data):
        fields = [data.get(k) if isinstance(data, dict) else None for k in ("id", "title", "body")]
        if not all(isinstance(f, str) and f.strip() for f in fields):
            self._send(400, {"error": 'send JSON {"id": "...", "title": "...", "body": "..."}, each a non-empty string'})
            return
        code, body = self._backend(search.index_doc, *fields)
        self._send(201 if code == 200 else code, body)

    def log_request(self, code="-", size="-"):
        elapsed = (time.monotonic() - getattr(self, "_started", time.monotonic())) * 1000
        print('%s "%s %s" %s %.1fms' % (self.client_address[0], self.command, self.path, code, elapsed), flush=True)

    def log_message(self, fmt, *args):
        print("%s %s" % (self.client_address[0], fmt % args), flush=True)

    def parse_request(self):
        self._started = time.monotonic()
        return super().parse_request()


def main():
    if os.environ.get("FAIL_ON_START") == "1":
        raise RuntimeError("FAIL_ON_START=1: the example API refuses to start (used to test failing deploys)")
    port = int(os.environ.get("PORT", "8000"))
    print("example api %s starting on %s:%d, version %s" % (
        os.environ.get("FLEET_SERVICE", "api"), socket.gethostname(), port, os.environ.get("APP_VERSION", "unknown")),
        flush=True)
    for line in connections.describe():
        print("target %s" % line, flush=True)
    server = ThreadingHTTPServer(("0.0.0.0", port), Handler)
    server.daemon_threads = True

    def stop(signum, frame):
        print("signal %d: shutting down" % signum, flush=True)
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    print("stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
