# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The status_table filter: deploy_info results of many servers as one readable table."""

from __future__ import annotations

from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.status import render, status_rows


def status_table(by_host, planned=None):
    rows = []
    for host in sorted(by_host):
        rows.extend(status_rows(host, by_host[host] or {}, planned))
    return render(rows)


class FilterModule(object):
    def filters(self):
        return {'status_table': status_table}
