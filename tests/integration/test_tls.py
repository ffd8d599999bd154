# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""HTTPS for real (issue 15): a real ACME CA (Debian's pebble, its DNS played by pebble-challtestsrv), the
real edge, Python's ssl clients and openssl.

One module fixture deploys the example project on the embedded default with ``api`` on ``ssl_mode:
letsencrypt`` (pebble, certificates that live 600 s, 15 % of
its nonces refused so that the client's bounded badNonce retries are exercised) and a
second app, ``site``, on ``self-signed`` (the project's own CA). The tests run in order: issuance, a
re-run without a CA request, the self-signed name, protections, then a renewal under a keep-alive HTTPS
load (forced: the lifetime rule is unit-tested, and test 2 shows a certificate that is not due costs no
order; run at -vvv: no key shown) and a forced renewal whose CA is gone.
"""

from __future__ import annotations

import glob
import os
import random
import socket
import ssl
import stat
import string
import subprocess
import threading
import time

import pytest
import yaml

from acme_ca import AcmeCA
from helpers import free_port, recap_changed, remove_edge
from test_deploy import Project, remove_tenant

pytestmark = pytest.mark.usefixtures('world')

VALIDITY = 600  # seconds: the test lifetime; due 400 s after issuance, so no test here waits for it
APP = {'type': 'python', 'build_context': 'examples/apps/api', 'command': 'python -u app.py', 'port': 8000,
       'health_path': '/health', 'depends_on': ['postgres', 'redis']}


class TlsProject(Project):
    def __init__(self, root, user, edge_port, acme):
        self.acme = acme
        super(TlsProject, self).__init__(root, user, edge_port)
        self.spec['services']['api']['ssl_mode'] = 'letsencrypt'
        self.spec['services']['site'] = dict(APP, domain=self.site, ssl_mode='self-signed', hsts=True)
        self.write()

    @property
    def api(self):
        return 'api.%s.localhost' % self.user

    @property
    def site(self):
        return 'site.%s.localhost' % self.user

    def extra(self, *args):
        return super(TlsProject, self).extra('-e', 'fleet_acme_directory=%s' % self.acme.directory,
                                             '-e', 'fleet_acme_ca_bundle=%s' % self.acme.ca_bundle, *args)

    @property
    def tls_dir(self):
        return os.path.join(self.root, 'fleet', self.user, 'myapp', 'prod', 'tls')

    def connect(self, name, cafile):
        """A TLS connection to the edge for ``name``, verified against ``cafile`` (None: not verified)."""
        context = ssl.create_default_context(cafile=cafile)
        if cafile is None:
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        sock = socket.create_connection(('127.0.0.1', self.edge_https_port), timeout=10)
        return context.wrap_socket(sock, server_hostname=name)

    def serial(self, name, cafile):
        with self.connect(name, cafile) as tls:
            return served_serial(tls)


def served_serial(tls):
    out = subprocess.run(['openssl', 'x509', '-noout', '-serial'], input=ssl.DER_cert_to_PEM_cert(
        tls.getpeercert(binary_form=True)), capture_output=True, text=True, check=True)
    return out.stdout.strip().split('=')[1].lower().lstrip('0')


def get(tls, name, path='/health'):
    """One request on an open connection (kept alive); returns the status code."""
    tls.sendall(('GET %s HTTP/1.1\r\nHost: %s\r\n\r\n' % (path, name)).encode())
    head = b''
    while b'\r\n\r\n' not in head:
        chunk = tls.recv(4096)
        if not chunk:
            raise ConnectionError('the server closed the connection')
        head += chunk
    status = int(head.split(b' ', 2)[1])
    length = 0
    for line in head.split(b'\r\n'):
        if line.lower().startswith(b'content-length:'):
            length = int(line.split(b':')[1])
    body = head.split(b'\r\n\r\n', 1)[1]
    while len(body) < length:
        body += tls.recv(4096)
    return status


@pytest.fixture(scope='module')
def project(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('tls'))
    user = 't' + ''.join(random.choice(string.ascii_lowercase) for dummy in range(6))
    edge_port = free_port()
    # pebble refuses 15 % of good nonces: every ACME request of the module goes through the badNonce retries
    acme = AcmeCA(os.path.join(root, 'acme'), edge_port, validity=VALIDITY,
                  env={'PEBBLE_WFE_NONCEREJECT': '15'}).start()
    tenant = TlsProject(root, user, edge_port, acme)
    try:
        proc = tenant.playbook('deploy')
        assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
        tenant.roots = acme.roots()
        yield tenant
    finally:
        remove_tenant(tenant)
        remove_edge(tenant.edge_container)
        acme.stop()


def test_https_with_a_certificate_from_the_acme_ca(project):
    with project.connect(project.api, project.roots) as tls:
        names = [value for kind, value in tls.getpeercert()['subjectAltName'] if kind == 'DNS']
        assert names == [project.api]
        assert tls.version() in ('TLSv1.2', 'TLSv1.3')
        assert get(tls, project.api) == 200
        assert get(tls, project.api) == 200  # the same connection, kept alive
        assert get(tls, project.api, '/healthz') == 200  # the edge's own health of the domain, for monitors
    out = subprocess.run(['openssl', 's_client', '-connect', '127.0.0.1:%d' % project.edge_https_port,
                          '-servername', project.api, '-CAfile', project.roots, '-verify_return_error', '-brief'],
                         input='', capture_output=True, text=True, timeout=30, check=False)
    assert 'Verification: OK' in out.stdout + out.stderr, out.stdout + out.stderr
    assert project.acme.orders() == 1


def test_http_redirects_but_for_challenges_and_the_health_path(project):
    def head(path):
        sock = socket.create_connection(('127.0.0.1', project.edge_port), timeout=10)
        with sock:
            sock.sendall(('GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' % (path, project.api)).encode())
            data = b''
            while True:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
        return data.decode('latin-1')
    answer = head('/health?x=1')
    assert answer.startswith('HTTP/1.1 301'), answer
    assert 'Location: https://%s:%d/health?x=1' % (project.api, project.edge_https_port) in answer
    assert head('/.well-known/acme-challenge/none').startswith('HTTP/1.1 404')
    assert head('/__fleet_edge_health').startswith('HTTP/1.1 200')


def test_a_second_deploy_asks_the_ca_nothing_and_changes_nothing(project):
    before = project.acme.orders()
    proc = project.playbook('deploy')
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert recap_changed(proc.stdout) == 0, proc.stdout[-4000:]
    assert project.acme.orders() == before


def test_self_signed_names_verify_with_the_projects_ca(project):
    ca = os.path.join(project.root, 'fleet', project.user, 'myapp', 'ca', 'ca.pem')
    with project.connect(project.site, ca) as tls:
        tls.sendall(('GET /health HTTP/1.1\r\nHost: %s\r\n\r\n' % project.site).encode())
        head = tls.recv(4096).decode('latin-1')
    assert head.startswith('HTTP/1.1 200'), head
    assert 'Strict-Transport-Security: max-age=63072000' in head
    with pytest.raises(ssl.SSLCertVerificationError):
        project.connect(project.site, project.roots)  # not pebble's


def test_an_unknown_name_gets_no_certificate(project):
    with pytest.raises(ssl.SSLError):
        project.connect('other.%s.localhost' % project.user, project.roots)


def key_lines(project):
    """A line of each private key of the project's certificates on the controller."""
    lines = []
    for path in glob.glob(os.path.join(project.tls_dir, '*.pem')):
        with open(path) as handle:
            text = handle.read().splitlines()
        begin = [i for i, line in enumerate(text) if line.startswith('-----BEGIN') and 'PRIVATE KEY' in line][0]
        lines.append(text[begin + 1])
    return lines


def test_private_keys_are_root_only(project):
    files = glob.glob(os.path.join(project.tls_dir, '*.pem'))
    files += glob.glob(os.path.join(project.root, 'fleet', '.fleet', 'edge', 'certs', '*.pem'))
    files += [os.path.join(project.root, 'fleet', project.user, 'myapp', 'ca', 'ca.key'),
              os.path.join(project.root, 'fleet', '.fleet', 'acme', 'account.key')]
    assert len(files) == 6, files
    for path in files:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
        assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700, path
    inspect = subprocess.run(['docker', 'inspect', project.edge_container], capture_output=True, text=True,
                             check=True).stdout
    assert 'PRIVATE KEY' not in inspect and not [line for line in key_lines(project) if line in inspect]


def test_renewal_under_keep_alive_load_fails_no_request(project):
    old = project.serial(project.api, project.roots)
    results = {'ok': 0, 'failed': [], 'serials': set()}
    stop = threading.Event()

    def load():
        tls = project.connect(project.api, project.roots)
        kept = served_serial(tls)
        while not stop.is_set():
            try:
                assert get(tls, project.api) == 200
                results['ok'] += 1
            except (OSError, AssertionError) as exc:
                results['failed'].append(repr(exc))
                tls = project.connect(project.api, project.roots)
            try:  # and a new connection (a handshake) each turn
                with project.connect(project.api, project.roots) as fresh:
                    results['serials'].add(served_serial(fresh))
            except OSError as exc:
                results['failed'].append('handshake: %r' % exc)
            time.sleep(0.05)
        results['kept'] = kept
        tls.close()

    thread = threading.Thread(target=load)
    thread.start()
    try:
        proc = project.playbook('tls', '-vvv', '-e', 'fleet_tls_force=true')  # at -vvv, no key is shown
    finally:
        time.sleep(1)
        stop.set()
        thread.join(30)
    assert proc.returncode == 0, proc.stdout[-4000:]
    new = project.serial(project.api, project.roots)
    assert new != old
    assert results['failed'] == [] and results['ok'] > 20, results
    assert new in results['serials'] and old in results['serials']
    assert project.acme.orders() == 2
    shown = proc.stdout + proc.stderr
    assert 'PRIVATE KEY' not in shown and not [line for line in key_lines(project) if line in shown]


def test_a_failed_renewal_keeps_the_certificate_and_says_so(project):
    served = project.serial(project.api, project.roots)
    project.acme.stop()
    proc = project.playbook('tls', '-e', 'fleet_tls_force=true')  # due now, and the CA is gone
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert 'HTTPS: no new certificate for %s' % project.api in proc.stdout
    assert 'the current certificate keeps serving' in proc.stdout
    assert 'fix: the ACME directory did not answer' in proc.stdout
    assert project.serial(project.api, project.roots) == served
    status = project.playbook('status')
    assert status.returncode == 0, status.stdout[-3000:]
    row = [line for line in status.stdout.splitlines() if line.startswith(project.api)]
    assert row and 'does not answer' in row[0], status.stdout[-3000:]
    with open(os.path.join(project.tls_dir, project.api + '.json')) as handle:
        state = yaml.safe_load(handle)
    assert state['failures'] == 1 and state['last_error']
    with open(os.path.join(project.root, 'fleet', project.user, 'myapp', 'prod', 'monitoring', 'tls.jsonl')) as handle:
        events = [e for e in (yaml.safe_load(line) for line in handle) if e['domain'] == project.api]
    assert [e['event'] for e in events] == ['issued', 'issued', 'failed']
    assert 'does not answer' in events[-1]['error'] and events[-1]['next']


def test_remove_takes_the_certificates_off_the_edge(project):
    proc = project.playbook('remove', '-e', 'fleet_confirm=%s/myapp/prod' % project.user, '-e', 'fleet_purge=true')
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert glob.glob(os.path.join(project.root, 'fleet', '.fleet', 'edge', 'certs', '*')) == []
    assert not os.path.exists(os.path.join(project.root, 'fleet', project.user, 'myapp', 'prod', 'tls'))
