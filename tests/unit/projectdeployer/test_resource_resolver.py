# SPDX-License-Identifier: GPL-3.0-or-later
"""The ResourceResolver (resolver/, what every Python app gets) agrees with the collection's own names and ports."""
import importlib.util
import os

import pytest

from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec import naming
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.ports import hashed_internal_port

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
PATH = os.path.join(REPO, 'resolver', 'projectdeployer_resolver', '__init__.py')


@pytest.fixture
def rr(monkeypatch, tmp_path):
    monkeypatch.setenv('FLEET_SECRETS_DIR', str(tmp_path))
    for key in list(os.environ):
        if key.startswith('FLEET_PORT_'):
            monkeypatch.delenv(key)
    spec = importlib.util.spec_from_file_location('fresh_resource_resolver', PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ResourceResolver


def test_ports_names_and_images_match_the_collection(rr):
    for service in ('postgres', 'redis', 'my-api'):
        assert rr.get_service_port('u1', 'my-app', 'prod', service) == hashed_internal_port('u1', 'my-app', 'prod', service)
    assert rr.get_service_host('u1', 'myapp', 'prod', 'postgres') == 'nginx' == naming.SIDECAR_ALIAS
    assert rr.get_db_name('u1', 'my-app', 'prod', 'postgres') == naming.db_name('u1', 'my-app', 'prod') == 'my_app_prod'
    assert rr.get_db_user('u1', 'my-app', 'postgres') == naming.db_user('u1', 'my-app') == 'u1_my_app'
    assert rr.get_db_user('u1', 'my-app', 'prod', 'postgres') == 'u1_my_app'  # the seed's example call
    assert rr.get_container_name('u1', 'myapp', 'prod', 'api') == naming.container_name('u1', 'myapp', 'prod', 'api')
    expected = naming.image_name('me', 'u1', 'myapp', 'prod', 'api', '2')
    assert rr.get_image_name('me', 'u1', 'myapp', 'prod', 'api', '2') == expected == 'me/u1_myapp_prod_api:2'
    assert rr.get_image_name('', 'u1', 'myapp', 'prod', 'api') == 'u1_myapp_prod_api:latest'


def test_port_override_from_the_deploy(rr, monkeypatch):
    monkeypatch.setenv('FLEET_PORT_MY_API', '5999')
    assert rr.get_service_port('u1', 'myapp', 'prod', 'my-api') == 5999


def test_passwords_and_connection_strings(rr, tmp_path):
    assert rr.get_service_password('u1', 'myapp', 'prod', 'postgres') is None
    (tmp_path / 'postgres_password').write_text('p@ss/word\n')
    (tmp_path / 'redis_password').write_text('r3dis\n')
    port = hashed_internal_port('u1', 'myapp', 'prod', 'postgres')
    assert rr.get_postgres_connection_string('u1', 'myapp', 'prod') == \
        'postgresql://u1_myapp:p%%40ss%%2Fword@nginx:%d/myapp_prod' % port
    rport = hashed_internal_port('u1', 'myapp', 'prod', 'redis')
    assert rr.get_redis_connection_string('u1', 'myapp', 'prod', db=2) == 'redis://:r3dis@nginx:%d/2' % rport


def test_the_resolver_needs_nothing_but_the_standard_library():
    with open(PATH) as handle:
        imports = [line.split()[1] for line in handle if line.startswith(('import ', 'from '))]
    assert set(i.split('.')[0] for i in imports) <= {'hashlib', 'os', 'urllib'}, imports
