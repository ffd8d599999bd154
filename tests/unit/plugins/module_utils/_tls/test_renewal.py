# SPDX-License-Identifier: GPL-3.0-or-later
"""When a certificate is renewed: lifetime fraction, the CA's window, the backoff (pure)."""
import datetime

from ansible_collections.projectdeployer.fleet.plugins.module_utils._tls import renewal

T0 = datetime.datetime(2026, 12, 1, tzinfo=datetime.timezone.utc)
DAY = datetime.timedelta(days=1)


def cert(days):
    return {'not_before': T0, 'not_after': T0 + days * DAY}


def test_due_when_a_third_of_the_lifetime_is_left_whatever_the_lifetime():
    for days in (90, 64, 45, 6):
        due = T0 + days * DAY * 2 / 3
        assert renewal.decide(due - datetime.timedelta(seconds=1), cert(days))['action'] == 'keep'
        assert renewal.decide(due, cert(days))['action'] == 'renew'
    assert renewal.decide(T0 + 10 * DAY, cert(90))['next'] == T0 + 60 * DAY


def test_no_certificate_or_an_expired_one_is_issued():
    assert renewal.decide(T0, None) == {'action': 'issue', 'why': 'no certificate yet', 'next': None}
    assert renewal.decide(T0 + 91 * DAY, cert(90))['action'] == 'issue'


def test_the_cas_renewal_window_comes_first():
    ari = T0 + 20 * DAY
    assert renewal.decide(T0 + 19 * DAY, cert(90), ari_start=ari) == {
        'action': 'keep', 'why': 'valid until 2027-03-01 00:00 UTC', 'next': ari}
    decision = renewal.decide(T0 + 21 * DAY, cert(90), ari_start=ari)
    assert decision['action'] == 'renew' and 'renewal information' in decision['why']


def test_a_failure_backs_off_from_minutes_to_hours():
    assert [renewal.backoff(n).total_seconds() / 60 for n in range(0, 9)] == [0, 5, 10, 20, 40, 80, 160, 320, 360]
    assert renewal.backoff(1000) == renewal.BACKOFF_MAX
    now = T0 + 70 * DAY
    state = {'failures': 3, 'last_attempt': now - datetime.timedelta(minutes=10)}
    decision = renewal.decide(now, cert(90), state)
    assert decision['action'] == 'wait' and decision['next'] == now + datetime.timedelta(minutes=10)
    assert renewal.decide(now + datetime.timedelta(minutes=10), cert(90), state)['action'] == 'renew'
    assert renewal.decide(now, None, state)['action'] == 'wait'
