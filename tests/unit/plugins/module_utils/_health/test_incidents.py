# SPDX-License-Identifier: GPL-3.0-or-later
from ansible_collections.projectdeployer.fleet.plugins.module_utils._health import incidents as inc


def flush(store, now):
    opened, resolved, reminders = inc.due(store, now)
    mail = inc.compose('u1/myapp/prod', opened, resolved, reminders, now)
    inc.mark_sent(opened, resolved, reminders, now)
    return mail


def test_one_mail_when_it_opens_and_one_when_it_resolves():
    store = {}
    assert inc.open_incident(store, 'service:api', 'api: failed', 'restarted 5 times', 0)
    assert not inc.open_incident(store, 'service:api', 'api: again', '', 5)
    assert flush(store, 10) is None                     # grouped for 30 s
    subject, body = flush(store, 30)
    assert subject == '[fleet u1/myapp/prod] INCIDENT: api: failed' and 'restarted 5 times' in body
    assert flush(store, 31) is None
    assert inc.resolve_incident(store, 'service:api', 'a good deploy', 100)
    assert not inc.resolve_incident(store, 'service:api', 'again', 101)
    assert flush(store, 120) is None
    subject, body = flush(store, 130)
    assert subject.startswith('[fleet u1/myapp/prod] RESOLVED: api: failed') and 'a good deploy' in body
    assert flush(store, 10 ** 6) is None


def test_a_blip_resolved_before_its_mail_sends_nothing():
    store = {}
    inc.open_incident(store, 'server:a', 'a: dead', '', 0)
    inc.resolve_incident(store, 'server:a', 'back', 10)
    assert flush(store, 100) is None


def test_many_at_once_make_one_digest_and_reminders_come_every_four_hours():
    store = {}
    for n in range(6):
        inc.open_incident(store, 'service:s%d' % n, 's%d: failed' % n, '', n)
    subject, body = flush(store, 40)
    assert subject == '[fleet u1/myapp/prod] DIGEST: 6 incidents opened' and body.count('- s') == 6
    assert flush(store, 40 + inc.REMIND_SECONDS - 1) is None
    assert flush(store, 40 + inc.REMIND_SECONDS)[0].startswith('[fleet u1/myapp/prod] STILL OPEN')


def test_unsent_mail_stays_due_and_old_incidents_are_forgotten():
    store = {}
    inc.open_incident(store, 'k', 's', '', 0)
    assert inc.due(store, 40)[0]          # not marked: still due at the next flush
    assert inc.due(store, 80)[0]
    inc.resolve_incident(store, 'k', '', 100)
    inc.prune(store, 100 + inc.KEEP_RESOLVED + 1)
    assert store == {}
