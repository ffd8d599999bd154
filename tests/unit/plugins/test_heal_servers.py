# SPDX-License-Identifier: GPL-3.0-or-later
from ansible_collections.projectdeployer.fleet.plugins.filter.heal_servers import heal_servers

VERDICT = {'dead': ['10.0.0.4'], 'alive': ['10.0.0.2'], 'leader': '10.0.0.2'}


def test_reachable_servers_bring_their_verdict_and_surplus_ones_are_left_out():
    hostvars = {
        'a': {'fleet_private_ip': '10.0.0.2', 'fleet_status': 'active', 'fleet_droplet_service': 'web',
              'fleet_heal_view': {'verdict': VERDICT, 'changed': False}},
        'c': {'fleet_private_ip': '10.0.0.4', 'fleet_status': 'active', 'fleet_droplet_service': 'web',
              'fleet_heal_view': {'unreachable': True, 'msg': 'timed out'}},
        'd': {'fleet_private_ip': '10.0.0.5', 'fleet_status': 'active', 'fleet_droplet_service': 'web',
              'fleet_heal_view': {'skipped': True, 'changed': False, 'false_condition': 'fleet_heal_probe is succeeded'}},
        'old': {'fleet_private_ip': '10.0.0.9', 'fleet_droplet_surplus': True},
    }
    servers = heal_servers(['a', 'c', 'd', 'old'], hostvars)
    assert [s['name'] for s in servers] == ['a', 'c', 'd']
    assert not servers[2]['reachable'] and servers[2]['verdict'] is None   # its SSH port did not answer the probe
    assert servers[0]['reachable'] and servers[0]['verdict'] == VERDICT and servers[0]['services'] == ['web']
    assert not servers[1]['reachable'] and servers[1]['verdict'] is None and servers[1]['status'] == 'active'
