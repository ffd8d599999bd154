# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The container_definition filter: a service's container, wired to its dependencies."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.wiring import (
    container_definition as _container_definition)


def container_definition(spec, service, internal_ports, secrets_dir, images=None, logins=None):
    try:
        return _container_definition(spec, service, internal_ports, secrets_dir, images, logins)
    except KeyError as exc:
        raise AnsibleFilterError('container_definition: %s is missing for service %s' % (exc, service))


class FilterModule(object):
    def filters(self):
        return {'container_definition': container_definition}
