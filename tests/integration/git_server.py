# SPDX-License-Identifier: GPL-3.0-or-later
"""Real git servers on 127.0.0.1 for tests: smart HTTP with a token, ``git daemon``, and test repos.

- :func:`create_bare_repo` makes ``<root>/<name>`` (bare) from a work tree with two commits:
  ``main`` (the default branch) at the second, branch ``release`` and annotated tag ``v1.0``
  at the first; each commit writes ``app.py`` (``VERSION = 1`` / ``2``).
- :class:`GitHttpServer` serves every repo under a root through Debian's
  ``/usr/lib/git-core/git-http-backend`` (run as CGI from a ``http.server`` handler) and
  answers 401 unless the request carries HTTP Basic auth whose password is the token;
  with a certificate from :func:`self_signed_cert` it speaks https.
- :class:`GitDaemon` runs ``git daemon --export-all`` for ``git://`` URLs.

Both servers listen on a free port of 127.0.0.1, wait a bounded time until they answer,
work as context managers and stop cleanly (their own processes only).
"""
import base64
import os
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time
import types
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HTTP_BACKEND = '/usr/lib/git-core/git-http-backend'
START_WAIT = 10
GIT_ENV = {
    'GIT_CONFIG_NOSYSTEM': '1', 'GIT_CONFIG_GLOBAL': '/dev/null', 'GIT_TERMINAL_PROMPT': '0',
    'GIT_AUTHOR_NAME': 'Fleet Test', 'GIT_AUTHOR_EMAIL': 'test@example.invalid',
    'GIT_COMMITTER_NAME': 'Fleet Test', 'GIT_COMMITTER_EMAIL': 'test@example.invalid', 'LC_ALL': 'C',
}


def _git(*args, cwd=None):
    env = dict(os.environ, **GIT_ENV)
    proc = subprocess.run(['git'] + list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=60,
                          check=False)
    if proc.returncode != 0:
        raise RuntimeError('git %s failed: %s' % (' '.join(args), proc.stderr.strip()))
    return proc.stdout.strip()


def create_bare_repo(root, name='app.git', sha_in_want=True):
    """A bare repo ``root/name``: main (2 commits), branch ``release`` and tag ``v1.0`` at commit 1."""
    work = os.path.join(root, '.work-' + name)
    bare = os.path.join(root, name)
    os.makedirs(work)
    _git('init', '--quiet', '--initial-branch=main', cwd=work)
    with open(os.path.join(work, 'app.py'), 'w') as handle:
        handle.write('VERSION = 1\n')
    _git('add', 'app.py', cwd=work)
    _git('commit', '--quiet', '-m', 'one', cwd=work)
    first = _git('rev-parse', 'HEAD', cwd=work)
    _git('tag', '-a', '-m', 'release 1.0', 'v1.0', cwd=work)
    _git('branch', 'release', cwd=work)
    with open(os.path.join(work, 'app.py'), 'w') as handle:
        handle.write('VERSION = 2\n')
    with open(os.path.join(work, 'README.md'), 'w') as handle:
        handle.write('second commit\n')
    _git('add', '.', cwd=work)
    _git('commit', '--quiet', '-m', 'two', cwd=work)
    second = _git('rev-parse', 'HEAD', cwd=work)
    _git('clone', '--quiet', '--bare', work, bare)
    shutil.rmtree(work)
    if sha_in_want:
        _git('config', 'uploadpack.allowReachableSHA1InWant', 'true', cwd=bare)
        _git('config', 'uploadpack.allowAnySHA1InWant', 'true', cwd=bare)
    _git('config', 'http.receivepack', 'false', cwd=bare)
    return types.SimpleNamespace(path=bare, name=name, first=first, second=second, branch='release',
                                 tag='v1.0', default_branch='main')


def self_signed_cert(directory):
    """``(cert, key)`` paths of a fresh self-signed certificate for 127.0.0.1 (the cert is its own CA)."""
    cert, key = os.path.join(directory, 'cert.pem'), os.path.join(directory, 'key.pem')
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
                    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
                    '-keyout', key, '-out', cert], capture_output=True, check=True, timeout=60)
    return cert, key


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def wait_for_port(port, alive=lambda: True, wait=START_WAIT):
    """Until 127.0.0.1:port accepts a connection; RuntimeError after ``wait`` s or when not alive."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError('the server on port %d exited before answering' % port)
        try:
            with socket.create_connection(('127.0.0.1', port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError('nothing answers on 127.0.0.1:%d after %d s' % (port, wait))


# ---------------------------------------------------------------- smart HTTP

class _Handler(BaseHTTPRequestHandler):
    server_version = 'fleet-test-git/1'

    def log_message(self, fmt, *args):  # keep pytest output clean
        pass

    def do_GET(self):
        self._serve()

    def do_POST(self):
        self._serve()

    def _authorized(self):
        value = self.headers.get('Authorization', '')
        if not value.startswith('Basic '):
            return False
        try:
            user, dummy, password = base64.b64decode(value[6:]).decode('utf-8').partition(':')
        except (ValueError, UnicodeDecodeError):
            return False
        return bool(user) and password == self.server.token

    def _body(self):
        if self.headers.get('Transfer-Encoding', '').lower() == 'chunked':
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b';')[0].strip() or b'0', 16)
                if size == 0:
                    self.rfile.readline()
                    return b''.join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get('Content-Length') or 0))

    def _serve(self):
        owner = self.server.owner
        authorized = self._authorized()
        owner.requests.append(types.SimpleNamespace(method=self.command, path=self.path,
                                                    authorization=self.headers.get('Authorization'),
                                                    authorized=authorized))
        if owner.delay:
            owner.stopping.wait(owner.delay)
        body = self._body() if self.command == 'POST' else b''
        if not authorized:
            self.send_response(401)
            self.send_header('WWW-Authenticate', 'Basic realm="fleet-test"')
            self.send_header('Content-Length', '0')
            self.end_headers()
            return
        path, dummy, query = self.path.partition('?')
        env = dict(GIT_ENV, PATH=os.environ.get('PATH', '/usr/bin:/bin'),
                   GIT_PROJECT_ROOT=owner.root, GIT_HTTP_EXPORT_ALL='1', GATEWAY_INTERFACE='CGI/1.1',
                   SERVER_PROTOCOL='HTTP/1.1', REQUEST_METHOD=self.command, PATH_INFO=path, QUERY_STRING=query,
                   CONTENT_TYPE=self.headers.get('Content-Type', ''), CONTENT_LENGTH=str(len(body)),
                   REMOTE_USER='test', REMOTE_ADDR=self.client_address[0])
        if self.headers.get('Content-Encoding'):
            env['HTTP_CONTENT_ENCODING'] = self.headers['Content-Encoding']
        if self.headers.get('Git-Protocol'):
            env['GIT_PROTOCOL'] = self.headers['Git-Protocol']
        proc = subprocess.run([HTTP_BACKEND], input=body, env=env, capture_output=True, timeout=60, check=False)
        head, sep, payload = proc.stdout.partition(b'\r\n\r\n')
        if not sep:
            head, sep, payload = proc.stdout.partition(b'\n\n')
        status, headers = 200, []
        for line in head.decode('latin-1').splitlines():
            key, dummy, value = line.partition(':')
            if key.lower() == 'status':
                status = int(value.strip().split()[0])
            elif key:
                headers.append((key, value.strip()))
        if not sep:
            status, headers, payload = 500, [], proc.stderr
        self.send_response(status)
        for key, value in headers:
            if key.lower() not in ('content-length', 'connection'):
                self.send_header(key, value)
        self.send_header('Content-Length', str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class GitHttpServer:
    """Smart-HTTP git for every repo under ``root``, Basic auth with password ``token`` required.

    ``url(name)`` gives ``http(s)://127.0.0.1:<port>/<name>``; ``requests`` records every
    request (method, path, Authorization header, authorized); ``delay`` (seconds) slows every
    answer (cut short by :meth:`stop`). ``cert``/``key`` (PEM paths) turn on https.
    """

    def __init__(self, root, token, cert=None, key=None):
        self.root = root
        self.token = token
        self.cert = cert
        self.key = key
        self.requests = []
        self.delay = 0.0
        self.stopping = threading.Event()
        self.httpd = None
        self.thread = None
        self.port = None

    def start(self):
        self.httpd = ThreadingHTTPServer(('127.0.0.1', 0), _Handler)
        if self.cert:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(self.cert, self.key)
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.httpd.daemon_threads = True
        self.httpd.token = self.token
        self.httpd.owner = self
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={'poll_interval': 0.1},
                                       name='git-http-%d' % self.port, daemon=True)
        self.thread.start()
        wait_for_port(self.port, alive=self.thread.is_alive)
        return self

    def url(self, name):
        return '%s://127.0.0.1:%d/%s' % ('https' if self.cert else 'http', self.port, name)

    def stop(self):
        self.stopping.set()
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.thread.join(timeout=10)
            self.httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


# ---------------------------------------------------------------- git://

class GitDaemon:
    """``git daemon`` exporting every repo under ``root``; ``url(name)`` is ``git://127.0.0.1:<port>/<name>``."""

    def __init__(self, root):
        self.root = root
        self.proc = None
        self.port = None
        self.log = None

    def start(self):
        last = None
        self.log = self.root.rstrip('/') + '.git-daemon.log'
        for dummy in range(3):   # the free port may be taken between probe and bind: try again
            self.port = free_port()
            env = dict(os.environ, **GIT_ENV)
            with open(self.log, 'ab') as log:
                self.proc = subprocess.Popen(
                    ['git', 'daemon', '--reuseaddr', '--base-path=' + self.root, '--export-all',
                     '--port=%d' % self.port, '--listen=127.0.0.1', self.root],
                    env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
            try:
                wait_for_port(self.port, alive=lambda: self.proc.poll() is None)
                return self
            except RuntimeError as exc:
                last = exc
                self.stop()
        with open(self.log, errors='replace') as log:
            tail = log.read()[-500:]
        raise RuntimeError('git daemon did not start: %s (log %s: %s)' % (last, self.log, tail))

    def url(self, name):
        return 'git://127.0.0.1:%d/%s' % (self.port, name)

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)   # its own session: the daemon and its children
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
