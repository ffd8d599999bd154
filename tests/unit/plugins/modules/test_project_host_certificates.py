# SPDX-License-Identifier: GPL-3.0-or-later
"""project_host writes the HTTPS domains' certificates 0600 in a 0700 tls/ directory, only when they differ."""
import os
import stat

import pytest

from ansible_collections.projectdeployer.fleet.plugins.filter.tls_domains import tls_domains
from ansible_collections.projectdeployer.fleet.plugins.modules.project_host import prepare

PEM = '-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n-----BEGIN CERTIFICATE-----\ny\n-----END CERTIFICATE-----\n'


def params(path, certificates):
    return dict(user='u1', project='app', env='prod', path=path, databases={}, passwords={}, env_files={},
                certificates=certificates, networks=[], address='127.0.0.1', bridge_interface='docker0',
                host_ports={}, port_state_file=None, firewall=None, docker_host=None)


def test_certificates_are_written_once_root_only(tmp_path):
    path = str(tmp_path / 'u1' / 'app' / 'prod')
    changed, result = prepare(params(path, {'api.example.com': PEM}), False)
    assert changed and 'tls/api.example.com.pem' in result['written']
    pem = os.path.join(path, 'tls', 'api.example.com.pem')
    assert open(pem).read() == PEM
    assert stat.S_IMODE(os.stat(pem).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(pem)).st_mode) == 0o700
    changed, result = prepare(params(path, {'api.example.com': PEM}), False)
    assert not changed and result['written'] == []


def test_a_name_that_is_not_a_domain_is_refused(tmp_path):
    with pytest.raises(ValueError, match='not a domain'):
        prepare(params(str(tmp_path), {'../etc/passwd': PEM}), False)


def test_tls_domains_keeps_the_https_modes_of_the_selected_services():
    rows = [{'service': 'api', 'domain': 'b.example.com', 'ssl_mode': 'letsencrypt'},
            {'service': 'web', 'domain': 'a.example.com', 'ssl_mode': 'self-signed'},
            {'service': 'cf', 'domain': 'c.example.com', 'ssl_mode': 'cloudflare'},
            {'service': 'db', 'domain': None, 'ssl_mode': None}]
    assert tls_domains(rows) == [{'domain': 'a.example.com', 'mode': 'self-signed'},
                                 {'domain': 'b.example.com', 'mode': 'letsencrypt'}]
    assert tls_domains(rows, ['api']) == [{'domain': 'b.example.com', 'mode': 'letsencrypt'}]
