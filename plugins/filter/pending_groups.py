# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pending_groups filter: the startup groups a deploy has to go through."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError


def pending_groups(startup_groups, changes):
    """``[{'index', 'services'}]`` of the groups in which some server has a changed service.

    ``changes`` holds, per server, deploy_changes' ``changes`` (``{service: reason}``). Every server goes through
    the same groups, so the mesh of each group sees every server's state."""
    try:
        changed = set()
        for per_host in changes:
            changed.update(per_host or {})
        return [{'index': index, 'services': list(group)} for index, group in enumerate(startup_groups)
                if changed.intersection(group)]
    except TypeError as exc:
        raise AnsibleFilterError('pending_groups: %s' % exc)


class FilterModule(object):
    def filters(self):
        return {'pending_groups': pending_groups}
