# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The certificates' table of status.yml: per domain the issuer, expiry, days left, next renewal, last error."""

from __future__ import annotations

import re

from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.text_table import text_table

HEADERS = ('domain', 'mode', 'issuer', 'not after', 'days left', 'next renewal', 'last error')


def _issuer(text):
    """The issuer's common name (``CN=R11,O=Let's Encrypt,C=US`` -> ``R11``), else the whole name."""
    match = re.search(r'(?:^|,)CN=([^,]+)', text or '')
    return match.group(1) if match else (text or '-')


def _next(row):
    if row['action'] in ('issue', 'renew'):
        return 'now (%s)' % row['why']
    if row['action'] == 'wait':
        return '%s (backoff after %d failures)' % (row['next'], row['failures'])
    return row['next'] or '-'


def _left(days):
    """Days with one decimal; under a day, hours and minutes (short-lived certificates)."""
    if days is None:
        return '-'
    if days >= 1 or days <= 0:
        return '%.1f' % days
    minutes = int(days * 1440)
    return '%dh%02dm' % (minutes // 60, minutes % 60)


def certificate_table(rows):
    """Lines of the table for ``tls_certificate``'s planned ``certificates``."""
    body = []
    for row in rows:
        error = ' '.join((row.get('last_error') or '-').split())
        body.append((row['domain'], row['mode'], _issuer(row['issuer']) if row['issuer'] else 'none yet',
                     row['not_after'] or '-', _left(row['days_left']),
                     _next(row), error if len(error) <= 80 else error[:77] + '...'))
    return text_table(HEADERS, body)
