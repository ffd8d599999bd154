# SPDX-License-Identifier: GPL-3.0-or-later
"""The droplets inventory plugin with real InventoryData, DataLoader and Templar.

Most tests replace the pydo client (``make_client``) by a fake that serves two pages of droplets in
the shape of the OpenAPI example ``droplets_tagged``; the last ones run the real pydo client against
a small HTTPS endpoint on loopback (test CA), which also covers paging parameters, ``ca_bundle``
and a refused token end to end.
"""
import copy
import datetime
import http.server
import json
import os
import ssl
import subprocess
import sys
import threading
import urllib.parse

import pytest
import yaml

from ansible.errors import AnsibleParserError
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import init_plugin_loader, inventory_loader
from ansible.utils.collection_loader import AnsibleCollectionConfig


def _install_collection_loader():
    """Plugins are loaded by name, as ansible-inventory does, so the collection loader must be installed.

    Other test modules may already have imported ``ansible_collections.*`` as plain namespace packages;
    those packages (not the modules, which keep their identity) are dropped so that the collection
    loader can import them again with their collection metadata.
    """
    if AnsibleCollectionConfig.collection_finder is not None:
        return
    for name in [n for n in sys.modules if n == 'ansible_collections' or n.startswith('ansible_collections.')]:
        if hasattr(sys.modules[name], '__path__'):
            del sys.modules[name]
    init_plugin_loader()


_install_collection_loader()

from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.naming import (  # noqa: E402
    droplet_name, droplet_tags)

PLUGIN = 'projectdeployer.fleet.droplets'


# --- droplets as the API returns them (OpenAPI resources/droplets/responses/examples.yml) ------------------------

def api_droplet(droplet_id, name, tags, region='lon1', status='active', public='203.0.113.10',
                private='10.110.0.2', size='s-1vcpu-1gb'):
    v4 = []
    if private:
        v4.append({'ip_address': private, 'netmask': '255.255.240.0', 'gateway': 'nil', 'type': 'private'})
    if public:
        v4.append({'ip_address': public, 'netmask': '255.255.240.0', 'gateway': '203.0.113.1', 'type': 'public'})
    return {
        'id': droplet_id,
        'name': name,
        'memory': 1024,
        'vcpus': 1,
        'disk': 25,
        'disk_info': [{'type': 'local', 'size': {'amount': 25, 'unit': 'gib'}}],
        'locked': False,
        'status': status,
        'kernel': None,
        'created_at': '2026-01-21T18:37:44Z',
        'features': ['private_networking'],
        'backup_ids': [],
        'next_backup_window': None,
        'snapshot_ids': [],
        'image': {
            'id': 63663980, 'name': '12 x64', 'distribution': 'Debian', 'slug': 'debian-12-x64', 'public': True,
            'regions': ['ams3', 'lon1', 'nyc3'], 'created_at': '2025-05-15T05:47:50Z', 'type': 'base',
            'min_disk_size': 15, 'size_gigabytes': 2.36, 'description': '', 'tags': [], 'status': 'available',
            'error_message': '',
        },
        'volume_ids': [],
        'size': {
            'slug': size, 'memory': 1024, 'vcpus': 1, 'disk': 25, 'transfer': 1.0, 'price_monthly': 6.0,
            'price_hourly': 0.00893, 'regions': ['ams3', 'lon1', 'nyc3'], 'available': True, 'description': 'Basic',
        },
        'size_slug': size,
        'networks': {'v4': v4, 'v6': []},
        'region': {
            'name': region.upper(), 'slug': region,
            'features': ['private_networking', 'backups', 'ipv6', 'metadata', 'install_agent', 'storage'],
            'available': True, 'sizes': ['s-1vcpu-1gb', 's-1vcpu-2gb'],
        },
        'tags': tags,
        'vpc_uuid': '760e09ef-dc84-11e8-981e-3cfdfeaae000',
    }


def fleet_droplet(droplet_id, user, project, env, service, zone, index, **kwargs):
    return api_droplet(droplet_id, droplet_name(user, project, env, service, zone, index),
                       droplet_tags(user, project, env, service), region=zone, **kwargs)


API = fleet_droplet(3164444, 'u1', 'myapp', 'prod', 'api', 'lon1', 1, public='203.0.113.10', private='10.110.0.2')
SHOP = fleet_droplet(3164459, 'u1', 'my-shop', 'uat', 'web', 'ams3', 1, public='198.51.100.7', private='10.133.0.5',
                     size='s-2vcpu-4gb')
PG = fleet_droplet(3164470, 'u1', 'myapp', 'prod', 'postgres', 'lon1', 1, public='203.0.113.11', private='10.110.0.3')
# Just created: status new, no networks yet (DESIGN.md, known traps).
NEW = fleet_droplet(3164481, 'u1', 'myapp', 'prod', 'api', 'lon1', 2, status='new', public=None, private=None)
NEW['networks'] = {'v4': [], 'v6': []}

BASE = 'https://api.digitalocean.com/v2/droplets?tag_name=fleet&per_page=200'
PAGES = [
    {'droplets': [API, SHOP], 'links': {'pages': {'last': BASE + '&page=2', 'next': BASE + '&page=2'}},
     'meta': {'total': 4}},
    {'droplets': [PG, NEW], 'links': {'pages': {'first': BASE + '&page=1', 'prev': BASE + '&page=1'}},
     'meta': {'total': 4}},
]


class FakeDroplets(object):
    def __init__(self, pages):
        self.pages = pages
        self.calls = []

    def list(self, **kwargs):
        kwargs.pop('cls', None)  # module_utils/_digitalocean/api.py's status hook; a fake may ignore it
        self.calls.append(kwargs)
        return copy.deepcopy(self.pages[kwargs.get('page', 1) - 1])


class FakeClient(object):
    def __init__(self, pages):
        self.droplets = FakeDroplets(pages)


@pytest.fixture
def plugin_module():
    return sys.modules[type(inventory_loader.get(PLUGIN)).__module__]


@pytest.fixture
def warnings(plugin_module, monkeypatch):
    seen = []
    monkeypatch.setattr(plugin_module.display, 'warning', lambda msg, *a, **kw: seen.append(msg))
    return seen


@pytest.fixture
def api(plugin_module, monkeypatch):
    """The fake pydo client; ``api.made`` records how each one was built."""
    class Api(object):
        pages = PAGES
        made = []
        clients = []

    def make_client(params):
        Api.made.append(dict((k, params[k]) for k in ('api_token', 'api_endpoint', 'ca_bundle', 'validate_certs')))
        client = FakeClient(Api.pages)
        Api.clients.append(client)
        return client

    monkeypatch.setattr(plugin_module, 'make_client', make_client)
    monkeypatch.setenv('DIGITALOCEAN_API_TOKEN', 'dop_v1_test')
    for name in ('DIGITALOCEAN_TOKEN', 'DO_API_TOKEN', 'DIGITALOCEAN_API_ENDPOINT', 'DIGITALOCEAN_CA_BUNDLE'):
        monkeypatch.delenv(name, raising=False)
    return Api


@pytest.fixture
def parse(tmp_path):
    def _parse(name='fleet.droplets.yml', flush_cache=False, **options):
        path = tmp_path / name
        path.write_text(yaml.safe_dump(dict(plugin=PLUGIN, **options)))
        plugin = inventory_loader.get(PLUGIN)
        assert plugin.verify_file(str(path))
        inventory = InventoryData()
        plugin.parse(inventory, DataLoader(), str(path), cache=not flush_cache)
        try:  # as InventoryManager.parse_source does
            plugin.update_cache_if_changed()
        except AttributeError:  # no cache configured
            pass
        return inventory
    return _parse


def hosts_of(inventory, group):
    return sorted(h.name for h in inventory.groups[group].get_hosts())


def host_vars(inventory, name):
    return dict((k, v) for k, v in inventory.get_host(name).vars.items() if k not in ('inventory_file', 'inventory_dir'))


# --- tests -------------------------------------------------------------------------------------------------------

def test_verify_file_wants_droplets_yml(tmp_path):
    plugin = inventory_loader.get(PLUGIN)
    for name, ok in (('a.droplets.yml', True), ('a.droplets.yaml', True), ('droplets.yml', False),
                     ('a.yml', False), ('a.droplets.json', False)):
        (tmp_path / name).write_text('plugin: %s\n' % PLUGIN)
        assert plugin.verify_file(str(tmp_path / name)) is ok, name
    assert not plugin.verify_file(str(tmp_path / 'missing.droplets.yml'))


def test_two_pages_tagged_fleet_become_hosts_and_groups(api, parse, warnings):
    inventory = parse()
    assert api.clients[0].droplets.calls == [dict(per_page=200, page=1, tag_name='fleet'),
                                             dict(per_page=200, page=2, tag_name='fleet')]
    assert api.made == [dict(api_token='dop_v1_test', api_endpoint='https://api.digitalocean.com', ca_bundle=None,
                             validate_certs=True)]
    assert hosts_of(inventory, 'fleet_servers') == [
        'u1-my-shop-uat-web-ams3-1', 'u1-myapp-prod-api-lon1-1', 'u1-myapp-prod-postgres-lon1-1']
    assert hosts_of(inventory, 'fleet_u1_myapp_prod') == ['u1-myapp-prod-api-lon1-1', 'u1-myapp-prod-postgres-lon1-1']
    assert hosts_of(inventory, 'fleet_service_u1_myapp_prod_api') == ['u1-myapp-prod-api-lon1-1']
    assert hosts_of(inventory, 'fleet_service_u1_myapp_prod_postgres') == ['u1-myapp-prod-postgres-lon1-1']
    # "-" of a project name becomes "_" in group names
    assert hosts_of(inventory, 'fleet_u1_my_shop_uat') == ['u1-my-shop-uat-web-ams3-1']
    assert hosts_of(inventory, 'fleet_service_u1_my_shop_uat_web') == ['u1-my-shop-uat-web-ams3-1']
    assert not [g for g in inventory.groups if '-' in g]


def test_hostvars(api, parse, warnings):
    inventory = parse()
    assert host_vars(inventory, 'u1-my-shop-uat-web-ams3-1') == {
        'ansible_host': '198.51.100.7',
        'fleet_public_ip': '198.51.100.7',
        'fleet_private_ip': '10.133.0.5',
        'fleet_zone': 'ams3',
        'fleet_size': 's-2vcpu-4gb',
        'fleet_image': 'debian-12-x64',
        'fleet_vpc_uuid': '760e09ef-dc84-11e8-981e-3cfdfeaae000',
        'fleet_droplet_id': 3164459,
        'fleet_status': 'active',
        'fleet_droplet_user': 'u1',
        'fleet_droplet_project': 'my-shop',
        'fleet_droplet_env': 'uat',
        'fleet_droplet_service': 'web',
        'fleet_droplet_surplus': False,
        'fleet_tags': ['fleet', 'fleet-user:u1', 'fleet-project:u1_my-shop', 'fleet-env:u1_my-shop_uat',
                       'fleet-service:u1_my-shop_uat_web'],
    }


def test_a_surplus_droplet_is_in_fleet_surplus(api, parse):
    surplus = fleet_droplet(3164490, 'u1', 'myapp', 'prod', 'api', 'lon1', 3, public='203.0.113.12',
                            private='10.110.0.4')
    surplus['tags'].append('fleet-surplus')
    api.pages = [{'droplets': [API, surplus], 'links': {}, 'meta': {'total': 2}}]
    inventory = parse()
    assert hosts_of(inventory, 'fleet_surplus') == ['u1-myapp-prod-api-lon1-3']
    assert host_vars(inventory, 'u1-myapp-prod-api-lon1-3')['fleet_droplet_surplus'] is True
    assert host_vars(inventory, 'u1-myapp-prod-api-lon1-1')['fleet_droplet_surplus'] is False
    assert hosts_of(inventory, 'fleet_service_u1_myapp_prod_api') == ['u1-myapp-prod-api-lon1-1',
                                                                      'u1-myapp-prod-api-lon1-3']


def test_new_droplet_without_networks_is_skipped_with_a_warning(api, parse, warnings):
    inventory = parse()
    assert 'u1-myapp-prod-api-lon1-2' not in inventory.hosts
    assert warnings == ['DigitalOcean droplet u1-myapp-prod-api-lon1-2 (id 3164481) is new: skipped '
                        '(include_inactive: true lists it)']


def test_include_inactive_lists_it_without_ansible_host(api, parse, warnings):
    inventory = parse(include_inactive=True)
    hv = host_vars(inventory, 'u1-myapp-prod-api-lon1-2')
    assert 'ansible_host' not in hv
    assert hv['fleet_status'] == 'new' and hv['fleet_public_ip'] is None
    assert hosts_of(inventory, 'fleet_service_u1_myapp_prod_api') == ['u1-myapp-prod-api-lon1-1',
                                                                      'u1-myapp-prod-api-lon1-2']
    assert warnings == []


def test_use_private_ip(api, parse, warnings):
    inventory = parse(use_private_ip=True)
    assert host_vars(inventory, 'u1-myapp-prod-api-lon1-1')['ansible_host'] == '10.110.0.2'
    assert host_vars(inventory, 'u1-myapp-prod-api-lon1-1')['fleet_public_ip'] == '203.0.113.10'


def test_active_droplet_without_the_address_asked_for_is_skipped(api, parse, warnings):
    api.pages = [{'droplets': [fleet_droplet(7, 'u2', 'x', 'dev', 'api', 'fra1', 1, private=None)],
                  'links': {}, 'meta': {'total': 1}}]
    inventory = parse(use_private_ip=True)
    assert 'u2-x-dev-api-fra1-1' not in inventory.hosts
    assert warnings == ['DigitalOcean droplet u2-x-dev-api-fra1-1 (id 7) has no private IPv4 address: skipped '
                        '(include_inactive: true lists it)']


def test_keyed_groups_compose_and_groups(api, parse, warnings):
    inventory = parse(
        keyed_groups=[{'key': 'fleet_zone', 'prefix': 'zone'}, {'key': 'fleet_size', 'prefix': 'size'},
                      {'key': 'fleet_droplet_project', 'prefix': 'project'}],
        groups={'databases': "fleet_droplet_service == 'postgres'"},
        compose={'ansible_user': "'deploy'", 'fleet_internal_url': "'http://' ~ fleet_private_ip ~ ':8000'"},
    )
    assert hosts_of(inventory, 'zone_lon1') == ['u1-myapp-prod-api-lon1-1', 'u1-myapp-prod-postgres-lon1-1']
    assert hosts_of(inventory, 'zone_ams3') == ['u1-my-shop-uat-web-ams3-1']
    assert hosts_of(inventory, 'size_s_2vcpu_4gb') == ['u1-my-shop-uat-web-ams3-1']
    assert hosts_of(inventory, 'databases') == ['u1-myapp-prod-postgres-lon1-1']
    assert hosts_of(inventory, 'project_myapp') == ['u1-myapp-prod-api-lon1-1', 'u1-myapp-prod-postgres-lon1-1']
    hv = host_vars(inventory, 'u1-myapp-prod-api-lon1-1')
    assert hv['ansible_user'] == 'deploy'
    assert hv['fleet_internal_url'] == 'http://10.110.0.2:8000'


def test_leading_separator_false(api, parse, warnings):
    inventory = parse(keyed_groups=[{'key': 'fleet_zone'}], leading_separator=False)
    assert 'lon1' in inventory.groups and '_lon1' not in inventory.groups


def test_strict_compose_error_is_raised(api, parse, warnings):
    with pytest.raises(Exception, match='no_such_var'):
        parse(compose={'x': 'no_such_var.attr'}, strict=True)
    # not strict: skipped
    inventory = parse(compose={'x': 'no_such_var.attr'})
    assert 'x' not in host_vars(inventory, 'u1-myapp-prod-api-lon1-1')


def test_api_values_are_never_templated(api, parse, warnings):
    evil = fleet_droplet(9, 'u3', 'x', 'dev', 'api', 'fra1', 1)
    evil['tags'].append("{{ 'pwned' }}")
    evil['image']['slug'] = "{{ 7 * 6 }}"
    api.pages = [{'droplets': [evil], 'links': {}, 'meta': {'total': 1}}]
    inventory = parse(compose={'copied_image': 'fleet_image', 'copied_tags': 'fleet_tags'})
    hv = host_vars(inventory, 'u3-x-dev-api-fra1-1')
    assert hv['copied_image'] == '{{ 7 * 6 }}'
    assert "{{ 'pwned' }}" in hv['copied_tags']


@pytest.mark.parametrize('options, tag, wanted', [
    ({'user': 'u1'}, 'fleet-user:u1', ['u1-my-shop-uat-web-ams3-1', 'u1-myapp-prod-api-lon1-1',
                                       'u1-myapp-prod-postgres-lon1-1']),
    ({'user': 'u1', 'project': 'myapp'}, 'fleet-project:u1_myapp',
     ['u1-myapp-prod-api-lon1-1', 'u1-myapp-prod-postgres-lon1-1']),
    ({'user': 'u1', 'project': 'myapp', 'env': 'prod'}, 'fleet-env:u1_myapp_prod',
     ['u1-myapp-prod-api-lon1-1', 'u1-myapp-prod-postgres-lon1-1']),
    ({'user': 'u1', 'project': 'myapp', 'env': 'prod', 'service': 'postgres'}, 'fleet-service:u1_myapp_prod_postgres',
     ['u1-myapp-prod-postgres-lon1-1']),
])
def test_filters_narrow_the_server_side_tag(api, parse, warnings, options, tag, wanted):
    # The fake ignores tag_name; the plugin still checks the tags itself.
    inventory = parse(**options)
    assert {c['tag_name'] for c in api.clients[0].droplets.calls} == {tag}
    assert hosts_of(inventory, 'fleet_servers') == wanted


def test_custom_tag_and_no_tag(api, parse, warnings):
    parse(tag='blue')
    assert api.clients[-1].droplets.calls[0]['tag_name'] == 'blue'
    parse(tag='')
    assert 'tag_name' not in api.clients[-1].droplets.calls[0]


@pytest.mark.parametrize('options, message', [
    ({'project': 'myapp'}, 'project needs user as well'),
    ({'user': 'u1', 'env': 'prod'}, 'env needs project as well'),
    ({'user': 'U_1'}, "user 'U_1' is not a valid id"),
    ({'user': 'u1', 'project': 'a', 'env': 'p', 'service': 'nginx'}, 'reserved'),
])
def test_bad_filters_are_one_clear_error(api, parse, options, message):
    with pytest.raises(AnsibleParserError, match=message):
        parse(**options)
    assert api.made == []


def test_missing_token(parse, monkeypatch):
    for name in ('DIGITALOCEAN_API_TOKEN', 'DIGITALOCEAN_TOKEN', 'DO_API_TOKEN'):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(AnsibleParserError, match=r'^no DigitalOcean API token; fix: set api_token \(or '
                                                 r'DIGITALOCEAN_API_TOKEN .*\) \(inventory source .*fleet.droplets.yml\)$'):
        parse()


def test_token_and_endpoint_options(api, parse, warnings, monkeypatch, tmp_path):
    monkeypatch.delenv('DIGITALOCEAN_API_TOKEN')
    monkeypatch.setenv('DIGITALOCEAN_TOKEN', 'dop_v1_second_name')
    monkeypatch.setenv('MY_TOKEN', 'dop_v1_from_lookup')
    parse(api_endpoint='https://do.example.test', ca_bundle=str(tmp_path / 'ca.pem'))
    parse(api_token="{{ lookup('ansible.builtin.env', 'MY_TOKEN') }}", validate_certs=False)
    assert api.made == [
        dict(api_token='dop_v1_second_name', api_endpoint='https://do.example.test',
             ca_bundle=str(tmp_path / 'ca.pem'), validate_certs=True),
        dict(api_token='dop_v1_from_lookup', api_endpoint='https://api.digitalocean.com', ca_bundle=None,
             validate_certs=False),
    ]


def test_cache_hit_does_not_call_the_api(api, parse, warnings, tmp_path):
    options = dict(cache=True, cache_plugin='ansible.builtin.jsonfile', cache_connection=str(tmp_path / 'cache'))
    first = parse(**options)
    assert len(api.made) == 1
    cached = os.listdir(str(tmp_path / 'cache'))
    assert len(cached) == 1
    assert 'dop_v1_test' not in (tmp_path / 'cache' / cached[0]).read_text()

    api.pages = None  # a call would fail
    second = parse(**options)
    assert len(api.made) == 1
    assert hosts_of(second, 'fleet_servers') == hosts_of(first, 'fleet_servers')
    assert host_vars(second, 'u1-myapp-prod-api-lon1-1') == host_vars(first, 'u1-myapp-prod-api-lon1-1')
    assert hosts_of(second, 'fleet_u1_myapp_prod') == hosts_of(first, 'fleet_u1_myapp_prod')

    # --flush-cache (cache=False) reads the API again and refreshes the cache
    api.pages = PAGES
    parse(flush_cache=True, **options)
    assert len(api.made) == 2
    # another endpoint is another cache entry
    parse(api_endpoint='https://other.example.test', **options)
    assert len(api.made) == 3
    # so is another tag asked for
    parse(user='u1', **options)
    assert len(api.made) == 4
    assert len(os.listdir(str(tmp_path / 'cache'))) == 3


def test_example_configuration(api, warnings):
    path = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'inventory', 'digitalocean.droplets.yml')
    plugin = inventory_loader.get(PLUGIN)
    assert plugin.verify_file(path)
    inventory = InventoryData()
    plugin.parse(inventory, DataLoader(), path)
    assert hosts_of(inventory, 'fleet_u1_myapp_prod') == ['u1-myapp-prod-api-lon1-1', 'u1-myapp-prod-postgres-lon1-1']


def test_without_cache_option_every_parse_calls_the_api(api, parse, warnings):
    parse()
    parse()
    assert len(api.made) == 2


def test_paging_stops_on_missing_next_link(api, parse, warnings):
    api.pages = [{'droplets': [API], 'links': {'pages': {}}, 'meta': {'total': 5}}, None]
    inventory = parse()
    assert len(api.clients[0].droplets.calls) == 1
    assert hosts_of(inventory, 'fleet_servers') == ['u1-myapp-prod-api-lon1-1']


def test_unexpected_answer_is_a_clear_error(api, parse):
    api.pages = [{'id': 'not_found', 'message': 'The resource you were accessing could not be found.'}]
    with pytest.raises(AnsibleParserError, match='DigitalOcean API: listing droplets failed: HTTP 404 not_found'):
        parse()


def test_two_droplets_with_one_name(api, parse, warnings):
    twin = copy.deepcopy(API)
    twin['id'] = 1
    api.pages = [{'droplets': [API, twin], 'links': {}, 'meta': {'total': 2}}]
    inventory = parse()
    assert host_vars(inventory, 'u1-myapp-prod-api-lon1-1')['fleet_droplet_id'] == 1
    assert warnings == ['two DigitalOcean droplets are named u1-myapp-prod-api-lon1-1 (ids 1 and 3164444): '
                        'only id 1 is in the inventory']


def test_droplet_serving_two_tenants_is_in_both_groups(api, parse, warnings):
    shared = fleet_droplet(11, 'u1', 'myapp', 'prod', 'api', 'lon1', 9)
    shared['tags'] += droplet_tags('u2', 'blog', 'prod', 'web')
    api.pages = [{'droplets': [shared], 'links': {}, 'meta': {'total': 1}}]
    inventory = parse()
    for group in ('fleet_u1_myapp_prod', 'fleet_u2_blog_prod', 'fleet_service_u1_myapp_prod_api',
                  'fleet_service_u2_blog_prod_web'):
        assert hosts_of(inventory, group) == ['u1-myapp-prod-api-lon1-9']
    hv = host_vars(inventory, 'u1-myapp-prod-api-lon1-9')
    assert (hv['fleet_droplet_user'], hv['fleet_droplet_project'], hv['fleet_droplet_env'],
            hv['fleet_droplet_service']) == ('u1', 'myapp', 'prod', 'api')


def test_tag_parsing(plugin_module):
    found = plugin_module.parse_fleet_tags(
        ['web', 'fleet', 'fleet-env:u1_my-app_prod', 'fleet-service:u1_my-app_prod_db-1', 'fleet-env:bad', 'env:prod'])
    assert found == {'user': [], 'project': [], 'env': [('u1', 'my-app', 'prod')],
                     'service': [('u1', 'my-app', 'prod', 'db-1')]}
    assert plugin_module.tenant_vars(found) == {'fleet_droplet_user': 'u1', 'fleet_droplet_project': 'my-app',
                                                'fleet_droplet_env': 'prod', 'fleet_droplet_service': 'db-1'}
    assert plugin_module.tenant_vars(plugin_module.parse_fleet_tags(['fleet-project:u1_x'])) == {
        'fleet_droplet_user': 'u1', 'fleet_droplet_project': 'x', 'fleet_droplet_env': None,
        'fleet_droplet_service': None}


# --- the real pydo client against a loopback HTTPS endpoint ------------------------------------------------------

def _test_ca(tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import ipaddress

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, '127.0.0.1')])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address('127.0.0.1'))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / 'ca.pem', tmp_path / 'key.pem'
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_file), str(key_file)


@pytest.fixture
def https_api(tmp_path):
    """GET /v2/droplets?tag_name=..&page=..&per_page=.. with the DigitalOcean paging links, token ``dop_v1_good``."""
    cert, key = _test_ca(tmp_path)
    droplets = [API, SHOP, PG, NEW]
    requests = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query))
            requests.append((url.path, query))
            if self.headers.get('Authorization') != 'Bearer dop_v1_good':
                return self.reply(401, {'id': 'unauthorized', 'message': 'Unable to authenticate you'})
            if url.path != '/v2/droplets':
                return self.reply(404, {'id': 'not_found', 'message': 'The resource you requested could not be found.'})
            tagged = [d for d in droplets if query.get('tag_name') in d['tags']]
            page, per_page = int(query.get('page', 1)), int(query.get('per_page', 20))
            # The test world's server caps pages at 2 items so that paging happens.
            per_page = min(per_page, 2)
            body = {'droplets': tagged[(page - 1) * per_page:page * per_page], 'links': {'pages': {}},
                    'meta': {'total': len(tagged)}}
            if page * per_page < len(tagged):
                body['links']['pages']['next'] = 'https://127.0.0.1/v2/droplets?page=%d' % (page + 1)
            self.reply(200, body)

        def reply(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header('Content-Type', 'application/json')
            self.send_header('Content-Length', str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield dict(endpoint='https://127.0.0.1:%d' % server.server_address[1], ca_bundle=cert, requests=requests)
    finally:
        server.shutdown()
        server.server_close()


def test_real_pydo_pages_through_the_api(https_api, parse, warnings, monkeypatch):
    monkeypatch.setenv('DIGITALOCEAN_API_TOKEN', 'dop_v1_good')
    inventory = parse(api_endpoint=https_api['endpoint'], ca_bundle=https_api['ca_bundle'])
    assert [q for p, q in https_api['requests']] == [
        {'per_page': '200', 'page': '1', 'tag_name': 'fleet'}, {'per_page': '200', 'page': '2', 'tag_name': 'fleet'}]
    assert hosts_of(inventory, 'fleet_servers') == [
        'u1-my-shop-uat-web-ams3-1', 'u1-myapp-prod-api-lon1-1', 'u1-myapp-prod-postgres-lon1-1']
    assert len(warnings) == 1


def test_bad_token_is_one_clear_error(https_api, parse, monkeypatch):
    monkeypatch.setenv('DIGITALOCEAN_API_TOKEN', 'dop_v1_bad')
    with pytest.raises(AnsibleParserError) as info:
        parse(api_endpoint=https_api['endpoint'], ca_bundle=https_api['ca_bundle'])
    message = str(info.value)
    assert message.startswith('DigitalOcean API: listing droplets failed: HTTP 401 unauthorized: Unable to '
                              'authenticate you; fix: check api_token')
    assert 'DIGITALOCEAN_API_TOKEN' in message and 'dop_v1_bad' not in message
    assert '\n' not in message and 'Traceback' not in message
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert len(https_api['requests']) == 1  # a 401 is not retried


def test_untrusted_certificate_names_ca_bundle(https_api, parse, monkeypatch):
    monkeypatch.setenv('DIGITALOCEAN_API_TOKEN', 'dop_v1_good')
    with pytest.raises(AnsibleParserError, match="TLS certificate is not trusted: set ca_bundle"):
        parse(api_endpoint=https_api['endpoint'], request_timeout=5)
    assert https_api['requests'] == []  # not retried


def test_ansible_inventory_cli(https_api, tmp_path):
    """What a user runs: ansible-inventory --list (the default ``auto`` plugin finds this one), with the token,
    endpoint and CA from the environment."""
    config = tmp_path / 'do.droplets.yml'
    config.write_text('plugin: %s\nkeyed_groups:\n  - key: fleet_zone\n    prefix: zone\n' % PLUGIN)
    env = dict(os.environ, DIGITALOCEAN_API_ENDPOINT=https_api['endpoint'],
               DIGITALOCEAN_CA_BUNDLE=https_api['ca_bundle'],
               DIGITALOCEAN_API_TOKEN='dop_v1_good', ANSIBLE_NOCOLOR='1')
    for name in ('DIGITALOCEAN_TOKEN', 'DO_API_TOKEN', 'REQUESTS_CA_BUNDLE'):
        env.pop(name, None)
    cli = os.path.join(os.path.dirname(sys.executable), 'ansible-inventory')
    out = subprocess.run([cli, '-i', str(config), '--list'], env=env, capture_output=True, text=True, timeout=120,
                         check=True)
    # ansible-inventory marks values that are not trusted templates (all of the API's) this way
    data = json.loads(out.stdout, object_hook=lambda d: d['__ansible_unsafe'] if set(d) == {'__ansible_unsafe'} else d)
    assert sorted(data['fleet_servers']['hosts']) == [
        'u1-my-shop-uat-web-ams3-1', 'u1-myapp-prod-api-lon1-1', 'u1-myapp-prod-postgres-lon1-1']
    assert data['fleet_service_u1_myapp_prod_api']['hosts'] == ['u1-myapp-prod-api-lon1-1']
    assert sorted(data['zone_lon1']['hosts']) == ['u1-myapp-prod-api-lon1-1', 'u1-myapp-prod-postgres-lon1-1']
    assert data['_meta']['hostvars']['u1-myapp-prod-api-lon1-1']['ansible_host'] == '203.0.113.10'
    assert 'u1-myapp-prod-api-lon1-2' in out.stderr and 'skipped' in out.stderr

    # A refused token: one clear message, and with INVENTORY_UNPARSED_FAILED (AWX sets it) a failed run.
    env.update(DIGITALOCEAN_API_TOKEN='dop_v1_bad', ANSIBLE_INVENTORY_UNPARSED_FAILED='true')
    bad = subprocess.run([cli, '-i', str(config), '--list'], env=env, capture_output=True, text=True, timeout=120,
                         check=False)
    assert 'listing droplets failed: HTTP 401 unauthorized: Unable to authenticate you; fix: check api_token' in bad.stderr
    assert bad.returncode != 0
    assert 'Traceback' not in bad.stderr and 'dop_v1_bad' not in bad.stderr
