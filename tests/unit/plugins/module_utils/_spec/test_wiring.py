# SPDX-License-Identifier: GPL-3.0-or-later
import os

import pytest
import yaml

from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.schema import validate_project
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec import wiring
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.wiring import container_definition

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))))
SECRETS = '/local/u1/myapp/prod/secrets'
PORTS = {'postgres': 5563, 'redis': 5511, 'api': 5906, 'worker': 5574, 'report': 5610}


def _spec(**changes):
    with open(os.path.join(REPO, 'examples', 'myapp.yml')) as handle:
        raw = yaml.safe_load(handle)
    raw['services']['api'].update(changes)
    return validate_project(raw, env='prod')


def test_app_reaches_dependencies_through_the_sidecar_without_secret_values():
    api = container_definition(_spec(), 'api', PORTS, SECRETS)
    env = api['env_vars']
    assert env['POSTGRES_HOST'] == 'nginx' and env['POSTGRES_PORT'] == '5563'
    assert env['REDIS_HOST'] == 'nginx' and env['REDIS_PORT'] == '5511'
    assert env['DATABASE_URL'] == 'postgresql://u1_myapp@nginx:5563/myapp_prod'
    assert env['REDIS_URL'] == 'redis://nginx:5511/0'
    assert env['POSTGRES_PASSWORD_FILE'] == '/run/secrets/postgres_password'
    assert env['PGPASSFILE'] == '/run/secrets/postgres_pgpass'
    assert {'source': SECRETS + '/postgres_password', 'target': '/run/secrets/postgres_password', 'owner': 1000} in api['secrets']
    assert {'source': SECRETS + '/redis_password', 'target': '/run/secrets/redis_password', 'owner': 1000} in api['secrets']
    assert api['health'] == {'type': 'http', 'path': '/health', 'host': 'api.myapp.localhost', 'retries': 6,
                             'interval': 10, 'start_period': 0, 'timeout': 5}
    assert api['image'] == 'u1_myapp_prod_api:1' and api['data_path'] is None
    assert api['network'] == 'u1_myapp_prod_net'


def test_databases_are_stateful_with_file_secrets():
    spec = _spec()
    pg = container_definition(spec, 'postgres', PORTS, SECRETS, {'postgres': 'fleet-world/postgres:{version}'})
    assert pg['image'] == 'fleet-world/postgres:15' and pg['data_path'] == '/var/lib/postgresql/data'
    assert pg['env_vars']['POSTGRES_PASSWORD_FILE'] == '/run/secrets/postgres_password'
    assert pg['env_vars']['POSTGRES_USER'] == 'u1_myapp' and pg['env_vars']['POSTGRES_DB'] == 'myapp_prod'
    assert pg['health']['type'] == 'postgres'
    assert pg['shm_size'] == '256m'
    redis = container_definition(spec, 'redis', PORTS, SECRETS)
    assert redis['command'] == 'redis-server /run/secrets/redis.conf --appendonly yes'
    assert {'source': SECRETS + '/redis_redis.conf', 'target': '/run/secrets/redis.conf', 'owner': 999,
            'in_place': True} in redis['secrets']
    # a database's own password is rotated in place, never by recreating the database
    assert {'source': SECRETS + '/postgres_password', 'target': '/run/secrets/postgres_password',
            'in_place': True} in pg['secrets']
    assert redis['health']['type'] == 'redis' and redis['data_path'] == '/data'


def test_worker_and_job():
    spec = _spec()
    worker = container_definition(spec, 'worker', PORTS, SECRETS)
    assert worker['health']['type'] == 'running' and worker['container_port'] is None
    assert 'POSTGRES_HOST' not in worker['env_vars'] and worker['env_vars']['REDIS_HOST'] == 'nginx'
    job = container_definition(spec, 'report', PORTS, SECRETS)
    assert job['scheduled'] and job['schedule'] == '*/5 * * * *'
    assert job['restart'] is False and worker['restart'] is True


def test_user_volumes_stay_in_the_tenant_namespace():
    api = container_definition(_spec(volumes={'uploads': '/app/uploads', 'files/static': '/app/static'}), 'api', PORTS, SECRETS)
    assert api['volumes'] == ['/local/u1/myapp/prod/files/static:/app/static', 'u1_myapp_prod_uploads:/app/uploads']


def test_rotated_login_role_reaches_the_clients_not_the_database():
    spec = _spec()
    logins = {'postgres': 'u1_myapp_alt'}
    api = container_definition(spec, 'api', PORTS, SECRETS, logins=logins)
    assert api['env_vars']['POSTGRES_USER'] == 'u1_myapp_alt'
    assert api['env_vars']['DATABASE_URL'].startswith('postgresql://u1_myapp_alt@nginx:')
    assert container_definition(spec, 'postgres', PORTS, SECRETS, logins=logins)['env_vars']['POSTGRES_USER'] == 'u1_myapp'
    assert container_definition(spec, 'api', PORTS, SECRETS, logins={'postgres': ''})['env_vars']['POSTGRES_USER'] == 'u1_myapp'


# ---------------------------------------------------------------- opensearch

@pytest.mark.parametrize('limit_mb, opts', [
    (None, '-Xms512m -Xmx512m'), (1024, '-Xms512m -Xmx512m'), (2048, '-Xms1024m -Xmx1024m'),
    (100, '-Xms128m -Xmx128m'), (128 * 1024, '-Xms31744m -Xmx31744m'),
])
def test_the_opensearch_heap_is_half_the_memory_within_bounds(limit_mb, opts):
    assert wiring.heap_opts(limit_mb) == opts


def test_an_opensearch_service_runs_one_node_with_a_snapshot_path_and_its_heap():
    env = wiring.opensearch_env({'type': 'opensearch', 'mem_limit': '1g'})
    assert env['discovery.type'] == 'single-node' and env['bootstrap.memory_lock'] == 'false'
    assert env['path.repo'] == '/usr/share/opensearch/snapshots'
    assert env['OPENSEARCH_JAVA_OPTS'] == '-Xms512m -Xmx512m'
    assert env['DISABLE_SECURITY_PLUGIN'] == 'true'


def test_opensearch_server_settings_are_settings_in_its_environment_and_win():
    env = wiring.opensearch_env({'type': 'opensearch', 'server_settings': {
        'cluster.name': 'shop-search', 'action.auto_create_index': False, 'discovery.type': 'single-node'}})
    assert env['cluster.name'] == 'shop-search' and env['action.auto_create_index'] == 'false'
    assert env['discovery.type'] == 'single-node'


def test_opensearch_server_settings_pass_the_spec():
    project = validate_project({'fleet_user': 'u1', 'fleet_project': 'p', 'services': {
        'search': {'type': 'opensearch', 'server_settings': {'cluster.name': 'c1', 'http.max_content_length': '200mb'}}}})
    definition = container_definition(project, 'search', {'search': 9400}, '/local/u1/p/prod/secrets')
    assert definition['env_vars']['cluster.name'] == 'c1'
    assert definition['env_vars']['http.max_content_length'] == '200mb'
