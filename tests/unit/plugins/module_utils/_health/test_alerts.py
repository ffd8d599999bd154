# SPDX-License-Identifier: GPL-3.0-or-later
import json
import os

from ansible_collections.projectdeployer.fleet.plugins.module_utils._health import alerts, incidents, mail, store
from ansible_collections.projectdeployer.fleet.plugins.module_utils._health.tenant import Tenant


def make_tenant(tmp_path, alerts_settings):
    tenant = Tenant(str(tmp_path), 'u1', 'app', 'prod')
    os.makedirs(os.path.join(tenant.project_dir, 'config'))
    with open(os.path.join(tenant.project_dir, 'config', 'health.json'), 'w') as handle:
        json.dump({'alerts': alerts_settings}, handle)
    return tenant


def test_one_mail_per_incident_and_a_sink_that_is_down_keeps_it_due(tmp_path, monkeypatch):
    tenant = make_tenant(tmp_path, {'to': 'ops@x', 'smtp_host': '127.0.0.1', 'group_seconds': 3})
    found = {}
    incidents.open_incident(found, 'service:web', 'web on a: stopped restarting it', '', 0)
    store.save(tenant.project_dir, 'incidents.json', found)
    sent = []
    outcome = ['connection refused']
    monkeypatch.setattr(mail, 'send', lambda settings, password, subject, body: outcome[0] or sent.append(subject))
    assert alerts.flush(tenant, now=1) == (None, None)                      # still grouping
    assert alerts.flush(tenant, now=5) == (None, 'connection refused')      # down: stays due
    assert alerts.flush(tenant, now=6) == (None, 'connection refused')      # not tried again at once
    outcome[0] = None
    subject, error = alerts.flush(tenant, now=12)
    assert error is None and subject.startswith('[fleet u1/app/prod] INCIDENT: web on a') and sent == [subject]
    assert alerts.flush(tenant, now=20) == (None, None) and len(sent) == 1
    assert store.read_lines(tenant.project_dir, 'mails.jsonl')[0]['subject'] == subject


def test_nothing_is_mailed_without_a_recipient(tmp_path):
    tenant = make_tenant(tmp_path, {})
    found = {}
    incidents.open_incident(found, 'k', 's', '', 0)
    store.save(tenant.project_dir, 'incidents.json', found)
    assert alerts.flush(tenant, now=100) == (None, None)
