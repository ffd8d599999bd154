# SPDX-License-Identifier: GPL-3.0-or-later
"""What a person reads about certificates: the failure block and the status table (pure)."""
from ansible_collections.projectdeployer.fleet.plugins.module_utils._tls.failure import failure_lines, fix_for
from ansible_collections.projectdeployer.fleet.plugins.module_utils._tls.table import certificate_table


def test_a_first_failure_says_http_serves_and_the_fix():
    lines = failure_lines([{'domain': 'api.example.com', 'mode': 'letsencrypt', 'first': True, 'next': 'T',
                            'error': 'Failed to validate challenge: urn:ietf:params:acme:error:connection: '
                                     'Timeout during connect'}])
    assert lines[0] == 'HTTPS: no new certificate for api.example.com (ssl_mode letsencrypt)'
    assert 'served over HTTP' in lines[2]
    assert 'next attempt: after T' in lines[3]
    assert 'point the domain\'s DNS' in lines[4]


def test_a_failed_renewal_says_the_current_certificate_serves():
    rows = [{'domain': 'a.example.com', 'not_after': '2027-01-01T00:00:00Z'}]
    lines = failure_lines([{'domain': 'a.example.com', 'mode': 'letsencrypt', 'first': False,
                            'error': 'urn:ietf:params:acme:error:rateLimited: too many certificates'}], rows)
    assert 'keeps serving (valid until 2027-01-01T00:00:00Z)' in lines[2]
    assert "rate limit" in lines[-1]


def test_fixes_are_only_given_where_the_error_tells():
    assert 'fleet_acme_directory' in fix_for('Failed to retrieve directory: Connection refused')
    assert fix_for('something odd') is None


def test_the_table():
    rows = [{'domain': 'a.example.com', 'mode': 'letsencrypt', 'issuer': "CN=R11,O=Let's Encrypt,C=US",
             'not_after': '2027-01-01T00:00:00Z', 'days_left': 26.04, 'action': 'keep', 'why': 'valid',
             'next': '2026-12-02T00:00:00Z', 'failures': 0, 'last_error': ''},
            {'domain': 'b.example.com', 'mode': 'self-signed', 'issuer': None, 'not_after': None, 'days_left': None,
             'action': 'wait', 'why': 'no certificate yet', 'next': '2026-12-06T10:05:00Z', 'failures': 2,
             'last_error': 'boom'},
            {'domain': 'c.example.com', 'mode': 'letsencrypt', 'issuer': 'CN=Pebble', 'not_after': 'x',
             'days_left': 0.005, 'action': 'keep', 'why': 'v', 'next': 'y', 'failures': 0, 'last_error': ''}]
    lines = certificate_table(rows)
    assert lines[0].split() == ['domain', 'mode', 'issuer', 'not', 'after', 'days', 'left', 'next', 'renewal',
                                'last', 'error']
    assert lines[2].split()[:5] == ['a.example.com', 'letsencrypt', 'R11', '2027-01-01T00:00:00Z', '26.0']
    assert 'none yet' in lines[3] and '(backoff after 2 failures)' in lines[3] and lines[3].endswith('boom')
    assert ' 0h07m ' in lines[4]
