# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters for the seed's port math (the same functions the port_hash module uses)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.naming import check_ids
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.ports import (
    hashed_host_port, hashed_internal_port, secondary_port)


def _ids(service):
    if not isinstance(service, dict):
        raise AnsibleFilterError('expected a dict with user, project, env and service, got %s'
                                 % type(service).__name__)
    try:
        ids = dict((k, service[k]) for k in ('user', 'project', 'env', 'service'))
        check_ids(**ids)
    except KeyError as exc:
        raise AnsibleFilterError('missing key %s: give user, project, env and service' % exc)
    except ValueError as exc:
        raise AnsibleFilterError(str(exc))
    return ids


def host_port(service, container_port=None, slot='primary'):
    """``{'user': 'u1', ...} | projectdeployer.fleet.host_port(8000)``: the hashed host port."""
    ids = _ids(service)
    port = container_port if container_port is not None else service.get('container_port')
    if port is None:
        raise AnsibleFilterError('give container_port, as the argument or as a key')
    base = hashed_host_port(ids['user'], ids['project'], ids['env'], ids['service'], port)
    if slot not in ('primary', 'secondary'):
        raise AnsibleFilterError('slot must be primary or secondary, got %r' % (slot,))
    return secondary_port(base) if slot == 'secondary' else base


def internal_port(service):
    """``{'user': 'u1', ...} | projectdeployer.fleet.internal_port``: the hashed internal port."""
    ids = _ids(service)
    return hashed_internal_port(ids['user'], ids['project'], ids['env'], ids['service'])


class FilterModule(object):
    def filters(self):
        return {'host_port': host_port, 'internal_port': internal_port}
