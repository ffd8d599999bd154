# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The firewall_peer filter: one server of the env as the host_firewall module's peers[] entry."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError


def firewall_peer(host_vars, predicted=False):
    """``{'address', 'ports'}`` of one server from its hostvars (after the deploy role reserved its ports, its
    ports sorted); with ``predicted``, before: ``{'address'}``, the private address its inventory gives."""
    try:
        if predicted:
            return {'address': host_vars.get('fleet_private_address') or host_vars.get('fleet_private_ip')
                    or host_vars.get('ansible_host') or ''}
        return {'address': host_vars['deploy_address'], 'ports': sorted(host_vars['deploy_firewall_ports'])}
    except (KeyError, TypeError, AttributeError) as exc:
        raise AnsibleFilterError('firewall_peer: the host has no %s yet; reserve its host ports first' % exc)


class FilterModule(object):
    def filters(self):
        return {'firewall_peer': firewall_peer}
