# SPDX-License-Identifier: GPL-3.0-or-later
import pytest

from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec import sizes


def test_seed_zones_exactly():
    assert list(sizes.ZONES) == ['lon1', 'nyc1', 'nyc3', 'sfo3', 'sgp1', 'fra1', 'tor1', 'ams3', 'blr1']
    assert sizes.ZONES['lon1'] == 'London'
    assert sizes.ZONES['nyc3'] == 'New York'
    assert sizes.ZONES['blr1'] == 'Bangalore'


@pytest.mark.parametrize('cpu,memory,slug,price', [
    (1, 512, 's-1vcpu-512mb-10gb', 4.0),
    (1, 1024, 's-1vcpu-1gb', 6.0),
    (1, 2048, 's-1vcpu-2gb', 12.0),
    (2, 2048, 's-2vcpu-2gb', 18.0),
    (2, 4096, 's-2vcpu-4gb', 24.0),
    (4, 8192, 's-4vcpu-8gb', 48.0),
    (8, 16384, 's-8vcpu-16gb', 96.0),
])
def test_real_sizes(cpu, memory, slug, price):
    size = sizes.size_for(cpu, memory)
    assert size['slug'] == slug and size['price_monthly'] == price
    assert size['vcpus'] == cpu and size['memory'] == memory and size['disk'] > 0
    assert slug.startswith('s-%dvcpu-' % cpu)


def test_seed_cost_table_holds():
    assert sizes.monthly_cost(1, 1024, 1) == 6.0
    assert sizes.monthly_cost(2, 4096, 1) == 24.0
    assert sizes.monthly_cost(4, 8192, 1) == 48.0
    assert sizes.monthly_cost(1, 1024, 3) == 18.0
    assert sizes.monthly_cost(2, 4096) == 24.0


def test_size_for_returns_a_copy():
    sizes.size_for(1, 1024)['price_monthly'] = 0
    assert sizes.size_for(1, 1024)['price_monthly'] == 6.0


@pytest.mark.parametrize('cpu,memory', [(3, 1024), (2, 1024), (1, 1000), (True, 1024), ('1', 1024), (1, None)])
def test_no_such_size(cpu, memory):
    assert sizes.size_for(cpu, memory) is None
    err = sizes.size_error(cpu, memory)
    assert '\n' not in err and '; fix: ' in err
    assert '1/1024 ($6)' in err and '2/4096 ($24)' in err and '4/8192 ($48)' in err
    with pytest.raises(ValueError):
        sizes.monthly_cost(cpu, memory, 1)


def test_size_error_suggests_the_smallest_fit():
    assert 'smallest size that fits is 2/2048 (s-2vcpu-2gb' in sizes.size_error(2, 1024)
    assert 'smallest' not in sizes.size_error(16, 1024)
    assert sizes.size_error(1, 1024) is None


def test_zone_error():
    assert sizes.zone_error('lon1') is None
    err = sizes.zone_error('lon9')
    assert "did you mean 'lon1'" in err and 'blr1 (Bangalore)' in err and '; fix: ' in err
    assert 'use one of' in sizes.zone_error(5)
