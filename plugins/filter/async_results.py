# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The async_results filter: the results of looped async jobs, as if the loop had run in the foreground."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

JOB_KEYS = ('ansible_job_id', 'finished', 'started', 'results_file', 'attempts', 'ansible_loop_var', 'stdout',
            'stderr', 'stdout_lines', 'stderr_lines')


def async_results(results, loop_var='item', ok_key=None):
    """From an ``async_status`` loop over the jobs of a looped async task, the module results of the
    jobs, each with ``item`` set back to the original loop item (failed ones keep ``failed`` and ``msg``).

    ``ok_key``: a key every successful result of the module has. With it, a result without the key is
    failed even when the waiting task ran with ``failed_when: false`` (which sets ``failed`` to false),
    so a deploy can report a failed job once, in its own words, instead of as the wait's failure.
    """
    out = []
    for res in results or []:
        try:
            job = res[loop_var]
            original = job[job.get('ansible_loop_var', 'item')]
        except (KeyError, TypeError) as exc:
            raise AnsibleFilterError('async_results: not an async_status loop result (%s)' % exc)
        merged = dict((k, v) for k, v in res.items() if k not in JOB_KEYS and k != loop_var)
        merged['item'] = original
        if ok_key and ok_key not in merged:
            merged['failed'] = True
            merged.setdefault('msg', '%s: the job ended without a result' % original)
        merged.pop('failed_when_result', None)
        out.append(merged)
    return out


class FilterModule(object):
    def filters(self):
        return {'async_results': async_results}
