# SPDX-License-Identifier: GPL-3.0-or-later
"""A package registry the build cannot use fails the build at once, in one line (issue 14, part 3).

The index is a server of this test on loopback: one that accepts connections and never answers, and one
whose certificate the build does not trust (self-signed, made here). The build is a real image_build run of
a small Python service whose requirements only that index could serve; pip runs on the controller, as in
every Python build. The playbook run is bounded (a silent index must not hold it until build_timeout).
"""
import json
import socket
import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from helpers import run_playbook, task_results

pytestmark = pytest.mark.integration

PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: build
      projectdeployer.fleet.image_build:
        user: "{{ build.user }}"
        project: regtest
        env: test
        service: api
        build_context: "{{ build.context }}"
        command: python -u app.py
        base_image: fleet-world/python:3.11
        pip_conf: "{{ build.pip_conf }}"
        build_root: "{{ build.build_root }}"
"""
# the run is bounded: pip gives up on a silent index after two 20 s reads; the rest is the playbook and the
# base image's probe
BOUND = 150


def build(tmp_path, user, index_url):
    app = tmp_path / 'app'
    app.mkdir()
    (app / 'app.py').write_text('print("hello")\n')
    (app / 'requirements.txt').write_text('fleet-registry-probe==1.0\n')
    pip_conf = tmp_path / 'pip.conf'
    pip_conf.write_text('[global]\nindex-url = %s\n' % index_url)
    (tmp_path / 'build.yml').write_text(PLAY)
    varfile = tmp_path / 'vars.json'
    varfile.write_text(json.dumps({'build': {'user': user, 'context': str(app), 'pip_conf': str(pip_conf),
                                             'build_root': str(tmp_path / 'build')}}))
    started = time.monotonic()
    proc = run_playbook(str(tmp_path / 'build.yml'), '-e', '@%s' % varfile, json_output=True, timeout=BOUND)
    print('build failed after %.1f s' % (time.monotonic() - started))
    assert proc.returncode == 2, proc.stdout[-3000:] + proc.stderr[-3000:]
    return task_results(proc, 'build')['localhost']


def test_an_index_that_accepts_and_never_answers(tmp_path, unique_prefix):
    silent = socket.socket()
    silent.bind(('127.0.0.1', 0))
    silent.listen(64)  # the kernel completes connections; nothing ever reads or answers
    port = silent.getsockname()[1]
    try:
        result = build(tmp_path, unique_prefix, 'http://127.0.0.1:%d/simple' % port)
    finally:
        silent.close()
    msg = result['msg']
    assert msg == ('api: pip cannot use the package registry http://127.0.0.1:%d: it does not answer (timed out); '
                   'fix: make it answer from the controller, or name one that does in a pip.conf given as '
                   'fleet_build_pip_conf (index-url)' % port), msg


class NotFound(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - the http.server interface
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_an_index_whose_certificate_the_build_does_not_trust(tmp_path, unique_prefix):
    key, cert = tmp_path / 'key.pem', tmp_path / 'cert.pem'
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', str(key), '-out', str(cert),
                    '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
                   check=True, capture_output=True, timeout=60)
    server = ThreadingHTTPServer(('127.0.0.1', 0), NotFound)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    try:
        result = build(tmp_path, unique_prefix, 'https://127.0.0.1:%d/simple' % port)
    finally:
        server.shutdown()
        server.server_close()
    msg = result['msg']
    assert msg.startswith('api: pip cannot use the package registry ') and 'https://127.0.0.1:%d' % port in msg, msg
    assert msg.endswith('it presents a certificate the build does not trust; fix: give the CA that signed its '
                        'certificate as fleet_build_ca_bundle'), msg
    assert '\n' not in msg
