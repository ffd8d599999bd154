# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The tls_domains filter: the domains a deploy serves over HTTPS, and how each gets its certificate."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.projectdeployer.fleet.plugins.module_utils._mesh.routes import TLS_MODES


def tls_domains(rows, services=None):
    """``[{'domain', 'mode'}]`` of the plan rows with a domain and an ``ssl_mode`` the edge serves HTTPS for,
    of ``services`` only when given, sorted by domain."""
    try:
        return sorted(({'domain': row['domain'], 'mode': row['ssl_mode']} for row in rows
                       if row.get('domain') and row.get('ssl_mode') in TLS_MODES
                       and (services is None or row['service'] in services)), key=lambda entry: entry['domain'])
    except (KeyError, TypeError) as exc:
        raise AnsibleFilterError('tls_domains: the rows are not plan rows (%s)' % exc)


class FilterModule(object):
    def filters(self):
        return {'tls_domains': tls_domains}
