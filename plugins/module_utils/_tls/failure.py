# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A certificate that could not be had, as one block a person reads: the domain, the CA's words, what
serves meanwhile, when the next attempt comes, and the fix where the error says which one. Pure."""

from __future__ import annotations

import re

# (pattern of the CA's or the client's words, the fix)
FIXES = (
    (r'rateLimited|too many (certificates|orders|failed)',
     "the CA's rate limit: wait for the time it names (the next deploy or playbooks/tls.yml retries after the backoff); "
     'test against the staging directory (fleet_acme_directory) meanwhile'),
    (r'badNonce', 'the CA kept refusing the request nonce; run playbooks/tls.yml again'),
    (r'urn:ietf:params:acme:error:(dns|connection|unauthorized|incorrectResponse)|NXDOMAIN|no valid A records|'
     r'Timeout during connect|Fetching http',
     "the CA could not reach this name's port 80 on the servers: point the domain's DNS (A record) at the servers "
     'that serve it, open port 80 to the internet, then deploy again'),
    (r'(Failed to (retrieve|fetch|connect)|Connection refused|Name or service not known|'
     r'CERTIFICATE_VERIFY_FAILED|timed out|Request failed)',
     'the ACME directory did not answer: check fleet_acme_directory (and fleet_acme_ca_bundle for a private CA) '
     'and that the controller reaches it'),
)


def fix_for(error):
    for pattern, fix in FIXES:
        if re.search(pattern, error or '', re.I):
            return fix
    return None


def failure_lines(failed, rows=()):
    """The block for ``failed`` (``{domain, mode, first, error, next}`` each); ``rows`` are the plan's rows
    (``tls_certificate`` ``certificates``), for the current certificate's expiry."""
    current = dict((row['domain'], row) for row in rows or ())
    lines = []
    for entry in failed:
        domain = entry['domain']
        lines.append('HTTPS: no new certificate for %s (ssl_mode %s)' % (domain, entry.get('mode')))
        error = ' '.join((entry.get('error') or 'no message').split())
        lines.append('  error: %s' % (error if len(error) <= 600 else error[:600] + ' ...'))
        row = current.get(domain) or {}
        if entry.get('first') or not row.get('not_after'):
            lines.append('  meanwhile: %s is served over HTTP (no certificate yet)' % domain)
        else:
            lines.append('  meanwhile: the current certificate keeps serving (valid until %s)' % row['not_after'])
        if entry.get('next'):
            lines.append('  next attempt: after %s (a deploy or playbooks/tls.yml; failures back off)' % entry['next'])
        fix = fix_for(entry.get('error'))
        if fix:
            lines.append('  fix: %s' % fix)
    return lines
