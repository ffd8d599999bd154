# SPDX-License-Identifier: GPL-3.0-or-later
import pytest

from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.plan import build_plan
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.schema import validate_project
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.zones import (
    ZonesError, check_zones, service_zones)


def test_zones_are_checked_in_order_and_once():
    assert check_zones(None) == [] and check_zones([]) == []
    assert check_zones(['nyc3', 'lon1']) == ['nyc3', 'lon1']
    assert check_zones('lon1, nyc3') == ['lon1', 'nyc3']


@pytest.mark.parametrize('value, message', [
    (['lon1', 'lon2'], "fleet_zones: 'lon2' is not a DigitalOcean zone of the fleet; fix: did you mean 'lon1'?"),
    (['lon1', 'lon1'], 'fleet_zones: lon1 is listed twice; fix: list each zone once'),
    ({'lon1': 1}, 'fleet_zones: must be a list of zones'),
])
def test_bad_zones_are_one_line_with_the_fix(value, message):
    with pytest.raises(ZonesError) as err:
        check_zones(value)
    assert str(err.value).startswith(message) and '\n' not in str(err.value)


def test_web_services_and_workers_spread_databases_and_jobs_stay():
    assert service_zones('web', 'lon1', ['nyc3', 'sgp1']) == ['nyc3', 'sgp1']
    assert service_zones('worker', 'lon1', ['nyc3']) == ['nyc3']
    assert service_zones('database', 'lon1', ['nyc3', 'sgp1']) == ['lon1']
    assert service_zones('scheduled', 'fra1', ['nyc3']) == ['fra1']
    assert service_zones('web', 'fra1', []) == ['fra1']


def test_the_plan_counts_servers_and_cost_in_every_zone():
    spec = validate_project({'fleet_user': 'u1', 'fleet_project': 'myapp', 'services': {
        'db': {'type': 'postgres'}, 'api': {'image': 'nginx:1', 'ports': [80], 'servers_count': 2}}}, env='prod')
    single = build_plan(spec)
    spec['zones'] = ['lon1', 'nyc3']
    multi = build_plan(spec)
    rows = dict((r['service'], r) for r in multi['services'])
    assert rows['api']['zones'] == ['lon1', 'nyc3'] and rows['db']['zones'] == ['lon1']
    assert multi['servers'] == single['servers'] + 2
    assert multi['monthly_cost'] > single['monthly_cost']
