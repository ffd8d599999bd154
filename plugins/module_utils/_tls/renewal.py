# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""When a certificate is renewed, and how long a failed attempt waits. Pure: times are datetimes (UTC).

- **By lifetime fraction**, never a fixed number of days: a certificate is due when at most a third of
  its lifetime is left (Let's Encrypt's 90 days: 30 left; 45 days: 15 left; pebble's 600 s: 200 s).
- **Earlier when the CA says so**: an ACME Renewal Information window (RFC 9773) whose start is past
  makes it due.
- **A failed attempt backs off**: 5 minutes after the first failure, doubling up to 6 hours; the
  current certificate keeps serving meanwhile. A certificate that is missing or expired is still
  retried on that schedule, never in a loop.
"""

from __future__ import annotations

import datetime

RENEW_FRACTION = 1.0 / 3
BACKOFF_FIRST = datetime.timedelta(minutes=5)
BACKOFF_MAX = datetime.timedelta(hours=6)


def renew_at(not_before, not_after, fraction=RENEW_FRACTION):
    """The moment at most ``fraction`` of the lifetime is left."""
    return not_after - (not_after - not_before) * fraction


def backoff(failures):
    """How long to wait after ``failures`` consecutive failed attempts (0: none)."""
    if failures <= 0:
        return datetime.timedelta(0)
    return min(BACKOFF_FIRST * (2 ** min(failures - 1, 16)), BACKOFF_MAX)


def decide(now, cert=None, state=None, ari_start=None):
    """What to do about one domain's certificate.

    ``cert``: ``{'not_before', 'not_after'}`` of the current certificate, or None when there is none;
    ``state``: the last attempt's record, ``{'failures': N, 'last_attempt': datetime}``;
    ``ari_start``: the start of the CA's suggested renewal window, if it gave one.

    Returns ``{'action': 'issue'|'renew'|'wait'|'keep', 'why': text, 'next': datetime or None}``:
    ``issue`` (none yet or expired) and ``renew`` (due) ask the CA now; ``wait`` is a backoff after a
    failure (``next`` is when to try again); ``keep`` needs nothing (``next`` is when it falls due).
    """
    state = state or {}
    failures = int(state.get('failures') or 0)
    retry_at = None
    if failures and state.get('last_attempt'):
        retry_at = state['last_attempt'] + backoff(failures)
    if cert is None or now >= cert['not_after']:
        why = 'no certificate yet' if cert is None else 'the certificate expired'
        if retry_at and now < retry_at:
            return {'action': 'wait', 'why': why + '; the last attempt failed', 'next': retry_at}
        return {'action': 'issue', 'why': why, 'next': None}
    due_at = renew_at(cert['not_before'], cert['not_after'])
    why = None
    if now >= due_at:
        why = 'a third of its lifetime or less is left'
    elif ari_start is not None and now >= ari_start:
        why = "the CA's renewal information asks for it"
    if why is None:
        nxt = min(due_at, ari_start) if ari_start is not None else due_at
        return {'action': 'keep', 'why': 'valid until %s' % cert['not_after'].strftime('%Y-%m-%d %H:%M UTC'),
                'next': nxt}
    if retry_at and now < retry_at:
        return {'action': 'wait', 'why': why + '; the last attempt failed', 'next': retry_at}
    return {'action': 'renew', 'why': why, 'next': None}
