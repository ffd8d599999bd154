# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""tls_certificate: a tenant's certificates in the controller's store (in-process, no module run)."""

from __future__ import annotations

import datetime

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase

from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.history import append_records
from ansible_collections.projectdeployer.fleet.plugins.module_utils._tls import renewal, store
from ansible_collections.projectdeployer.fleet.plugins.module_utils._tls.table import certificate_table

ARGUMENT_SPEC = dict(
    path=dict(type='path', required=True),
    state=dict(type='str', default='planned', choices=['planned', 'installed', 'failed']),
    domains=dict(type='list', elements='dict', default=[], options=dict(
        domain=dict(type='str', required=True),
        mode=dict(type='str', required=True, choices=['letsencrypt', 'self-signed']),
    )),
    domain=dict(type='str'),
    mode=dict(type='str', choices=['letsencrypt', 'self-signed']),
    error=dict(type='str', default=''),
    force=dict(type='bool', default=False),
    early=dict(type='list', elements='str', default=[]),
    events=dict(type='path'),
)


def _time(value):
    return value.strftime(store.TIME_FORMAT) if value else None


def _row(path, entry, now, force=False, early=()):
    domain = entry['domain']
    cert = store.read_current(path, domain)
    state = store.read_state(path, domain)
    decision = renewal.decide(now, cert, state, now if domain in early else None)
    if force and decision['action'] in ('keep', 'wait'):
        decision = {'action': 'renew' if cert else 'issue', 'why': 'asked for (fleet_tls_force)', 'next': None}
    row = {'domain': domain, 'mode': entry['mode'], 'action': decision['action'], 'why': decision['why'],
           'next': _time(decision['next']), 'failures': int(state.get('failures') or 0),
           'last_error': state.get('last_error') or '', 'issuer': None, 'not_after': None, 'serial': None,
           'days_left': None, 'path': store.pem_path(path, domain)}
    if cert:
        row.update(issuer=cert['issuer'], not_after=_time(cert['not_after']), serial=cert['serial'],
                   days_left=round((cert['not_after'] - now).total_seconds() / 86400.0, 4))
    return row


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        checked = ArgumentSpecValidator(ARGUMENT_SPEC).validate(self._task.args)
        if checked.error_messages:
            result.update(failed=True, msg='tls_certificate: %s' % '; '.join(checked.error_messages))
            return result
        p = checked.validated_parameters
        if not store.HAS_CRYPTOGRAPHY:
            result.update(failed=True, msg='tls_certificate needs the Python library cryptography on the '
                          'controller; fix: pip install cryptography (community.crypto needs it too)')
            return result
        now = datetime.datetime.now(datetime.timezone.utc)
        if p['state'] == 'planned':
            rows = [_row(p['path'], entry, now, p['force'], p['early'])
                    for entry in sorted(p['domains'], key=lambda e: e['domain'])]
            result.update(changed=False, certificates=rows, table=certificate_table(rows),
                          due=[r['domain'] for r in rows if r['action'] in ('issue', 'renew')])
            return result
        if not p['domain'] or not p['mode']:
            result.update(failed=True, msg='tls_certificate: state=%s needs domain and mode' % p['state'])
            return result
        if self._task.check_mode:
            result.update(changed=True)
            return result
        try:
            event = {'time': _time(now), 'domain': p['domain'], 'mode': p['mode']}
            if p['state'] == 'installed':
                cert = store.install(p['path'], p['domain'], p['mode'], now)
                result.update(changed=True, serial=cert['serial'], not_after=_time(cert['not_after']),
                              issuer=cert['issuer'])
                event.update(event='issued', serial=cert['serial'], not_after=result['not_after'], issuer=cert['issuer'])
            else:
                state = store.record_failure(p['path'], p['domain'], p['mode'], now, p['error'])
                result.update(changed=True, failures=state['failures'],
                              next=_time(now + renewal.backoff(state['failures'])))
                event.update(event='failed', error=p['error'], failures=state['failures'], next=result['next'])
            if p['events']:
                append_records(p['events'], [event])
        except (store.StoreError, OSError) as exc:
            result.update(failed=True, msg=str(exc))
        return result
