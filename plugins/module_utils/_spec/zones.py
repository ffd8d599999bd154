# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The zones of a multi-zone run (``fleet_zones``, the seed's ``deploy(zones=[...])``) and where each service runs.

Web services and workers run in every zone of the run, ``servers_count`` servers in each; a database has one primary
and a scheduled job must run once, so those stay in their ``server_zone`` (the others reach them over the peered
VPCs). Without ``fleet_zones`` every service runs in its ``server_zone``.
"""

from __future__ import annotations

import json
import os

from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.sizes import zone_error

SPREAD_ROLES = ('web', 'worker')


class ZonesError(ValueError):
    """``fleet_zones`` is not a list of DigitalOcean zones: the message is one line with the fix."""


def check_zones(value):
    """``fleet_zones`` as a list of distinct zone slugs in the given order ([] for none); ZonesError otherwise."""
    if value is None or value == [] or value == '':
        return []
    if isinstance(value, str):
        value = [part.strip() for part in value.split(',') if part.strip()]
    if not isinstance(value, (list, tuple)):
        raise ZonesError('fleet_zones: must be a list of zones, got %r; fix: -e \'{"fleet_zones": ["lon1", "nyc3"]}\''
                         % (value,))
    zones = []
    for zone in value:
        err = zone_error(zone)
        if err:
            raise ZonesError('fleet_zones: %s' % err)
        if zone in zones:
            raise ZonesError('fleet_zones: %s is listed twice; fix: list each zone once' % zone)
        zones.append(zone)
    return zones


def service_zones(role, server_zone, zones):
    """The zones a service with this role runs in: every zone of the run for web services and workers."""
    if zones and role in SPREAD_ROLES:
        return list(zones)
    return [server_zone]


def zones_file(controller_root, user, project, env):
    return os.path.join(controller_root, user, project, env, 'config', 'zones.json')


def read_remembered(path):
    """The remembered zones (None when there are none); an unreadable file counts as none."""
    try:
        with open(path) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None
