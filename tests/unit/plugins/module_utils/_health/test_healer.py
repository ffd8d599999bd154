# SPDX-License-Identifier: GPL-3.0-or-later
"""The heal round's flow with a stubbed engine (the real one: tests/integration/test_health.py)."""
import json
import os

from ansible_collections.projectdeployer.fleet.plugins.module_utils._common import docker as fleet_docker
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy import deploy_lock
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.active_slot import write_active
from ansible_collections.projectdeployer.fleet.plugins.module_utils._health import definitions, healer, store
from ansible_collections.projectdeployer.fleet.plugins.module_utils._health.tenant import Tenant, tenants

OPTIONS = {'image': 'img', 'env_vars': {}, 'env_file': None, 'health': {'type': 'running'}, 'host_port': 8001, 'secondary_port': 18001,
           'container_port': 80, 'bind_address': '127.0.0.1', 'stop_timeout': 10}


class FakeContainer(object):
    def __init__(self, name, status='running', config_hash='h1', restarts=0):
        self.name, self.status, self.calls = name, status, []
        self.labels = {'fleet.config_hash': config_hash}
        self.attrs = {'RestartCount': restarts, 'State': {}}

    def start(self):
        self.calls.append('start')
        self.status = 'running'

    def restart(self, timeout=10):
        self.calls.append('restart')

    def stop(self, timeout=10):
        self.calls.append('stop')
        self.status = 'exited'


class FakeClient(object):
    def __init__(self, containers):
        self.found = dict((c.name, c) for c in containers)

    class _Containers(object):
        def __init__(self, outer):
            self.outer = outer

        def get(self, name):
            if name in self.outer.found:
                return self.outer.found[name]
            raise fleet_docker.NotFound('no such container')

    @property
    def containers(self):
        return self._Containers(self)


def tenant_with_web(tmp_path):
    root = str(tmp_path)
    t = Tenant(root, 'u1', 'app', 'prod')
    os.makedirs(os.path.join(t.project_dir, 'config'))
    with open(os.path.join(t.project_dir, 'config', 'health.json'), 'w') as handle:
        json.dump({'server': 's1', 'address': '10.0.0.2', 'heal': {'backoff_start': 1}}, handle)
    write_active(t.state_dir, 'web', {'slot': 'primary', 'config_hash': 'h1', 'version': '1'})
    definitions.remember(t.project_dir, 'web', 'h1', dict(OPTIONS, state='started', docker_host='x'))
    return t


def test_tenants_are_the_envs_with_a_health_config(tmp_path):
    tenant_with_web(tmp_path)
    os.makedirs(str(tmp_path / 'u2' / 'app' / 'prod' / 'config'))
    assert [t.name for t in tenants(str(tmp_path))] == ['u1/app/prod']
    kept = definitions.read(tenants(str(tmp_path))[0].project_dir, 'web')
    assert set(kept) == {'h1'} and 'state' not in kept['h1'] and 'docker_host' not in kept['h1']


def test_a_killed_container_is_started_and_recorded(tmp_path):
    tenant = tenant_with_web(tmp_path)
    web = FakeContainer('u1_app_prod_web', status='exited')
    done = healer.heal_round(FakeClient([web]), tenant, server='s1', now=100)
    assert [(d['service'], d['action'], d['ok']) for d in done] == [('web', 'start', True)]
    assert web.calls == ['start']
    assert store.read_lines(tenant.project_dir, 'actions.jsonl')[0]['reason'] == 'its container is exited'
    assert healer.heal_round(FakeClient([web]), tenant, server='s1', now=101) == []


def test_a_removed_container_is_recreated_from_the_definition(tmp_path, monkeypatch):
    tenant = tenant_with_web(tmp_path)
    started = []
    monkeypatch.setattr(healer.ToggleDeployer, 'start', lambda self, slot, chash: started.append(
        (self.p['service'], self.p['image'], slot, chash)))
    done = healer.heal_round(FakeClient([]), tenant, now=100)
    assert done[0]['action'] == 'recreate' and started == [('web', 'img', 'primary', 'h1')]


def test_over_the_budget_it_stops_and_opens_one_incident(tmp_path):
    tenant = tenant_with_web(tmp_path)
    web = FakeContainer('u1_app_prod_web', status='exited')
    now = 0
    for dummy in range(5):
        healer.heal_round(FakeClient([web]), tenant, now=now)
        web.status = 'exited'
        now += 20
    done = healer.heal_round(FakeClient([web]), tenant, now=now)
    assert done[0]['action'] == 'fail'
    found = store.load(tenant.project_dir, 'incidents.json')
    assert list(found) == ['service:web'] and 'stopped restarting it' in found['service:web']['summary']
    assert healer.heal_round(FakeClient([web]), tenant, now=now + 5) == []   # failed: left alone, no new entry


def test_a_container_of_another_configuration_or_a_held_lock_is_left_alone(tmp_path):
    tenant = tenant_with_web(tmp_path)
    other = FakeContainer('u1_app_prod_web', status='exited', config_hash='h2')
    assert healer.heal_round(FakeClient([other]), tenant, now=1) == [] and other.calls == []
    with deploy_lock.held(tenant.state_dir):
        assert healer.heal_round(FakeClient([]), tenant, now=2) is None


def test_a_backoff_tells_the_caller_when_to_come_back(tmp_path):
    tenant = tenant_with_web(tmp_path)
    web = FakeContainer('u1_app_prod_web', status='exited')
    healer.heal_round(FakeClient([web]), tenant, now=100)        # restarted at once; the next one after 1 s
    web.status = 'exited'
    waits = []
    assert healer.heal_round(FakeClient([web]), tenant, now=100.5, waits=waits) == []
    assert waits == [101]
