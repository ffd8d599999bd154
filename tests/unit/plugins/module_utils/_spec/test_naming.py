# SPDX-License-Identifier: GPL-3.0-or-later
import pytest

from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec import naming as n


def test_seed_container_names():
    assert n.container_name('u1', 'myapp', 'prod', 'api') == 'u1_myapp_prod_api'
    assert n.container_name('u1', 'myapp', 'prod', 'api', 'secondary') == 'u1_myapp_prod_api_secondary'
    assert n.container_name('u2', 'myapp', 'prod', 'api') == 'u2_myapp_prod_api'


def test_seed_volume_names():
    assert n.volume_name('u1', 'myapp', 'prod', 'postgres') == 'u1_myapp_prod_data_postgres'
    assert n.volume_name('u1', 'myapp', 'prod', 'api', 'logs') == 'u1_myapp_prod_logs_api'
    with pytest.raises(ValueError):
        n.volume_name('u1', 'myapp', 'prod', 'api', 'cache')


def test_bad_slot_refused():
    with pytest.raises(ValueError, match='slot'):
        n.container_name('u1', 'myapp', 'prod', 'api', 'blue')
    assert n.other_slot('primary') == 'secondary'
    assert n.other_slot('secondary') == 'primary'


def test_network_and_sidecar_are_per_tenant():
    assert n.network_name('u1', 'myapp', 'prod') == 'u1_myapp_prod_net'
    assert n.sidecar_name('u1', 'myapp', 'prod') == 'u1_myapp_prod_nginx'
    assert n.network_name('u1', 'myapp', 'prod') != n.network_name('u2', 'myapp', 'prod')
    assert n.SIDECAR_ALIAS == 'nginx'


def test_seed_image_names():
    assert n.image_name('myusername', 'u1', 'myapp', 'prod', 'api', '1.0.0') == 'myusername/u1_myapp_prod_api:1.0.0'
    assert n.image_name('127.0.0.1:5000/team/', 'u1', 'myapp', 'prod', 'api') == '127.0.0.1:5000/team/u1_myapp_prod_api:latest'
    assert n.image_name(None, 'u1', 'myapp', 'prod', 'api', '2') == 'u1_myapp_prod_api:2'


def test_seed_directory_layout():
    dirs = n.project_dirs(None, 'u1', 'myapp', 'prod')
    assert n.project_dir(None, 'u1', 'myapp', 'prod') == '/local/u1/myapp/prod'
    assert sorted(dirs) == sorted(['config', 'secrets', 'files', 'data', 'logs', 'backups', 'monitoring'])
    assert dirs['secrets'] == '/local/u1/myapp/prod/secrets'
    assert n.project_dir('/srv/fleet', 'u2', 'myapp', 'prod') == '/srv/fleet/u2/myapp/prod'
    assert n.secret_path('/x', 'u1', 'myapp', 'prod', 'postgres') == '/x/u1/myapp/prod/secrets/postgres_password'


def test_seed_temp_build_layout():
    paths = n.build_paths('u1', 'myapp', 'prod', 'api', git_url='https://github.com/user/api.git')
    assert paths['dockerfile'] == '/tmp/deployment_infra/dockerfiles/u1/Dockerfile.myapp-prod-api.tmp'
    assert paths['build_context'] == '/tmp/deployment_infra/build_contexts/u1/myapp-prod-api'
    assert paths['git_repo'].startswith('/tmp/deployment_infra/git_repos/u1/myapp-api-')
    assert len(paths['git_repo'].rsplit('-', 1)[1]) == 12
    other = n.build_paths('u2', 'myapp', 'prod', 'api', build_root='/var/tmp/b')
    assert other['dockerfile'].startswith('/var/tmp/b/dockerfiles/u2/')


def test_droplet_names_have_no_underscores():
    name = n.droplet_name('u1', 'my-app', 'prod', 'api', 'lon1', 2)
    assert name == 'u1-my-app-prod-api-lon1-2'
    assert '_' not in name
    assert 'fleet-service:u1_myapp_prod_api' in n.droplet_tags('u1', 'myapp', 'prod', 'api')


def test_labels():
    labels = n.container_labels('u1', 'myapp', 'prod', 'api', 'secondary', 3, 'abc', '2026-01-01T00:00:00Z')
    assert labels == {
        'fleet.user': 'u1', 'fleet.project': 'myapp', 'fleet.env': 'prod', 'fleet.service': 'api',
        'fleet.slot': 'secondary', 'fleet.version': '3', 'fleet.config_hash': 'abc',
        'fleet.deployed_at': '2026-01-01T00:00:00Z'}


def test_db_names_are_sql_identifiers():
    assert n.db_name('u1', 'my-app', 'prod') == 'my_app_prod'
    assert n.db_user('u1', 'my-app') == 'u1_my_app'


@pytest.mark.parametrize('kind,value', [
    ('user', 'U1'), ('user', '1u'), ('user', 'u_1'), ('user', 'a' * 17), ('user', ''), ('user', 5),
    ('env', 'pr-od'), ('env', 'Prod'), ('project', 'my_app'), ('project', '-app'), ('project', 'a' * 32),
    ('service', 'api.v2'), ('service', '../etc'), ('service', 'nginx'), ('service', 'edge'), ('service', 'agent'),
])
def test_bad_ids_refused(kind, value):
    err = n.id_error(kind, value)
    assert err and kind in err and '\n' not in err
    with pytest.raises(ValueError):
        n.check_ids(**{kind: value})


@pytest.mark.parametrize('kind,value', [
    ('user', 'u1'), ('user', 'a' * 16), ('env', 'prod'), ('project', 'my-app'), ('project', 'a' * 31),
    ('service', 'api-v2'),
])
def test_good_ids_accepted(kind, value):
    assert n.id_error(kind, value) is None
