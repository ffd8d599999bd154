# SPDX-License-Identifier: GPL-3.0-or-later
"""What toggle_deploy gets for a service: image and version choice, ports, env file, health overrides."""
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.toggle_options import toggle_options

DEFINITION = {
    'image': 'u1_myapp_prod_api:latest', 'version': '1', 'command': ['python', 'app.py'], 'env_vars': {'A': '1'},
    'secrets': [], 'volumes': [], 'data_path': None, 'container_port': 8000, 'network': 'u1_myapp_prod_net',
    'mem_limit': None, 'mem_reservation': None, 'cpus': None, 'shm_size': None, 'restart': True,
    'health': {'type': 'http', 'path': '/health', 'interval': 10}, 'scheduled': False, 'schedule': None,
}
CONTEXT = {'secrets_dir': '/local/u1/myapp/prod/secrets', 'address': '172.17.0.1',
           'host_ports': {'api': {'host_port': 8357, 'secondary_port': 18357}}}


def test_the_spec_alone():
    options = toggle_options('api', DEFINITION, CONTEXT)
    assert options['state'] == 'started'
    assert options['image'] == 'u1_myapp_prod_api:latest' and options['version'] == '1'
    assert options['env_file'] == '/local/u1/myapp/prod/secrets/api.env'
    assert (options['host_port'], options['secondary_port'], options['bind_address']) == (8357, 18357, '172.17.0.1')
    assert options['env_vars'] == {'A': '1'}
    assert 'scheduled' not in options and 'schedule' not in options


def test_a_build_beats_the_spec_and_a_rollback_beats_both():
    built = dict(CONTEXT, built={'api': {'image': 'u1_myapp_prod_api:7', 'version': '7'}})
    assert (toggle_options('api', DEFINITION, built)['image'], toggle_options('api', DEFINITION, built)['version']) == \
        ('u1_myapp_prod_api:7', '7')
    rolled = dict(built, overrides={'api': {'image': 'u1_myapp_prod_api:5', 'version': '5'}})
    options = toggle_options('api', DEFINITION, rolled)
    assert (options['image'], options['version'], options['env_vars']['APP_VERSION']) == ('u1_myapp_prod_api:5', '5', '5')
    assert DEFINITION['env_vars'] == {'A': '1'}  # not changed in place


def test_health_overrides_merge_and_a_scheduled_service_is_created():
    options = toggle_options('report', dict(DEFINITION, scheduled=True, container_port=None),
                             dict(CONTEXT, health_overrides={'interval': 1}))
    assert options['state'] == 'created'
    assert options['health'] == {'type': 'http', 'path': '/health', 'interval': 1}
    assert 'host_port' not in options
