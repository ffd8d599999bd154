# SPDX-License-Identifier: GPL-3.0-or-later
import pytest

from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy import toggle as t

BASE = {'user': 'u1', 'project': 'myapp', 'env': 'prod', 'service': 'api', 'image': 'img:1',
        'command': 'python app.py', 'env_vars': {'A': '1'}, 'secrets': [{'source': '/s/pw', 'target': '/run/secrets/pw'}],
        'container_port': 8000, 'host_port': 8100, 'secondary_port': 18100, 'bind_address': '10.0.0.5',
        'network': 'u1_myapp_prod_net', 'version': '2'}


def test_hash_ignores_slot_and_time_but_sees_image_env_and_secret_content():
    h = t.config_hash(BASE, 'sha256:a', {'/run/secrets/pw': 'x'})
    assert h == t.config_hash(dict(BASE, host_port=1, secondary_port=2), 'sha256:a', {'/run/secrets/pw': 'x'})
    assert h != t.config_hash(BASE, 'sha256:b', {'/run/secrets/pw': 'x'})
    assert h != t.config_hash(dict(BASE, env_vars={'A': '2'}), 'sha256:a', {'/run/secrets/pw': 'x'})
    assert h != t.config_hash(BASE, 'sha256:a', {'/run/secrets/pw': 'rotated'})


def test_container_kwargs_per_slot():
    kw = t.container_kwargs(BASE, 'secondary', 18100, 'abc', '2026-01-01T00:00:00Z')
    assert kw['name'] == 'u1_myapp_prod_api_secondary'
    assert kw['ports'] == {'8000/tcp': ('10.0.0.5', 18100)}
    assert kw['network'] == 'u1_myapp_prod_net'
    assert '/s/pw:/run/secrets/pw:ro' in kw['volumes']
    assert kw['labels']['fleet.slot'] == 'secondary' and kw['labels']['fleet.config_hash'] == 'abc'
    assert kw['environment'] == {'A': '1'}


def test_stateful_gets_its_data_volume():
    kw = t.container_kwargs(dict(BASE, data_path='/var/lib/postgresql/data'), 'primary', 8100, 'h', 'now')
    assert 'u1_myapp_prod_data_api:/var/lib/postgresql/data' in kw['volumes']


def test_cpu_limit():
    assert t.container_kwargs(dict(BASE, cpus=0.5), 'primary', 8100, 'h', 'now')['nano_cpus'] == 500000000


@pytest.mark.parametrize('existing,recorded,expected', [
    ({}, None, (None, 'primary')),
    ({'primary': {'running': True}}, None, ('primary', 'secondary')),
    ({'secondary': {'running': True}}, 'primary', ('secondary', 'primary')),
    ({'primary': {'running': True, 'created': '2'}, 'secondary': {'running': True, 'created': '1'}}, None,
     ('secondary', 'primary')),
    ({'primary': {'running': True, 'created': '2'}, 'secondary': {'running': True, 'created': '1'}}, 'primary',
     ('primary', 'secondary')),
    ({'primary': {'running': False}}, 'primary', (None, 'primary')),
])
def test_choose_slots(existing, recorded, expected):
    assert t.choose_slots(existing, recorded) == expected


def test_hash_sees_the_content_of_a_secret_with_the_default_target():
    spec = dict(BASE, secrets=[{'source': '/s/pw'}])
    target = t.secret_target(spec['secrets'][0])
    assert target == '/run/secrets/pw'
    assert t.config_hash(spec, 'sha256:a', {target: 'x'}) != t.config_hash(spec, 'sha256:a', {target: 'rotated'})


def test_a_secret_rotated_in_place_does_not_change_the_hash():
    rotated = dict(BASE, secrets=[{'source': '/s/pw', 'target': '/run/secrets/pw', 'in_place': True}])
    assert t.config_hash(rotated, 'sha256:a', {'/run/secrets/pw': 'x'}) == t.config_hash(rotated, 'sha256:a', {'/run/secrets/pw': 'y'})
    assert t.config_hash(BASE, 'sha256:a', {'/run/secrets/pw': 'x'}) != t.config_hash(BASE, 'sha256:a', {'/run/secrets/pw': 'y'})


def test_shm_size_counts_only_when_set():
    before = t.config_hash(BASE, 'sha256:a', {'/run/secrets/pw': 'x'})
    assert t.config_hash(dict(BASE, shm_size=None), 'sha256:a', {'/run/secrets/pw': 'x'}) == before
    assert t.config_hash(dict(BASE, shm_size='256m'), 'sha256:a', {'/run/secrets/pw': 'x'}) != before
    assert 'shm_size' not in t.container_kwargs(BASE, 'primary', 8100, 'h', 'now')
    assert t.container_kwargs(dict(BASE, shm_size='256m'), 'primary', 8100, 'h', 'now')['shm_size'] == '256m'
