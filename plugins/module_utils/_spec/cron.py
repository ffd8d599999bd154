# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Five-field cron expressions (Vixie cron / cronie syntax), checked before they reach a crontab.

Pure, no I/O.  ``minute hour day-of-month month day-of-week``, each field a
comma list of ``*``, ``N``, ``A-B``, ``*/S`` or ``A-B/S``; month names
``jan``-``dec`` and day names ``sun``-``sat`` (any case); day-of-week 0-7 where
0 and 7 are Sunday.  The macros ``@hourly @daily @midnight @weekly @monthly
@yearly @annually`` are accepted; ``@reboot`` is refused, since a scheduled job
runs at times, not once when a server boots.
"""

from __future__ import annotations

import difflib
import re

MONTH_NAMES = ('jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec')
DAY_NAMES = ('sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat')

# name, lowest, highest, {name: number}, how the allowed values read in an error
FIELDS = (
    ('minute', 0, 59, {}, '0-59'),
    ('hour', 0, 23, {}, '0-23'),
    ('day-of-month', 1, 31, {}, '1-31'),
    ('month', 1, 12, dict((n, i) for i, n in enumerate(MONTH_NAMES, 1)), '1-12 or jan-dec'),
    ('day-of-week', 0, 7, dict((n, i) for i, n in enumerate(DAY_NAMES)), '0-7 or sun-sat (0 and 7 are Sunday)'),
)

MACROS = {
    '@hourly': '0 * * * *',
    '@daily': '0 0 * * *',
    '@midnight': '0 0 * * *',
    '@weekly': '0 0 * * 0',
    '@monthly': '0 0 1 * *',
    '@yearly': '0 0 1 1 *',
    '@annually': '0 0 1 1 *',
}

# The longest month each month can be (February in a leap year).
MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

_ITEM_RE = re.compile(r'^(?P<range>\*|[^-/]+(?:-[^-/]+)?)(?:/(?P<step>[^/]*))?$')


class CronError(ValueError):
    """A cron expression that cron would refuse or that can never run."""


def _number(text, field):
    name, low, high, names, allowed = field
    value = names.get(text.lower())
    if value is None:
        if not text.isdigit():
            kind = 'a number or a name' if names else 'a number'
            raise CronError("%s '%s' is not %s: %s allows %s" % (name, text, kind, name, allowed))
        value = int(text)
    if not low <= value <= high:
        raise CronError("%s '%s' is out of range: %s allows %s" % (name, text, name, allowed))
    return value


def _item(text, field):
    """The set of values one comma-separated item of a field selects."""
    name, low, high, _names, allowed = field
    match = _ITEM_RE.match(text)
    if not match:
        raise CronError("%s item '%s' is not N, A-B, */S or A-B/S: %s allows %s" % (name, text, name, allowed))
    part, step_text = match.group('range'), match.group('step')
    if part == '*':
        start, end = low, high
    elif '-' in part:
        start, end = (_number(p, field) for p in part.split('-'))
        if start > end:
            raise CronError("%s range '%s' runs backwards: %s allows %s, start before end"
                            % (name, part, name, allowed))
    else:
        start = end = _number(part, field)
        if step_text is not None:
            raise CronError("%s item '%s' has a step without a range: write '%s-%d/%s' or '*/%s' (%s allows %s)"
                            % (name, text, part, high, step_text, step_text, name, allowed))
    step = 1
    if step_text is not None:
        if not step_text.isdigit() or not 1 <= int(step_text) <= high:
            raise CronError("%s step '%s' in '%s' must be a number from 1 to %d (%s allows %s)"
                            % (name, step_text, text, high, name, allowed))
        step = int(step_text)
    return set(range(start, end + 1, step))


def _field(text, field):
    values = set()
    for item in text.split(','):
        if not item:
            raise CronError("%s '%s' has an empty list item: %s allows %s"
                            % (field[0], text, field[0], field[4]))
        values |= _item(item, field)
    return values


def _check_runs(texts, values):
    """Refuse a day-of-month that none of the chosen months has (``0 0 31 2 *`` never runs)."""
    dom_text, month_text, dow_text = texts[2], texts[3], texts[4]
    if dom_text == '*' or month_text == '*' or dow_text != '*':
        return
    longest = max(MONTH_DAYS[m - 1] for m in values[3])
    if min(values[2]) > longest:
        raise CronError("day-of-month '%s' never occurs in month '%s', so the job would never run: "
                        "day-of-month allows 1-%d in those months" % (dom_text, month_text, longest))


def parse(expr):
    """Return the five fields as lists of selected numbers; raise CronError (one line) if invalid."""
    fields = cron_fields(expr)
    values = [_field(text, field) for text, field in zip(fields, FIELDS)]
    _check_runs(fields, values)
    return [sorted(v) for v in values]


def cron_fields(expr):
    """The five field texts of ``expr`` with a macro expanded (``@daily`` -> ``0 0 * * *``).

    Only the shape is checked here; :func:`parse` and :func:`cron_error` check the values.
    """
    if not isinstance(expr, str):
        raise CronError('a cron expression must be a string, got %s' % type(expr).__name__)
    text = expr.strip()
    if not text:
        raise CronError('the cron expression is empty')
    if text.startswith('@'):
        return MACROS[_macro(text)].split()
    fields = text.split()
    if len(fields) != 5:
        raise CronError('it has %d fields, cron needs 5: minute hour day-of-month month day-of-week '
                        '(no seconds, no year)' % len(fields))
    return fields


def _macro(text):
    macro = text.lower()
    if macro == '@reboot':
        raise CronError('@reboot runs once when a server boots, not on a schedule: '
                        'use a time such as @daily or 0 3 * * *')
    if macro not in MACROS:
        close = difflib.get_close_matches(macro, sorted(MACROS), n=1)
        hint = ' (did you mean %s?)' % close[0] if close else ''
        raise CronError("unknown macro '%s'%s: the macros are %s" % (text, hint, ' '.join(sorted(MACROS))))
    return macro


def cron_error(expr):
    """Return a one-line reason why ``expr`` is not a valid schedule, or None."""
    try:
        parse(expr)
    except CronError as exc:
        return str(exc)
    return None
