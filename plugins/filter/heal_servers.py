# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The heal_servers filter: the env's servers as heal_plan's servers[], from their hostvars after heal.yml read them."""

from __future__ import annotations


def heal_server(name, host_vars):
    """One server: its VPC address, whether the controller reached it, its monitor's verdict, its droplet's status."""
    view = host_vars.get('fleet_heal_view') or {}
    # a read skipped because the controller's probe of its SSH port failed: not reachable either
    reachable = bool(view) and not view.get('unreachable') and not view.get('failed') and not view.get('skipped')
    services = host_vars.get('fleet_host_services') or (
        [host_vars['fleet_droplet_service']] if host_vars.get('fleet_droplet_service') else [])
    return {'name': name, 'address': host_vars.get('fleet_private_ip') or host_vars.get('ansible_host'),
            'reachable': reachable, 'verdict': view.get('verdict') if reachable else None,
            'status': host_vars.get('fleet_status') or 'unknown', 'services': list(services),
            'zone': host_vars.get('fleet_zone'), 'size': host_vars.get('fleet_size')}


def heal_servers(hosts, hostvars):
    """``[heal_server(...)]`` of ``hosts`` (inventory names), surplus and fenced droplets left out."""
    out = []
    for name in hosts or []:
        host_vars = hostvars[name]
        if host_vars.get('fleet_droplet_surplus'):
            continue
        out.append(heal_server(name, host_vars))
    return out


class FilterModule(object):
    def filters(self):
        return {'heal_servers': heal_servers}
