# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A failed startup group, told once: one block a person reads top to bottom.

For each service of the group: what failed and what serves now (the toggle's own words), then
its highlighted log lines in their order; the services that started but were discarded with the
group, and whether their previous version still serves; last, what to do.
"""

from __future__ import annotations

INDENT = '    '


def _serving_after_discard(result):
    if result.get('previous_slot'):
        return 'its previous version keeps serving'
    return 'nothing served it before this deploy, so nothing serves it now'


def failure_lines(results, group, services=None, error=None, logs_hint=None):
    """The lines of the block for startup group ``group`` (1-based) from the toggle results.

    ``results`` are toggle_deploy results with ``item`` (the service); ``error`` is a failure that no
    result carries (the run itself broke); ``logs_hint`` is the command that shows a service's logs.
    """
    results = results or []
    failed = [r for r in results if r.get('failed')]
    discarded = [r for r in results if not r.get('failed') and r.get('action') in ('started', 'resumed')]
    names = services or [r.get('item') for r in results]
    lines = ['DEPLOY FAILED in startup group %d (%s): no service of the group was switched'
             % (group, ', '.join(str(n) for n in names) or 'no service')]
    for result in failed:
        lines.append('- %s' % (result.get('msg') or '%s failed' % result.get('item')))
        lines.extend(INDENT + line for line in result.get('error_lines') or [])
    for result in discarded:
        lines.append('- %s: started and passed its check, then discarded with its group; %s'
                     % (result.get('item'), _serving_after_discard(result)))
    if error:
        lines.append('- %s' % error)
    first = failed[0].get('item') if failed else None
    fix = 'fix: correct what the lines above show, then deploy again'
    if first and logs_hint:
        fix += '; all of a service\'s logs: %s' % logs_hint.replace('SERVICE', str(first))
    lines.append(fix)
    return lines


def failure_summary(results, group, error=None):
    """The one line the failed task itself says, after the block."""
    failed = [str(r.get('item')) for r in (results or []) if r.get('failed')]
    if failed:
        return 'startup group %d failed: %s (the block above says why and what serves)' % (group, ', '.join(failed))
    return 'startup group %d failed: %s' % (group, error or 'see the block above')
