# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""toggle_deploy: the module, and while a long run goes on (new versions starting and passing their health
checks, a drain) a line every 30 s that says so: ``api, worker: starting the new versions and checking their
health, 1m00s``."""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.projectdeployer.fleet.plugins.plugin_utils.progress import elapsed, run_with_progress, shown

DOING = {
    'started': 'starting the new versions and checking their health',
    'created': 'creating the new containers of their schedules',
    'cleaned': 'draining and stopping the old versions',
    'promoted': 'recording the serving slots',
    'absent': 'removing the containers',
}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = self._task.args
        entries = args.get('services')
        names = [str(e.get('service')) for e in entries if isinstance(e, dict)] if isinstance(entries, list) else \
            [str(args.get('service'))]
        doing = DOING.get(args.get('state') or 'started', 'working')

        def describe(seconds):
            return '%s: %s, %s' % (', '.join(names), doing, elapsed(seconds))

        result.update(run_with_progress(
            lambda: self._execute_module(module_name='projectdeployer.fleet.toggle_deploy', module_args=args,
                                         task_vars=task_vars),
            describe if shown(task_vars) else (lambda seconds: None)))
        return result
