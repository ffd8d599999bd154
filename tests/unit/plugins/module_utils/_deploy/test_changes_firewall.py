# SPDX-License-Identifier: GPL-3.0-or-later
"""The deploy look's firewall part (deploy_changes): whether host_firewall would change nothing, read from iptables-save only."""
import re

import pytest

from ansible_collections.projectdeployer.fleet.plugins.module_utils._firewall import rules, tenant
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy import changes


class FakeModule:
    def __init__(self, bins=True, rc=0):
        self.bins, self.rc, self.commands = bins, rc, []

    def get_bin_path(self, name, required=False):
        return '/usr/sbin/%s' % name if self.bins else None

    def run_command(self, argv, data=None, binary_data=False):
        self.commands.append((argv, data))
        return self.rc, '*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n', 'iptables: permission denied'


class FakeNetwork:
    def __init__(self, name):
        self.id, self.attrs = 'abcdef0123456789', {'Driver': 'bridge', 'Options': {}, 'Name': name}


class FakeClient:
    class networks:  # pylint: disable=invalid-name
        @staticmethod
        def get(name):
            return FakeNetwork(name)


TOP = {'user': 'u1', 'project': 'app', 'env': 'prod',
       'firewall': {'ports': [8100, 18100], 'networks': ['u1_app_prod_net'], 'peers': [{'address': '10.0.0.6', 'ports': ['8200']}]}}


@pytest.mark.parametrize('batch_changed', [False, True])
def test_current_when_converge_in_check_mode_would_change_nothing(monkeypatch, batch_changed):
    seen = {}

    def converge(iptables, save, restore, name, ports, bridges, peers, present, check_mode):
        seen.update(tenant=name, ports=ports, bridges=bridges, peers=peers, present=present, check_mode=check_mode,
                    save=iptables([save, '-t', 'filter']))
        return batch_changed, {}, {}

    monkeypatch.setattr(tenant, 'converge', converge)
    module = FakeModule()
    assert changes.firewall_look(module, FakeClient(), TOP) == {'firewall_current': not batch_changed}
    assert seen['tenant'] == rules.tenant_name('u1', 'app', 'prod') and seen['ports'] == [8100, 18100]
    assert seen['bridges'] == ['br-abcdef012345'] and seen['peers'] == [{'address': '10.0.0.6', 'ports': [8200]}]
    assert seen['present'] and seen['check_mode']  # never applied from here
    assert [argv for argv, data in module.commands] == [['/usr/sbin/iptables-save', '-t', 'filter']]


def test_not_current_without_iptables_and_one_line_when_it_fails(monkeypatch, tmp_path):
    monkeypatch.setattr(rules, 'LOCK_FILE', str(tmp_path / 'lock'))
    assert changes.firewall_look(FakeModule(bins=False), FakeClient(), TOP) == {'firewall_current': False}
    with pytest.raises(rules.FirewallError, match=re.escape(
            "iptables-save failed: iptables: permission denied; fix: run as root on a server with iptables")):
        changes.firewall_look(FakeModule(rc=1), FakeClient(), TOP)
