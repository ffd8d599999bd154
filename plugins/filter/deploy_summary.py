# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The deploy_summary filter: the table a deploy ends with."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.summary import summary_lines


def deploy_summary(planned, tenant, servers, edge_port=80):
    try:
        return summary_lines(tenant, planned, servers, edge_port)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise AnsibleFilterError('deploy_summary: %s' % exc)


def deploy_server(host_vars):
    """``{'host', 'services', 'done', 'changes'}`` of one server from its hostvars (after a deploy)."""
    try:
        running = host_vars.get('deploy_running') or {}
        return {'host': host_vars['inventory_hostname'], 'services': dict(running.get('services') or {}),
                'done': list(host_vars.get('deploy_done') or []),
                'changes': dict(host_vars.get('deploy_changed_services') or {})}
    except (KeyError, TypeError, AttributeError) as exc:
        raise AnsibleFilterError('deploy_server: %s' % exc)


class FilterModule(object):
    def filters(self):
        return {'deploy_summary': deploy_summary, 'deploy_server': deploy_server}
