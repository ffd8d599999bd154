# SPDX-License-Identifier: GPL-3.0-or-later
"""The example worker: takes jobs from the redis list ``jobs`` and writes results back.

A job is a string (JSON or not). The result goes to the list ``results`` and, when the
job is JSON with an ``id``, to the key ``result:<id>``. A heartbeat line is printed every
HEARTBEAT_SECONDS (default 5); SIGTERM stops it cleanly after the current wait.
"""
import json
import os
import signal
import socket
import sys
import time

import connections

stopping = False


def on_signal(signum, frame):
    global stopping
    stopping = True
    print("signal %d: stopping after the current job" % signum, flush=True)


def handle(raw):
    try:
        job = json.loads(raw)
    except ValueError:
        job = raw
    text = job.get("text", "") if isinstance(job, dict) else str(job)
    return job, {"job": job, "upper": text.upper(), "length": len(text), "worker": socket.gethostname(),
                 "done_at": time.time()}


def main():
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    interval = float(os.environ.get("HEARTBEAT_SECONDS", "5"))
    print("example worker starting on %s" % socket.gethostname(), flush=True)
    for line in connections.describe():
        print("target %s" % line, flush=True)
    client = None
    processed = 0
    last_beat = 0.0
    backoff = 1.0
    while not stopping:
        now = time.monotonic()
        if now - last_beat >= interval:
            print("heartbeat: alive, processed=%d" % processed, flush=True)
            last_beat = now
        try:
            if client is None:
                client = connections.redis_client()
            item = client.brpop(["jobs"], timeout=2)
            backoff = 1.0
        except connections.ConfigError as exc:
            print("ERROR redis not configured: %s" % exc, flush=True)
            time.sleep(min(backoff, 2))
            continue
        except Exception as exc:
            print("ERROR redis: %s: %s (retrying in %.0fs)" % (type(exc).__name__, exc, backoff), flush=True)
            client = None
            time.sleep(backoff)
            backoff = min(backoff * 2, 30)
            continue
        if item is None:
            continue
        job, result = handle(item[1])
        payload = json.dumps(result)
        client.lpush("results", payload)
        if isinstance(job, dict) and job.get("id") is not None:
            client.set("result:%s" % job["id"], payload, ex=86400)
        processed += 1
        print("job done: %s" % (job.get("id") if isinstance(job, dict) else item[1][:60]), flush=True)
    print("stopped, processed=%d" % processed, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
