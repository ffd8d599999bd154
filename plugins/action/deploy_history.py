# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Append to, or read, the controller-side deployment history (JSON lines, locked)."""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.history import append_records, read_records, records_from_results


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(('path', 'user', 'project', 'env', 'host', 'outcome', 'results', 'state', 'service', 'limit'))

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = self._task.args
        path = args.get('path')
        if not path:
            result.update(failed=True, msg='deploy_history: path is required')
            return result
        if args.get('state', 'present') == 'query':
            records = read_records(path, service=args.get('service'), limit=int(args.get('limit') or 10))
            result.update(changed=False, records=records)
            return result
        records = records_from_results(args.get('results') or [], args.get('outcome', 'deployed'),
                                       dict((k, args.get(k)) for k in ('user', 'project', 'env', 'host')))
        if records and not self._task.check_mode:
            append_records(path, records)
        result.update(changed=bool(records), records=records)
        return result
