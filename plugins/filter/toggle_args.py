# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The toggle_args filter: what toggle_deploy (and deploy_changes) get for one service on one server."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.toggle_options import toggle_options
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.wiring import container_definition


def toggle_args(service, context):
    try:
        definition = container_definition(context['spec'], service, context['internal_ports'], context['secrets_dir'],
                                          context.get('images'), context.get('logins'))
        return toggle_options(service, definition, context)
    except KeyError as exc:
        raise AnsibleFilterError('toggle_args: %s is missing for service %s' % (exc, service))


class FilterModule(object):
    def filters(self):
        return {'toggle_args': toggle_args}
