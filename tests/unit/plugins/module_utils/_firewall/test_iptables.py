# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The iptables runner: its output, and one readable line with the fix when the command fails."""

from __future__ import annotations

import pytest

from ansible_collections.projectdeployer.fleet.plugins.module_utils._firewall.iptables import Iptables
from ansible_collections.projectdeployer.fleet.plugins.module_utils._firewall.rules import FirewallError


class FakeModule(object):
    def __init__(self, rc=0, out='', err='', binaries=True):
        self.answer, self.binaries, self.calls = (rc, out, err), binaries, []

    def get_bin_path(self, name, required=False):
        return '/usr/sbin/%s' % name if self.binaries else None

    def run_command(self, argv, data=None, binary_data=False):
        self.calls.append((argv, data))
        return self.answer


def test_output_and_stdin_pass_through():
    module = FakeModule(out='*filter\nCOMMIT\n')
    iptables = Iptables(module)
    assert iptables(['iptables-restore', '--noflush'], data='*filter\nCOMMIT\n') == '*filter\nCOMMIT\n'
    assert module.calls == [(['iptables-restore', '--noflush'], '*filter\nCOMMIT\n')]


@pytest.mark.parametrize('err, out, shown', [
    ('iptables-restore v1.8.9 (nf_tables): \nline 3 failed\n', '', 'iptables-restore failed: line 3 failed; fix:'),
    ('', 'only on stdout\n', 'iptables-restore failed: only on stdout; fix:'),
    ('', '', 'iptables-restore failed: exit code 4; fix:'),
])
def test_a_failure_is_one_line_with_the_fix(err, out, shown):
    with pytest.raises(FirewallError) as raised:
        Iptables(FakeModule(rc=4, out=out, err=err))(['iptables-restore'])
    message = str(raised.value)
    assert message.startswith(shown) and '[' not in message and '\n' not in message
    assert message.endswith('(Debian: apt install iptables)')


def test_missing_binaries_are_none_unless_required():
    iptables = Iptables(FakeModule(binaries=False), required=False)
    assert iptables.save is None and iptables.restore is None
