# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The async_results filter: the results of looped async jobs, as if the loop had run in the foreground."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

JOB_KEYS = ('ansible_job_id', 'finished', 'started', 'results_file', 'attempts', 'ansible_loop_var', 'stdout',
            'stderr', 'stdout_lines', 'stderr_lines')


def async_results(results, loop_var='item'):
    """From an ``async_status`` loop over the jobs of a looped async task, the module results of the
    jobs, each with ``item`` set back to the original loop item (failed ones keep ``failed`` and ``msg``)."""
    out = []
    for res in results or []:
        try:
            job = res[loop_var]
            original = job[job.get('ansible_loop_var', 'item')]
        except (KeyError, TypeError) as exc:
            raise AnsibleFilterError('async_results: not an async_status loop result (%s)' % exc)
        merged = dict((k, v) for k, v in res.items() if k not in JOB_KEYS and k != loop_var)
        merged['item'] = original
        out.append(merged)
    return out


class FilterModule(object):
    def filters(self):
        return {'async_results': async_results}
