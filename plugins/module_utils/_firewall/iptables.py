# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""iptables-save and iptables-restore run through a module, as the tenant firewall's ``converge`` wants them."""

from __future__ import annotations

from ansible_collections.projectdeployer.fleet.plugins.module_utils._firewall.rules import FirewallError


class Iptables(object):
    """Calling it runs a command (``argv``, optional stdin ``data``) and returns its output; a failure raises
    FirewallError, one line with the fix. ``save`` and ``restore`` are the binaries' paths (None when missing and
    not ``required``; ``required`` fails the module at once, as Ansible's get_bin_path does)."""

    def __init__(self, module, required=True):
        self.module = module
        self.save = module.get_bin_path('iptables-save', required=required)
        self.restore = module.get_bin_path('iptables-restore', required=required)

    def __call__(self, argv, data=None):
        rc, out, err = self.module.run_command(argv, data=data, binary_data=True)
        if rc != 0:
            lines = (err or out).strip().splitlines()
            raise FirewallError('%s failed: %s; fix: run as root on a server with iptables (Debian: apt install '
                                'iptables)' % (argv[0], lines[-1] if lines else 'exit code %s' % rc))
        return out
