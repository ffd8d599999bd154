# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a deploy would change on one server, looked at without changing anything.

``deploy_changes`` runs it on its own (a deploy over several servers, once every server reserved its host
ports); ``project_host``'s O(look) runs it at the end of the server's preparation (a server alone in the
play), after filling in each service's host ports and bind address, which the preparation has just reserved.
"""

from __future__ import annotations

import os
import sys

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.projectdeployer.fleet.plugins.module_utils._backup import installed as backup_installed
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.running import running_services
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.toggle_options import host_binding
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.toggler import (
    TOGGLE_OPTIONS, ToggleDeployer)
from ansible_collections.projectdeployer.fleet.plugins.module_utils._firewall.iptables import Iptables
from ansible_collections.projectdeployer.fleet.plugins.module_utils._firewall.tenant import converge_tenant
from ansible_collections.projectdeployer.fleet.plugins.module_utils._health import stamp as health_stamp
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec import naming
from ansible_collections.projectdeployer.fleet.plugins.module_utils._tenant import footprint
from ansible_collections.projectdeployer.fleet.plugins.module_utils._tenant import server as tenant_server

# The look's options (deploy_changes' own, which documents them; project_host's O(look) without firewall).
LOOK_OPTIONS = dict(
    services=dict(type='list', elements='dict', required=True),
    cron_jobs=dict(type='list', elements='dict', default=[]),
    state_dir=dict(type='path', required=True),
    prune=dict(type='dict', options=dict(
        services=dict(type='list', elements='str', required=True),
        volumes=dict(type='list', elements='str', default=[]),
        purge=dict(type='bool', default=False),
        fleet_root=dict(type='path', default='/local'),
        cron_dir=dict(type='path', default='/etc/cron.d'),
        port_state=dict(type='path'),
    )),
    backup=dict(type='dict', options=dict(
        path=dict(type='path', required=True),
        digest=dict(type='str', required=True),
        schedules=dict(type='dict', required=True),
        fleet_root=dict(type='path', required=True),
        cron_dir=dict(type='path', default='/etc/cron.d'),
    )),
    firewall=dict(type='dict', options=dict(
        ports=dict(type='list', elements='int', required=True),
        networks=dict(type='list', elements='str', required=True),
        peers=dict(type='list', elements='dict', default=[]),
    )),
    health=dict(type='dict', options=dict(
        stamp=dict(type='str', required=True),
        fleet_root=dict(type='path', required=True),
        address=dict(type='str', required=True),
        port=dict(type='int', default=9999),
    )),
)


def look_params(given, where='look'):
    """``given`` checked against LOOK_OPTIONS and completed with the defaults; ValueError naming the key."""
    result = ArgumentSpecValidator(LOOK_OPTIONS).validate(dict(given or {}))
    if result.error_messages:
        raise ValueError('%s: %s' % (where, '; '.join(result.error_messages)))
    return result.validated_parameters


def with_host_ports(services, address, host_ports):
    """Each service's toggle options with this server's bind address and its reserved host ports (the
    preparation's answer), as the toggle_args filter gives them once they are known."""
    return [dict(entry, **host_binding(entry.get('service'), address, host_ports)) for entry in services]


def cron_has(path, line):
    """Whether the file at ``path`` holds ``line`` (surrounding blanks ignored)."""
    try:
        with open(path) as handle:
            return any(existing.strip() == line.strip() for existing in handle)
    except (IOError, OSError):
        return False


def service_params(entry, top):
    """One service's toggle_deploy parameters, checked and completed with their defaults."""
    given = dict(entry, user=top['user'], project=top['project'], env=top['env'],
                 state_dir=top['state_dir'], docker_host=top['docker_host'])
    if given.get('state') not in ('started', 'created'):
        raise ValueError('services: %s: state must be started or created' % entry.get('service'))
    result = ArgumentSpecValidator(TOGGLE_OPTIONS).validate(given)
    if result.error_messages:
        raise ValueError('services: %s: %s' % (entry.get('service'), '; '.join(result.error_messages)))
    return result.validated_parameters


def prune_preview(client, top):
    """``{removed: [...], kept: [...], msg}``: the lines of what a prune to ``top['prune']`` would do here."""
    opts = top['prune']
    dummy, dummy_gone, items, lines = tenant_server.prune_plan(
        client, (top['user'], top['project'], top['env']), opts['fleet_root'], opts['cron_dir'],
        tenant_server.port_state_path(opts['fleet_root'], opts['port_state']),
        opts['services'], opts['volumes'], purge=opts['purge'])
    removed, kept = footprint.split_lines(items, lines)
    return {'removed': removed, 'kept': kept, 'msg': footprint.summary(
        removed, kept, opts['purge'], True, naming.prefix(top['user'], top['project'], top['env']))}


def backup_look(top):
    """``{backup_current, cron_present}``: whether backup_job would change nothing here, and whether cron is there."""
    opts = top['backup']
    files = backup_installed.schedule_files(opts['schedules'], '%s %s' % (sys.executable, opts['path']),
                                            top['user'], top['project'], top['env'], opts['fleet_root'],
                                            top['docker_host'], opts['cron_dir'])
    return {'backup_current': backup_installed.is_current(opts['path'], opts['digest'], files),
            'cron_present': os.path.exists('/usr/sbin/cron')}


def firewall_look(module, client, top):
    """``{firewall_current}``: whether host_firewall with ``top['firewall']`` would change nothing here (a server
    without iptables is not current: the module then says what is missing)."""
    opts = top['firewall']
    iptables = Iptables(module, required=False)
    if not iptables.save or not iptables.restore:
        return {'firewall_current': False}
    changed = converge_tenant(iptables, client, (top['user'], top['project'], top['env']), opts['ports'],
                              opts['networks'], opts['peers'], check_mode=True)
    return {'firewall_current': not changed}


def look(module, client, top):
    """Everything ``top`` (the tenant's ids, docker_host and LOOK_OPTIONS) asks, changing nothing:
    ``{changes, services}`` and, for each optional look asked, its answer."""
    changes = {}
    for entry in top['services']:
        params = service_params(entry, top)
        reason = ToggleDeployer(params, client, check_mode=True).plan()
        if reason:
            changes[params['service']] = reason
    for job in top['cron_jobs']:
        if not all(job.get(key) for key in ('service', 'path', 'line')):
            raise ValueError('cron_jobs: each entry needs service, path and line')
        if job['service'] not in changes and not cron_has(job['path'], job['line']):
            changes[job['service']] = 'its schedule is not installed'
    answer = {'changes': changes,
              'services': running_services(client, top['user'], top['project'], top['env'], top['state_dir'])}
    if top.get('prune'):
        answer['prune'] = prune_preview(client, top)
    if top.get('backup'):
        answer.update(backup_look(top))
    if top.get('firewall'):
        answer.update(firewall_look(module, client, top))
    if top.get('health'):
        opts = top['health']
        project_dir = naming.project_dir(opts['fleet_root'], top['user'], top['project'], top['env'])
        answer.update(health_current=health_stamp.is_current(project_dir, opts['stamp'], opts['address'], opts['port']),
                      cron_present=os.path.exists('/usr/sbin/cron'))
    return answer
