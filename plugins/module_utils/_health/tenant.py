# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The project envs a server's agent looks after, and what it knows of each.

A project env is looked after when the deploy wrote its ``config/health.json`` (``health_agent``
module): ``{'server', 'address', 'servers': [{'name', 'address', 'joined'}], 'port', 'alerts': {...}}``.
Its agent keys are ``secrets/health_agent.key`` and, during a rotation, ``secrets/health_agent.key.previous``.
"""

from __future__ import annotations

import json
import os

from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec import naming

CONFIG = os.path.join('config', 'health.json')
KEY = os.path.join('secrets', 'health_agent.key')
SMTP_PASSWORD = os.path.join('secrets', 'alert_smtp_password')


class Tenant(object):
    def __init__(self, fleet_root, user, project, env):
        naming.check_ids(user=user, project=project, env=env)
        self.ids = (user, project, env)
        self.name = '%s/%s/%s' % self.ids
        self.project_dir = naming.project_dir(fleet_root, user, project, env)
        self.state_dir = os.path.join(self.project_dir, 'config', 'deploy')

    @property
    def config(self):
        try:
            with open(os.path.join(self.project_dir, CONFIG)) as handle:
                data = json.load(handle)
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def keys(self):
        keys = []
        for path in (KEY, KEY + '.previous'):
            try:
                with open(os.path.join(self.project_dir, path)) as handle:
                    keys.append(handle.read().strip())
            except OSError:
                continue
        return [k for k in keys if k]

    def smtp_password(self):
        try:
            with open(os.path.join(self.project_dir, SMTP_PASSWORD)) as handle:
                return handle.read().strip()
        except OSError:
            return ''


def tenants(fleet_root):
    """Every looked-after project env under ``fleet_root``, in name order."""
    found = []
    for user in _dirs(fleet_root):
        for project in _dirs(os.path.join(fleet_root, user)):
            for env in _dirs(os.path.join(fleet_root, user, project)):
                if not (naming.USER_RE.match(user) and naming.PROJECT_RE.match(project) and naming.ENV_RE.match(env)):
                    continue
                if os.path.isfile(os.path.join(fleet_root, user, project, env, CONFIG)):
                    found.append(Tenant(fleet_root, user, project, env))
    return found


def find(fleet_root, name):
    """The looked-after tenant called ``u/p/e``, or None."""
    for tenant in tenants(fleet_root):
        if tenant.name == name:
            return tenant
    return None


def _dirs(path):
    try:
        return sorted(n for n in os.listdir(path) if not n.startswith('.') and os.path.isdir(os.path.join(path, n)))
    except OSError:
        return []
