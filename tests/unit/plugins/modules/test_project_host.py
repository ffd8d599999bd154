# SPDX-License-Identifier: GPL-3.0-or-later
"""project_host writes the HTTPS domains' certificates 0600 in a 0700 tls/ directory, only when they differ, says
which of the images a deploy needs the server's engine lacks, and looks at what a deploy would change with the
host ports it reserved."""
import os
import stat

import pytest

from ansible_collections.projectdeployer.fleet.plugins.filter.tls_domains import tls_domains
from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.docker import NotFound, missing_images
from ansible_collections.projectdeployer.fleet.plugins.modules import project_host
from ansible_collections.projectdeployer.fleet.plugins.modules.project_host import prepare

PEM = '-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n-----BEGIN CERTIFICATE-----\ny\n-----END CERTIFICATE-----\n'


def params(path, certificates):
    return dict(user='u1', project='app', env='prod', path=path, databases={}, passwords={}, env_files={},
                certificates=certificates, networks=[], address='127.0.0.1', bridge_interface='docker0',
                host_ports={}, port_state_file=None, firewall=None, docker_host=None, images=[], look=None)


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


class FakeApi:
    def __init__(self, present):
        self.present, self.asked = set(present), []

    def inspect_image(self, image_id):
        self.asked.append(image_id)
        if image_id not in self.present:
            raise NotFound('no such image: %s' % image_id)
        return {'Id': image_id}


class FakeClient:
    def __init__(self, present):
        self.api = FakeApi(present)


def test_missing_images_lists_what_the_engine_lacks_in_order():
    client = FakeClient(['sha256:b'])
    assert missing_images(client, ['sha256:c', 'sha256:b', 'sha256:a']) == ['sha256:c', 'sha256:a']
    assert client.api.asked == ['sha256:c', 'sha256:b', 'sha256:a']
    assert missing_images(client, []) == []


def test_prepare_says_which_images_the_server_lacks(tmp_path, monkeypatch):
    client = FakeClient(['sha256:b'])
    monkeypatch.setattr(project_host, 'get_client', lambda docker_host: client)
    changed, result = prepare(dict(params(str(tmp_path / 'p'), {}), images=['sha256:a', 'sha256:b']), False)
    assert result['images_missing'] == ['sha256:a']
    # nothing asked of the engine without images
    client.api.asked = []
    changed, result = prepare(dict(params(str(tmp_path / 'p'), {}), images=[]), False)
    assert not changed and result['images_missing'] == [] and client.api.asked == []


def test_the_look_gets_the_reserved_host_ports_and_address(tmp_path, monkeypatch):
    """A server alone in the play: the look runs after the reservations, each service with this run's ports."""
    seen = []
    monkeypatch.setattr(project_host, 'get_client', lambda docker_host: FakeClient([]))
    monkeypatch.setattr(project_host.deploy_look, 'look', lambda module, client, top: seen.append(top) or {
        'changes': {}, 'services': {}})
    look = {'services': [{'service': 'api', 'state': 'started', 'image': 'api:1', 'bind_address': ''},
                         {'service': 'report', 'state': 'created', 'image': 'report:1', 'bind_address': ''}],
            'state_dir': str(tmp_path / 'state')}
    given = dict(params(str(tmp_path / 'p'), {}), address='127.0.0.1', host_ports={'api': 8000},
                 port_state_file=str(tmp_path / 'ports.json'), look=look)
    changed, result = prepare(given, False)
    api = result['host_ports']['api']
    assert result['look'] == {'changes': {}, 'services': {}}
    (top,) = seen
    assert top['services'] == [
        {'service': 'api', 'state': 'started', 'image': 'api:1', 'bind_address': '127.0.0.1',
         'host_port': api['host_port'], 'secondary_port': api['secondary_port']},
        {'service': 'report', 'state': 'created', 'image': 'report:1', 'bind_address': '127.0.0.1'}]
    assert (top['user'], top['project'], top['env'], top['cron_jobs'], top['prune']) == ('u1', 'app', 'prod', [], None)


def test_the_firewall_look_takes_the_reserved_ports_for_itself_and_its_peers(tmp_path, monkeypatch):
    """A server with others in the play: its firewall is looked at with the ports it reserved, and so are the
    peers' whose ports are not given (every server reserves the same ones unless one was taken there)."""
    seen = []
    monkeypatch.setattr(project_host, 'get_client', lambda docker_host: FakeClient([]))
    monkeypatch.setattr(project_host.deploy_look, 'look', lambda module, client, top: seen.append(top) or {
        'changes': {}, 'services': {}, 'firewall_current': True})
    look = {'services': [], 'state_dir': str(tmp_path / 'state'),
            'firewall': {'networks': ['u1_app_prod_net'],
                         'peers': [{'address': '10.0.0.6'}, {'address': '10.0.0.7', 'ports': [9002, 9001]}]}}
    given = dict(params(str(tmp_path / 'p'), {}), address='127.0.0.1', host_ports={'api': 8000},
                 port_state_file=str(tmp_path / 'ports.json'), look=look)
    changed, result = prepare(given, False, module='the module')
    api = result['host_ports']['api']
    mine = sorted([api['host_port'], api['secondary_port']])
    (top,) = seen
    assert top['firewall']['ports'] == mine and top['firewall']['networks'] == ['u1_app_prod_net']
    assert top['firewall']['peers'] == [{'address': '10.0.0.6', 'ports': mine}, {'address': '10.0.0.7', 'ports': [9001, 9002]}]
    assert result['look']['firewall_peers'] == top['firewall']['peers'] and result['look']['firewall_current']


def test_the_look_refuses_a_firewall_it_makes_and_names_a_missing_key(tmp_path, monkeypatch):
    monkeypatch.setattr(project_host, 'get_client', lambda docker_host: FakeClient([]))
    base = params(str(tmp_path / 'p'), {})
    with pytest.raises(ValueError, match='look: firewall is not looked at where this run makes it; fix: give one of'):
        prepare(dict(base, firewall={'networks': [], 'peers': []},
                     look={'services': [], 'state_dir': '/s', 'firewall': {'networks': []}}), False)
    with pytest.raises(ValueError, match='look: firewall: give networks and peers'):
        prepare(dict(base, look={'services': [], 'state_dir': '/s', 'firewall': {'networks': [], 'peers': ['x']}}),
                False)
    with pytest.raises(ValueError, match='look: .*state_dir'):
        prepare(dict(base, look={'services': []}), False)
