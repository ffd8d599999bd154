# SPDX-License-Identifier: GPL-3.0-or-later
"""The HTTP health check against a real server on loopback: the Host header it sends, what a failure says."""
import contextlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.health_check import (
    body_excerpt, check_http)


class HostCheckingApp(BaseHTTPRequestHandler):
    """Answers 200 to Host app.example.com only, like Django with ALLOWED_HOSTS = ['app.example.com']."""

    def do_GET(self):
        if self.headers.get('Host') == 'app.example.com':
            code, body = 200, b'ok\n'
        else:
            code, body = 400, b'\n<h1>Bad Request (400)</h1>\nInvalid HTTP_HOST header: %s\nmore\nand more\n' % (
                self.headers.get('Host', '').encode())
        self.send_response(code)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def app():
    server = ThreadingHTTPServer(('127.0.0.1', 0), HostCheckingApp)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        with contextlib.suppress(OSError):
            server.server_close()


def test_the_domain_is_sent_as_host(app):
    ok, message = check_http('127.0.0.1', app, '/health', host_header='app.example.com')
    assert ok is True and message == 'GET /health answered 200'


def test_without_a_domain_the_host_is_address_and_port_and_the_body_is_shown(app):
    ok, message = check_http('127.0.0.1', app, '/health')
    assert ok is False
    assert message == ('GET http://127.0.0.1:%d/health answered 400: <h1>Bad Request (400)</h1> | '
                       'Invalid HTTP_HOST header: 127.0.0.1:%d | more' % (app, app))
    ok, message = check_http('127.0.0.1', app, '/health', host_header='other.example.com')
    assert ok is False and '(Host: other.example.com) answered 400' in message and '\n' not in message


def test_a_refused_connection_says_so():
    ok, message = check_http('127.0.0.1', 1, '/')
    assert ok is False and message.startswith('GET http://127.0.0.1:1/ failed: ')


def test_body_excerpt():
    assert body_excerpt(b'') == ''
    assert body_excerpt('a\n\n b \nc\nd') == 'a | b | c'
    assert body_excerpt(b'x' * 500) == 'x' * 200


class FakeClock(object):
    def __init__(self):
        self.now = 0.0

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def _alive(monkeypatch, states=None):
    from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy import health_check
    monkeypatch.setattr(health_check, 'container_state', lambda container: (states or [(True, 'running')])[0])
    return health_check


def test_an_app_that_answers_within_the_interval_is_healthy_at_once(monkeypatch):
    health_check = _alive(monkeypatch)
    clock = FakeClock()
    answers_at = 0.6

    def probe():
        return (clock.now >= answers_at, 'GET /health at %.2f' % clock.now)
    ok, details = health_check.wait_healthy(object(), probe, retries=5, interval=1, clock=clock)
    assert ok
    assert clock.now < 1.0  # not the next whole interval
    assert details[0].startswith('try 1:') and details[-1].startswith('try 2:')


def test_an_app_that_never_answers_fails_after_the_same_tries_and_time(monkeypatch):
    health_check = _alive(monkeypatch)
    clock = FakeClock()
    ok, details = health_check.wait_healthy(object(), lambda: (False, 'refused'), retries=3, interval=2, clock=clock)
    assert not ok
    assert [d.split(':')[0] for d in details] == ['try 1', 'try 2', 'try 3']
    assert 3.9 <= clock.now <= 4.01  # two intervals between three tries


def test_a_container_that_exits_between_tries_ends_the_wait(monkeypatch):
    health_check = _alive(monkeypatch)
    clock = FakeClock()
    states = iter([(True, 'running'), (True, 'running'), (False, 'exited (exit code 1)')])
    monkeypatch.setattr(health_check, 'container_state', lambda container: next(states))
    ok, details = health_check.wait_healthy(object(), lambda: (False, 'refused'), retries=10, interval=1, clock=clock)
    assert not ok and details[-1] == 'try 2: exited (exit code 1)'
    assert clock.now < 1.0
