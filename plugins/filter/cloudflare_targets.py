# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The cloudflare_servers and cloudflare_targets filters: what DNS and the load balancers point at after a deploy."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.projectdeployer.fleet.plugins.module_utils._cloudflare import targets


def cloudflare_servers(hosts, hostvars):
    """The deploy's servers (inventory names) as cloudflare_targets takes them; surplus ones left out."""
    views = (targets.server_view(name, hostvars[name]) for name in hosts or [])
    return [view for view in views if view]


def cloudflare_targets(rows, servers, zones=None):
    try:
        return targets.cloudflare_targets(rows, servers, zones or [])
    except (KeyError, TypeError) as exc:
        raise AnsibleFilterError('cloudflare_targets: the rows are not plan rows or the servers not views (%s)' % exc)


def cloudflare_failures(found):
    """One line per zone that failed (``found`` is cloudflare_targets' result)."""
    return targets.failure_lines(found['failed'], found)


class FilterModule(object):
    def filters(self):
        return {'cloudflare_servers': cloudflare_servers, 'cloudflare_targets': cloudflare_targets,
                'cloudflare_failures': cloudflare_failures}
