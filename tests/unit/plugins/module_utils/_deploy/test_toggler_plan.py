# SPDX-License-Identifier: GPL-3.0-or-later
"""What deploy_changes says of a service (ToggleDeployer.plan), and a group's services side by side (run_many)."""
import threading

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.docker import NotFound
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy import toggler
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.active_slot import write_active


class Image(object):
    id = 'sha256:img'


class Container(object):
    def __init__(self, name, labels, status='running'):
        self.name, self.labels, self.status = name, labels, status
        self.attrs = {'Created': '2026-12-06T00:00:00Z', 'Image': 'sha256:img', 'State': {'Running': status == 'running'}}
        self.id = 'id-' + name


class Containers(object):
    def __init__(self, containers):
        self.found = dict((c.name, c) for c in containers)

    def get(self, name):
        if name not in self.found:
            raise NotFound('no such container')
        return self.found[name]


class Images(object):
    def get(self, name):
        return Image()


class Client(object):
    def __init__(self, containers):
        self.containers, self.images = Containers(containers), Images()


def params(tmp_path, **given):
    base = {'user': 'u1', 'project': 'myapp', 'env': 'prod', 'service': 'api', 'state': 'started',
            'image': 'u1_myapp_prod_api:2', 'container_port': 8000, 'host_port': 8357, 'secondary_port': 18357,
            'state_dir': str(tmp_path), 'version': '2'}
    base.update(given)
    return ArgumentSpecValidator(toggler.TOGGLE_OPTIONS).validate(base).validated_parameters


def wanted_hash(p):
    return toggler.ToggleDeployer(p, Client([]), check_mode=True).wanted_hash()


def test_nothing_there_is_a_change(tmp_path):
    assert toggler.ToggleDeployer(params(tmp_path), Client([]), True).plan() == 'not running'


def test_the_recorded_running_wanted_container_alone_is_no_change(tmp_path):
    p = params(tmp_path)
    chash = wanted_hash(p)
    api = Container('u1_myapp_prod_api', {'fleet.config_hash': chash, 'fleet.version': '2'})
    write_active(str(tmp_path), 'api', {'slot': 'primary', 'config_hash': chash, 'version': '2'})
    assert toggler.ToggleDeployer(p, Client([api]), True).plan() == ''


def test_a_new_configuration_an_old_slot_or_no_record_is_a_change(tmp_path):
    p = params(tmp_path)
    chash = wanted_hash(p)
    old = Container('u1_myapp_prod_api', {'fleet.config_hash': 'other', 'fleet.version': '1'})
    assert toggler.ToggleDeployer(p, Client([old]), True).plan() == 'a new image or configuration'
    api = Container('u1_myapp_prod_api', {'fleet.config_hash': chash, 'fleet.version': '2'})
    assert 'not recorded' in toggler.ToggleDeployer(p, Client([api]), True).plan()
    write_active(str(tmp_path), 'api', {'slot': 'primary', 'config_hash': chash, 'version': '2'})
    stopped = Container('u1_myapp_prod_api_secondary', {'fleet.config_hash': 'x'}, status='exited')
    assert 'other slot' in toggler.ToggleDeployer(p, Client([api, stopped]), True).plan()


def test_a_scheduled_service_compares_its_created_container(tmp_path):
    p = params(tmp_path, service='report', state='created', container_port=None, host_port=None, secondary_port=None)
    chash = wanted_hash(p)
    assert toggler.ToggleDeployer(p, Client([]), True).plan() == 'no container yet'
    report = Container('u1_myapp_prod_report', {'fleet.config_hash': chash}, status='created')
    assert toggler.ToggleDeployer(p, Client([report]), True).plan() == ''


def test_services_run_side_by_side_and_a_failure_is_a_result(tmp_path, monkeypatch):
    inside = []
    both = threading.Barrier(2, timeout=5)

    def started(self):
        inside.append(self.p['service'])
        both.wait()  # both services are in at once, or this times out
        if self.p['service'] == 'worker':
            raise toggler.DeployError('worker: health check failed', error_lines=['boom'])
        return {'changed': True, 'action': 'started', 'settled': False}

    monkeypatch.setattr(toggler.ToggleDeployer, 'started', started)
    results = toggler.run_many([params(tmp_path), params(tmp_path, service='worker', container_port=None)],
                               lambda: Client([]), False)
    assert sorted(inside) == ['api', 'worker']
    assert results[0] == {'item': 'api', 'failed': False, 'changed': True, 'action': 'started', 'settled': False}
    assert results[1]['item'] == 'worker' and results[1]['failed'] is True
    assert results[1]['msg'] == 'worker: health check failed' and results[1]['error_lines'] == ['boom']
    assert results[1]['action'] == 'failed' and results[1]['settled'] is False


def test_a_stateless_service_without_its_ports_is_refused_as_a_result(tmp_path):
    result = toggler.run_one(params(tmp_path, secondary_port=None), lambda: Client([]), False)
    assert result['failed'] and 'needs host_port and secondary_port' in result['msg']
