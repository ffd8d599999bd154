# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Show lines to a person as they are (a table, a plan, a failure), whatever the stdout callback's format."""

from __future__ import annotations

from ansible import constants as C
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.report import report_lines, shows_text

display = Display()


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(('lines', 'failed', 'msg'))

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = self._task.args
        try:
            lines = report_lines(args.get('lines'))
        except ValueError as exc:
            result.update(failed=True, msg='report: %s' % exc)
            return result
        failed = bool(args.get('failed', False))
        callback = C.config.get_config_value('DEFAULT_STDOUT_CALLBACK', variables=task_vars)
        shown = bool(lines) and shows_text(callback)
        if shown:
            display.display('\n'.join(lines), color=C.COLOR_ERROR if failed else None, stderr=False)
        result.update(changed=False, failed=failed)
        if not (failed and shown):
            # a failed result is printed whole by the callback: the block is not printed twice
            result['lines'] = lines
        if args.get('msg') or failed:
            result['msg'] = args.get('msg') or (lines[0] if lines else 'failed')
        return result
