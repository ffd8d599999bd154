# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A server heals its own containers: one round over a project env (the agent's and the monitor's).

For every service with a recorded serving slot (``config/deploy/{service}.json``) and that slot's
definition (``config/health/{service}.json``), the container that should serve is observed and probed
once; ``policy.decide`` says what to do, and it is done with the deploy's own code (a removed container
is recreated by ``ToggleDeployer.start``: same name, slot, port, labels and mounts). Only containers the
deploy recorded are touched: nothing without fleet labels, nothing of another env. A stateful service is
never started a second time while another container of it exists. An env whose deploy lock is held
(a deploy or a removal runs) is left alone for the round.
"""

from __future__ import annotations

import time

from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec import naming
from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.docker import DockerException, get_container
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy import health_check
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.deploy_lock import attempt
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.toggle import slot_port
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.toggler import ToggleDeployer
from ansible_collections.projectdeployer.fleet.plugins.module_utils._health import definitions, incidents, policy, store

PROBE_TIMEOUT = 5


def probe(options, slot, container):
    """``(healthy, detail)`` of one check as the deploy checks the service; healthy None when it has none."""
    spec = options.get('health') or {}
    kind = spec.get('type') or 'running'
    port = options.get('host_port') if options.get('data_path') else slot_port(options, slot)
    host = options.get('bind_address') or '127.0.0.1'
    timeout = min(float(spec.get('timeout') or PROBE_TIMEOUT), PROBE_TIMEOUT)
    if kind == 'http' and port:
        return health_check.check_http(host, port, spec.get('path') or '/', timeout, spec.get('host'))
    if kind == 'redis' and port:
        return health_check.check_redis(host, port, timeout)
    if kind == 'tcp' and port:
        return health_check.check_tcp(host, port, timeout)
    if kind == 'postgres':
        return health_check.check_postgres(container, timeout)
    return None, 'no check'


def observe(client, ids, service, record, options):
    """``(observed, container)`` of the container that should serve."""
    container = get_container(client, naming.container_name(*(ids + (service,)), slot=record['slot']))
    if container is None:
        return {'exists': False}, None
    observed = {'exists': True, 'status': container.status, 'restart_count': container.attrs.get('RestartCount', 0),
                'config_hash': container.labels.get('fleet.config_hash'), 'healthy': None, 'detail': ''}
    if container.status == 'running' and not container.attrs.get('State', {}).get('Restarting'):
        observed['healthy'], observed['detail'] = probe(options, record['slot'], container)
    return observed, container


def other_copy(client, ids, service, options):
    """A running container of a stateful service other than the one that should serve (a second copy would share
    its data directory), else None."""
    if not options.get('data_path'):
        return None
    name = naming.container_name(*(ids + (service,)), slot='primary') + '_previous'
    found = get_container(client, name)
    return found if found is not None and found.status in ('running', 'restarting') else None


def act(client, action, ids, service, record, options, container):
    """Carry out ``action``; None when done, else the error."""
    try:
        if action == 'recreate':
            if other_copy(client, ids, service, options) is not None:
                return 'another container of this stateful service runs; not starting a second copy'
            deployer = ToggleDeployer(dict(options, state='started', user=ids[0], project=ids[1], env=ids[2],
                                           service=service), client)
            deployer.start(record['slot'], record['config_hash'])
        elif action == 'start':
            container.start()
        elif action == 'restart':
            container.restart(timeout=int(options.get('stop_timeout') or 10))
        elif action == 'fail' and container is not None and container.status in ('running', 'restarting'):
            container.stop(timeout=int(options.get('stop_timeout') or 10))
    except (DockerException, OSError, ValueError) as exc:
        return str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
    return None


def heal_round(client, tenant, server='', now=None, waits=None):
    """One round over ``tenant`` (a tenant.Tenant); the actions taken, each a dict (also appended to
    ``actions.jsonl``). Returns None when a deploy holds the env's lock. ``waits`` (a list) gets the time at
    which a service waiting out its backoff may be healed, so that the caller comes back then."""
    now = time.time() if now is None else now
    limits = dict((k, v) for k, v in (tenant.config.get('heal') or {}).items() if k in policy.LIMITS)
    done = []
    with attempt(tenant.state_dir) as free:
        if not free:
            return None
        with store.locked(tenant.project_dir):
            heal = store.load(tenant.project_dir, 'heal.json')
            open_incidents = store.load(tenant.project_dir, 'incidents.json')
            for service, record, options in definitions.recorded(tenant.project_dir, tenant.state_dir):
                if not record.get('slot') or not options:
                    continue
                observed, container = observe(client, tenant.ids, service, record, options)
                if observed.get('exists') and observed['config_hash'] != record['config_hash']:
                    continue   # not what the deploy recorded: a deploy is between two steps
                action, reason, heal[service] = policy.decide(observed, heal.get(service), now,
                                                              record['config_hash'], limits=limits)
                key = 'service:%s' % service
                if action == 'wait' and waits is not None:
                    waits.append(heal[service]['next_at'])
                if action in ('none', 'wait'):
                    if action == 'none' and not heal[service]['failed'] and observed.get('status') == 'running' \
                            and observed.get('healthy') is not False:
                        incidents.resolve_incident(open_incidents, key, 'running and healthy again (%s)' % (
                            record.get('version') or record['config_hash'][:12]), now)
                    continue
                was_failed = action == 'fail' and heal[service].get('failed_at')
                error = act(client, action, tenant.ids, service, record, options, container)
                entry = {'time': now, 'server': server, 'service': service, 'action': action, 'reason': reason,
                         'slot': record['slot'], 'ok': error is None, 'error': error}
                if action == 'fail' and not was_failed:
                    heal[service]['failed_at'] = now
                    summary = '%s on %s: stopped restarting it (%s)' % (service, server or 'its server', reason)
                    incidents.open_incident(
                        open_incidents, key, summary,
                        'Its container %s was %s.\nFix: read its logs (playbooks/logs.yml -e fleet_service=%s), '
                        'then deploy a good version: a deploy starts the restart budget over.'
                        % (naming.container_name(*(tenant.ids + (service,)), slot=record['slot']),
                           'stopped' if container is not None else 'missing', service), now)
                if action != 'fail' or not was_failed:
                    done.append(entry)
                    store.append(tenant.project_dir, 'actions.jsonl', entry)
            store.save(tenant.project_dir, 'heal.json', heal)
            store.save(tenant.project_dir, 'incidents.json', open_incidents)
    return done
