# SPDX-License-Identifier: GPL-3.0-or-later
"""One server of the env as a firewall peer: what it reserved, or before that the address its inventory gives."""
import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.projectdeployer.fleet.plugins.filter.firewall_peer import firewall_peer


def test_a_prepared_server_gives_its_address_and_its_ports_sorted():
    assert firewall_peer({'deploy_address': '10.0.0.6', 'deploy_firewall_ports': [8120, 8031, 8119]}) == {
        'address': '10.0.0.6', 'ports': [8031, 8119, 8120]}


def test_before_its_preparation_the_inventory_says_the_address():
    assert firewall_peer({'fleet_private_ip': '10.0.0.6', 'ansible_host': '203.0.113.6'}, predicted=True) == {
        'address': '10.0.0.6'}
    assert firewall_peer({'fleet_private_address': '10.0.0.9', 'fleet_private_ip': '10.0.0.6'}, predicted=True) == {
        'address': '10.0.0.9'}
    assert firewall_peer({'ansible_host': '203.0.113.6'}, predicted=True) == {'address': '203.0.113.6'}
    assert firewall_peer({}, predicted=True) == {'address': ''}


def test_a_server_not_prepared_yet_is_one_error():
    with pytest.raises(AnsibleFilterError, match='firewall_peer: the host has no .deploy_address. yet'):
        firewall_peer({'ansible_host': '203.0.113.6'})
