# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""A real ACME CA for one test: Debian's pebble, with pebble-challtestsrv as its DNS server.

Each test gets its own pair (own ports, own directory): pebble validates HTTP-01 on the test's edge
port (``httpPort``), challtestsrv answers every name with 127.0.0.1 unless ``add_a`` says otherwise,
and certificates live ``validity`` seconds so that a renewal happens inside a test. The directory's TLS
certificate is signed by a CA made here; ``ca_bundle`` trusts it (``fleet_acme_ca_bundle``).
"""

from __future__ import annotations

import json
import os
import re
import ssl
import subprocess
import time
import urllib.request

from helpers import free_port

START_TIMEOUT = 30


def _openssl(*args):
    subprocess.run(['openssl'] + list(args), check=True, capture_output=True, timeout=60)


class AcmeCA(object):
    def __init__(self, directory, http_port, validity=600, env=None):
        self.dir = str(directory)
        os.makedirs(self.dir, exist_ok=True)
        self.http_port, self.validity, self.extra_env = http_port, validity, dict(env or {})
        self.port, self.management_port = free_port(), free_port()
        self.dns_port, self.dns_management_port = free_port(), free_port()
        self.procs = []
        self.log_path = os.path.join(self.dir, 'pebble.log')

    # -- life -----------------------------------------------------------------------------------
    def start(self):
        self._tls_files()
        config = {'pebble': {
            'listenAddress': '127.0.0.1:%d' % self.port,
            'managementListenAddress': '127.0.0.1:%d' % self.management_port,
            'certificate': os.path.join(self.dir, 'localhost.pem'),
            'privateKey': os.path.join(self.dir, 'localhost.key'),
            'httpPort': self.http_port, 'tlsPort': free_port(),
            'ocspResponderURL': '', 'externalAccountBindingRequired': False,
            'certificateValidityPeriod': self.validity,
        }}
        with open(os.path.join(self.dir, 'pebble.json'), 'w') as handle:
            json.dump(config, handle)
        dns_log = open(os.path.join(self.dir, 'challtestsrv.log'), 'w')
        self.procs.append(subprocess.Popen(
            ['pebble-challtestsrv', '-dns01', '127.0.0.1:%d' % self.dns_port, '-http01', '', '-https01', '',
             '-tlsalpn01', '', '-management', '127.0.0.1:%d' % self.dns_management_port,
             '-defaultIPv4', '127.0.0.1', '-defaultIPv6', ''],
            stdout=dns_log, stderr=subprocess.STDOUT))
        env = dict(os.environ, PEBBLE_VA_NOSLEEP='1', PEBBLE_WFE_NONCEREJECT='0', PEBBLE_AUTHZREUSE='0')
        env.update(self.extra_env)
        log = open(self.log_path, 'w')
        self.procs.append(subprocess.Popen(
            ['pebble', '-config', os.path.join(self.dir, 'pebble.json'), '-dnsserver', '127.0.0.1:%d' % self.dns_port],
            stdout=log, stderr=subprocess.STDOUT, env=env))
        deadline = time.time() + START_TIMEOUT
        while True:
            try:
                self.get(self.directory)
                return self
            except OSError:
                if time.time() > deadline or any(p.poll() is not None for p in self.procs):
                    self.stop()
                    raise RuntimeError('pebble did not start: %s' % self.log())
                time.sleep(0.2)

    def stop(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.procs = []

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _tls_files(self):
        key, pem = os.path.join(self.dir, 'ca.key'), os.path.join(self.dir, 'ca.pem')
        _openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key,
                 '-out', pem, '-days', '30', '-subj', '/CN=fleet test ACME directory CA')
        csr = os.path.join(self.dir, 'localhost.csr')
        _openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout',
                 os.path.join(self.dir, 'localhost.key'), '-out', csr, '-subj', '/CN=localhost')
        ext = os.path.join(self.dir, 'san.ext')
        with open(ext, 'w') as handle:
            handle.write('subjectAltName=DNS:localhost,IP:127.0.0.1\n')
        _openssl('x509', '-req', '-in', csr, '-CA', pem, '-CAkey', key, '-CAcreateserial', '-days', '30',
                 '-out', os.path.join(self.dir, 'localhost.pem'), '-extfile', ext)

    # -- what tests use ---------------------------------------------------------------------------
    @property
    def directory(self):
        return 'https://127.0.0.1:%d/dir' % self.port

    @property
    def ca_bundle(self):
        """Trusts the directory's TLS certificate (give it as fleet_acme_ca_bundle)."""
        return os.path.join(self.dir, 'ca.pem')

    def get(self, url):
        context = ssl.create_default_context(cafile=self.ca_bundle)
        with urllib.request.urlopen(url, context=context, timeout=10) as response:
            return response.read().decode('utf-8')

    def roots(self):
        """The PEM of the root that issued certificates chain to (a file path, for ssl contexts)."""
        path = os.path.join(self.dir, 'issuer-root.pem')
        with open(path, 'w') as handle:
            handle.write(self.get('https://127.0.0.1:%d/roots/0' % self.management_port))
        return path

    def add_a(self, host, *addresses):
        """Resolve ``host`` to ``addresses`` (instead of 127.0.0.1)."""
        body = json.dumps({'host': host, 'addresses': list(addresses)}).encode()
        urllib.request.urlopen('http://127.0.0.1:%d/add-a' % self.dns_management_port, data=body, timeout=10).read()

    def log(self):
        with open(self.log_path) as handle:
            return handle.read()

    def orders(self):
        """How many orders pebble created (a request it refused, a bad nonce, is not one)."""
        return len(re.findall(r'Added order "', self.log()))
