# SPDX-License-Identifier: GPL-3.0-or-later
"""A fixed-rate HTTP/1.1 load that counts every way a request can fail, per method.

Standard library only (it also runs inside a tenant's container, on the stand-in python image).
wrk gives one error count for all requests; a toggle's promise is per method (a GET may be
retried by a client, a POST is not), so this load sends a mix of requests and reports, for each
method: requests, 2xx, non-2xx, socket errors split into connect / read / write / timeout, and
requests that were written in full and never answered.

    python3 bench/httpload.py --target 127.0.0.1:8080 --host api.u1.localhost --rate 200 \
        --connections 16 --keepalive --mix 'GET /version,POST /items' --stop-file /tmp/stop

Runs until --duration seconds passed or --stop-file exists (both bounded: --duration defaults
to 600 s), then lets the requests in flight finish (at most --timeout s) and prints one JSON
object (or writes it to --out). Exit code 0 when every request got a 2xx, 1 otherwise, 2 on bad
arguments.

--keepalive reuses each connection for the next request (a server's ``Connection: close`` is
honoured, not an error); without it each request has its own connection (``Connection: close``).
``connections_opened`` counts the connections established: with --keepalive it equals
--connections when no server ever closed one. ``announced_closes`` are the keep-alive
connections a server ended gracefully with ``Connection: close`` on a response, and after how
many responses (nginx does so after ``keepalive_requests``, 1000 by default): a connection
closed any other way fails the request sent on it (a read error).
A POST sends ``{"name": "load-N"}`` as JSON.
"""
import argparse
import asyncio
import json
import os
import sys
import time

METHODS = ('GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'PATCH')
ERRORS = ('connect', 'read', 'write', 'timeout')


class Failure(Exception):
    def __init__(self, kind, detail, written=False):
        Exception.__init__(self, '%s: %s' % (kind, detail))
        self.kind, self.detail, self.written = kind, detail, written


class Stats(object):
    def __init__(self):
        self.requests = 0
        self.ok = 0
        self.non_2xx = 0
        self.statuses = {}
        self.errors = dict((kind, 0) for kind in ERRORS)
        self.unanswered = 0
        self.latencies = []
        self.samples = []
        self.bodies = {}

    def as_dict(self):
        lat = sorted(self.latencies)

        def pct(p):
            return round(lat[min(len(lat) - 1, int(p * len(lat)))] * 1000, 1) if lat else None
        return {'requests': self.requests, '2xx': self.ok, 'non_2xx': self.non_2xx, 'statuses': self.statuses,
                'errors': self.errors, 'socket_errors': sum(self.errors.values()), 'unanswered': self.unanswered,
                'latency_ms': {'p50': pct(0.5), 'p99': pct(0.99), 'max': pct(1.0)},
                'first_failures': self.samples, 'bodies': self.bodies}


def parse_mix(text):
    mix = []
    for item in text.split(','):
        parts = item.split()
        if len(parts) != 2 or parts[0].upper() not in METHODS or not parts[1].startswith('/'):
            raise ValueError('--mix item %r is not "METHOD /path"' % item)
        mix.append((parts[0].upper(), parts[1]))
    return mix


def parse_target(text):
    host, _sep, port = text.rpartition(':')
    if not host or not port.isdigit():
        raise ValueError('--target %r is not HOST:PORT' % text)
    return host.strip('[]'), int(port)


async def read_response(reader, method):
    """``(status, close, body)`` of one response (the body's first 200 bytes)."""
    line = await reader.readline()
    if not line:
        raise Failure('read', 'connection closed before the status line', written=True)
    parts = line.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(b'HTTP/') or not parts[1].isdigit():
        raise Failure('read', 'bad status line %r' % line[:80], written=True)
    status = int(parts[1])
    headers = {}
    while True:
        line = await reader.readline()
        if not line:
            raise Failure('read', 'connection closed in the headers', written=True)
        if line in (b'\r\n', b'\n'):
            break
        name, _sep, value = line.decode('latin-1').partition(':')
        headers[name.strip().lower()] = value.strip()
    close = headers.get('connection', '').lower() == 'close' or parts[0] == b'HTTP/1.0'
    if method == 'HEAD' or status in (204, 304) or 100 <= status < 200:
        return status, close, b''
    body = b''
    try:
        if headers.get('transfer-encoding', '').lower() == 'chunked':
            while True:
                size = int((await reader.readline()).split(b';')[0].strip() or b'0', 16)
                if not size:
                    break
                body += (await reader.readexactly(size + 2))[:-2][:200 - len(body)]
            while (await reader.readline()) not in (b'\r\n', b'\n', b''):
                pass  # trailers
        elif 'content-length' in headers:
            body = (await reader.readexactly(int(headers['content-length'])))[:200]
        else:
            body = (await reader.read())[:200]
            close = True
    except (asyncio.IncompleteReadError, ValueError) as exc:
        raise Failure('read', 'body cut short (%s)' % type(exc).__name__, written=True)
    return status, close, body


class Load(object):
    def __init__(self, args):
        self.args = args
        self.host, self.port = parse_target(args.target)
        self.mix = parse_mix(args.mix)
        self.stats = dict((method, Stats()) for method, _path in self.mix)
        self.sent = 0
        self.opened = 0         # connections established (keep-alive: one per client connection if none closed)
        self.announced_closes = []  # keep-alive: responses a connection served before one said Connection: close
        self.stopping = False

    def request_bytes(self, number, method, path):
        lines = ['%s %s HTTP/1.1' % (method, path), 'Host: %s' % (self.args.host or self.args.target),
                 'User-Agent: fleet-httpload', 'Accept: */*']
        if not self.args.keepalive:
            lines.append('Connection: close')
        body = b''
        if method in ('POST', 'PUT', 'PATCH'):
            body = json.dumps({'name': 'load-%d' % number}).encode()
            lines.extend(['Content-Type: application/json', 'Content-Length: %d' % len(body)])
        return ('\r\n'.join(lines) + '\r\n\r\n').encode() + body

    async def connect(self):
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(self.host, self.port), self.args.timeout)
            self.opened += 1
            return [reader, writer, 0]  # the third item counts the responses read on it
        except asyncio.TimeoutError:
            raise Failure('timeout', 'connect took longer than %s s' % self.args.timeout)
        except OSError as exc:
            raise Failure('connect', '%s' % (exc.strerror or exc))

    async def one(self, conn, number, method, path):
        """Send one request on ``conn`` (opened when None); returns the connection to reuse or None."""
        if conn is None:
            conn = await self.connect()
        reader, writer, _served = conn
        try:
            writer.write(self.request_bytes(number, method, path))
            await writer.drain()
        except OSError as exc:
            raise Failure('write', '%s' % (exc.strerror or exc))
        try:
            status, close, body = await asyncio.wait_for(read_response(reader, method), self.args.timeout)
        except asyncio.TimeoutError:
            raise Failure('timeout', 'no answer within %s s' % self.args.timeout, written=True)
        except OSError as exc:
            raise Failure('read', '%s' % (exc.strerror or exc), written=True)
        stats = self.stats[method]
        stats.statuses[str(status)] = stats.statuses.get(str(status), 0) + 1
        if 200 <= status < 300:
            stats.ok += 1
            if self.args.count_bodies and method == 'GET':
                text = body.decode('utf-8', 'replace').strip()[:80]
                if text in stats.bodies or len(stats.bodies) < 20:
                    stats.bodies[text] = stats.bodies.get(text, 0) + 1
        else:
            stats.non_2xx += 1
            if len(stats.samples) < 5:
                stats.samples.append('%s %s: HTTP %d' % (method, path, status))
        conn[2] += 1
        if close or not self.args.keepalive:
            if close and self.args.keepalive and len(self.announced_closes) < 10000:
                self.announced_closes.append(conn[2])
            writer.close()
            return None
        return conn

    async def connection(self, index, start, interval):
        """One client connection sending at a fixed rate (requests are never sent back to back)."""
        conn = None
        due = start + index * interval / self.args.connections
        while not self.stopping:
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            if self.stopping:
                break
            due = max(due + interval, time.monotonic())
            number = self.sent
            self.sent += 1
            method, path = self.mix[number % len(self.mix)]
            stats = self.stats[method]
            stats.requests += 1
            began = time.monotonic()
            try:
                conn = await self.one(conn, number, method, path)
                stats.latencies.append(time.monotonic() - began)
            except Failure as exc:
                stats.errors[exc.kind] += 1
                stats.unanswered += 1 if exc.written else 0
                if len(stats.samples) < 5:
                    stats.samples.append('%s %s: %s' % (method, path, exc))
                if conn is not None:
                    conn[1].close()
                conn = None
        if conn is not None:
            conn[1].close()

    async def run(self):
        interval = float(self.args.connections) / self.args.rate
        start = time.monotonic()
        tasks = [asyncio.ensure_future(self.connection(i, start, interval)) for i in range(self.args.connections)]
        if self.args.ready_file:
            open(self.args.ready_file, 'w').close()
        deadline = start + self.args.duration
        while time.monotonic() < deadline and not (self.args.stop_file and os.path.exists(self.args.stop_file)):
            await asyncio.sleep(0.1)
        self.stopping = True
        await asyncio.wait(tasks, timeout=self.args.timeout + 1)
        elapsed = time.monotonic() - start
        result = {'target': self.args.target, 'host': self.args.host, 'keepalive': self.args.keepalive,
                  'connections': self.args.connections, 'connections_opened': self.opened,
                  'announced_closes': {'count': len(self.announced_closes),
                                       'after_responses': sorted(set(self.announced_closes))[:20]},
                  'rate': self.args.rate, 'seconds': round(elapsed, 1),
                  'methods': dict((method, stats.as_dict()) for method, stats in self.stats.items())}
        result['failed'] = sum(s['non_2xx'] + s['socket_errors'] for s in result['methods'].values())
        result['requests'] = sum(s['requests'] for s in result['methods'].values())
        return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--target', required=True, help='HOST:PORT to connect to')
    parser.add_argument('--host', default='', help='the Host header (default: the target)')
    parser.add_argument('--rate', type=float, default=100.0, help='requests per second, all connections together')
    parser.add_argument('--connections', type=int, default=8)
    parser.add_argument('--keepalive', action='store_true', help='reuse connections (default: one per request)')
    parser.add_argument('--mix', default='GET /', help='comma-separated "METHOD /path", sent in turn')
    parser.add_argument('--duration', type=float, default=600.0, help='seconds at most (default 600)')
    parser.add_argument('--stop-file', default='', help='stop when this file exists')
    parser.add_argument('--ready-file', default='', help='create this file once sending starts')
    parser.add_argument('--timeout', type=float, default=10.0, help='seconds a request may take')
    parser.add_argument('--out', default='', help='write the JSON result here (default: stdout)')
    parser.add_argument('--count-bodies', action='store_true',
                        help='count the 2xx GET answers by body (at most 20 different ones), e.g. versions served')
    args = parser.parse_args(argv)
    try:
        load = Load(args)
        if args.rate <= 0 or args.connections < 1 or args.duration <= 0:
            raise ValueError('--rate, --connections and --duration must be positive')
    except ValueError as exc:
        print('httpload: %s' % exc, file=sys.stderr)
        return 2
    result = asyncio.run(load.run())
    text = json.dumps(result, indent=1, sort_keys=True)
    if args.out:
        with open(args.out + '.tmp', 'w') as handle:
            handle.write(text + '\n')
        os.replace(args.out + '.tmp', args.out)
    else:
        print(text)
    return 0 if result['failed'] == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
