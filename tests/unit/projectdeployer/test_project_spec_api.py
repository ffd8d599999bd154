# SPDX-License-Identifier: GPL-3.0-or-later
"""The Python API's spec methods: the file they write is the spec a playbook user writes, checked by the
collection's own validator before it is saved (nothing saved on a refusal)."""
import os
import stat

import pytest
import yaml

from projectdeployer import FleetError, ProjectDeployer
from projectdeployer.errors import EXIT_USAGE


@pytest.fixture
def root(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return str(tmp_path / 'local')


def saved(project):
    with open(project.spec_path) as handle:
        return yaml.safe_load(handle)


def test_quick_start_writes_the_spec_a_playbook_user_writes(root):
    project = ProjectDeployer.create('u1', 'myapp', docker_hub_user='myusername', root=root)
    assert project.spec_path == os.path.join(root, 'u1', 'myapp', 'project.yml')
    chained = project.add_postgres().add_redis().add_python_service(
        'api', command='python -u app.py', port=8000, depends_on=['postgres', 'redis'], build_context='apps/api',
        domain='api.example.com', servers_count=3)
    assert chained is project
    assert saved(project) == {
        'fleet_user': 'u1', 'fleet_project': 'myapp', 'docker_hub_user': 'myusername', 'fleet_version': 'latest',
        'services': {
            'postgres': {'type': 'postgres'},
            'redis': {'type': 'redis'},
            'api': {'type': 'python', 'command': 'python -u app.py', 'port': 8000, 'depends_on': ['postgres', 'redis'],
                    'build_context': os.path.abspath('apps/api'), 'servers_count': 3, 'domain': 'api.example.com'}}}
    assert stat.S_IMODE(os.stat(project.spec_path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(project.spec_path)).st_mode) == 0o700
    again = ProjectDeployer('u1', 'myapp', root=root)           # loaded back: the same spec
    assert again.spec == project.spec


def test_a_bad_key_is_refused_with_the_validators_line_and_nothing_saved(root):
    project = ProjectDeployer.create('u1', 'myapp', root=root).add_postgres()
    before = open(project.spec_path).read()
    with pytest.raises(FleetError) as caught:
        project.add_python_service('api', command='python app.py', port=70000)
    assert caught.value.exit_code == EXIT_USAGE and caught.value.key == 'services.api.port'
    assert 'services.api.port' in str(caught.value) and 'fix:' in str(caught.value)
    with pytest.raises(FleetError) as caught:
        project.add_service('web', image='nginx:1.25', domian='x.example.com')
    assert 'domian' in str(caught.value) and 'domain' in str(caught.value)     # did you mean
    with pytest.raises(FleetError) as caught:
        project.add_python_service('api', command='python app.py', depends_on=['mysql'], build_context='api')
    assert 'mysql' in str(caught.value)
    assert open(project.spec_path).read() == before
    assert list(project.spec['services']) == ['postgres']


def test_update_and_delete_service(root):
    project = ProjectDeployer.create('u1', 'myapp', root=root).add_redis().add_python_service(
        'worker', command='python worker.py', depends_on=['redis'], build_context='w')
    project.update_service('worker', servers_count=2, command='python -u worker.py', depends_on=None)
    wanted = {'type': 'python', 'command': 'python -u worker.py', 'build_context': os.path.abspath('w'), 'servers_count': 2}
    assert saved(project)['services']['worker'] == wanted
    with pytest.raises(FleetError) as caught:
        project.delete_service('redis2')
    assert 'redis' in str(caught.value)
    project.delete_service('worker')
    assert list(saved(project)['services']) == ['redis']
    with pytest.raises(FleetError):
        project.update_service('worker', servers_count=1)


def test_create_refuses_an_existing_project_and_bad_ids(root):
    ProjectDeployer.create('u1', 'myapp', root=root)
    with pytest.raises(FleetError) as caught:
        ProjectDeployer.create('u1', 'myapp', root=root)
    assert 'exists already' in str(caught.value)
    with pytest.raises(FleetError) as caught:
        ProjectDeployer.create('U 1', 'myapp', root=root)
    assert caught.value.key == 'fleet_user' and not os.path.exists(os.path.join(root, 'U 1'))
    with pytest.raises(FleetError) as caught:
        ProjectDeployer('u2', 'myapp', root=root)
    assert 'no such project spec' in str(caught.value)


def test_a_remote_default_server_gets_an_inventory_beside_the_spec(root):
    project = ProjectDeployer.create('u1', 'myapp', default_server_ip='203.0.113.7', root=root)
    beside = os.path.join(os.path.dirname(project.spec_path), 'inventory.yml')
    assert project.inventory == beside
    with open(beside) as handle:
        assert yaml.safe_load(handle)['fleet_servers']['hosts'] == {'203.0.113.7': {'ansible_user': 'root'}}


def test_an_operation_without_services_is_refused_before_any_run(root):
    project = ProjectDeployer.create('u1', 'myapp', root=root)
    with pytest.raises(FleetError) as caught:
        project.deploy(env='prod')
    assert 'no service yet' in str(caught.value) and caught.value.exit_code == EXIT_USAGE
