#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: health_agent
short_description: Install the health agent and monitor on a fleet server, and look after a project env there
version_added: 0.6.0
description:
  - Writes the health agent's program (one zip, C({fleet_root}/.fleet/lib/fleet-health.zip), the collection's own
    code), its settings (C({fleet_root}/.fleet/agent/agent.json)), its systemd unit (C(fleet-agent.service) in
    O(systemd_dir)) and the monitor's cron file (C(fleet-health-monitor) in O(cron_dir), every minute).
  - The agent listens on O(address) (the server's VPC address) and O(port) only; it refuses to start on a wildcard
    or public address (O(refuse) names the server's public ones). See docs/health.md.
  - With O(user), O(project) and O(env) the project env is looked after on this server - C(config/health.json)
    (its servers, the alert settings), its agent key and the SMTP password in C(secrets/) (0600).
  - Each file is written only when it differs. RV(restart) says the agent must be restarted (its program or
    settings changed); the deploy role does it with systemd. A host without systemd must run the unit's
    C(ExecStart) itself (the test world's supervisor does, and restarts it when the unit changes).
author:
  - Fleet Developers (@projectdeployer)
extends_documentation_fragment:
  - projectdeployer.fleet._attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  idempotent:
    support: full
options:
  fleet_root:
    description: The fleet root on the server.
    type: path
    default: /local
  state:
    description:
      - V(present) installs and looks after the project env; V(absent) with O(user), O(project) and O(env) stops looking
        after it here (its C(config/health.json) and agent key go), and without them removes the agent itself - its
        program, settings, unit and cron file - when no project env is looked after here any more (RV(tenants_left)).
        Stop the agent (systemd) before removing its unit.
    type: str
    choices: [present, absent]
    default: present
  address:
    description: The VPC address the agent listens on (required with O(state=present)).
    type: str
  port:
    description: The agent's port (C(fleet_agent_port)).
    type: int
    default: 9999
  refuse:
    description: Addresses the agent must never listen on (the server's public ones).
    type: list
    elements: str
    default: []
  events:
    description: Heal on Docker's events (an exit or removal acted on within seconds). Off, the monitor heals once a minute.
    type: bool
    default: true
  sweep_seconds:
    description: A heal round every this many seconds besides the events (0, events only).
    type: int
    default: 30
  peer_watch_seconds:
    description:
      - The agent knocks on every peer's agent port this often; this server's edge and sidecar connections to a peer
        silent twice in a row are cut, so nginx retries elsewhere at once instead of waiting out its read timeout.
      - 0 turns the peer watch off.
    type: float
    default: 1
  docker_host:
    description: The Docker engine the agent and the monitor talk to.
    type: str
    default: unix:///var/run/docker.sock
  systemd_dir:
    description: Where the systemd unit goes.
    type: path
    default: /etc/systemd/system
  cron_dir:
    description: Where the monitor's cron file goes.
    type: path
    default: /etc/cron.d
  monitor_schedule:
    description: The monitor's cron schedule (five fields).
    type: str
    default: '* * * * *'
  user:
    description: The tenant's user (with O(project) and O(env)).
    type: str
  project:
    description: The project.
    type: str
  env:
    description: The environment.
    type: str
  server:
    description: This server's name (the inventory host), in verdicts and mails.
    type: str
  servers:
    description: Every server of the project env, its name (the inventory host) to its VPC address, this one included.
    type: dict
    default: {}
  grace_seconds:
    description: How long a server is not judged dead after the monitor first saw it.
    type: int
    default: 600
  dead_after_misses:
    description: A peer is judged dead after this many one-minute rounds in a row missed by a strict majority of its peers.
    type: int
    default: 3
  heal_limits:
    description:
      - Changes to the healing limits (docs/health.md) - C(backoff_start) (10 s), C(backoff_max) (300 s), C(budget)
        (5 restarts), C(window) (600 s). The tests shorten them; production keeps the defaults.
    type: dict
    default: {}
  key:
    description: The project env's agent key (from the controller's C(secrets/health_agent.key)).
    type: str
  previous_key:
    description: The key before a rotation, still accepted until the next deploy leaves it out.
    type: str
  alerts:
    description:
      - Alert mail settings - C(to) (the seed's ADMIN_EMAIL), C(from), C(smtp_host), C(smtp_port), C(starttls),
        C(user), C(ca_file), C(group_seconds) (30). Without C(to) and C(smtp_host) incidents are recorded, not mailed.
    type: dict
    default: {}
  smtp_password:
    description: The SMTP password (kept in C(secrets/alert_smtp_password), 0600).
    type: str
  stamp:
    description:
      - A stamp of this task's inputs, made by the controller (P(projectdeployer.fleet.inputs_stamp#filter), keyed by
        O(key)). With O(user), it is recorded after the install with the sha256 of every file installed
        (C(config/health.stamp.json) of the project env, 0600), so that M(projectdeployer.fleet.deploy_changes) can
        tell a later deploy that this task would change nothing (its O(projectdeployer.fleet.deploy_changes#module:health)).
    type: str
    version_added: 0.6.0
requirements:
  - docker (the Docker SDK for Python) on the host, for the agent and monitor to run
'''

EXAMPLES = r'''
- name: Look after u1/myapp/prod on this server
  projectdeployer.fleet.health_agent:
    address: 10.110.0.2
    refuse: [203.0.113.10]
    user: u1
    project: myapp
    env: prod
    server: web-1
    servers: {web-1: 10.110.0.2, web-2: 10.110.0.3}
    key: "{{ lookup('ansible.builtin.file', '/local/u1/myapp/prod/secrets/health_agent.key') }}"
    alerts: {to: ops@example.com, smtp_host: smtp.example.com}
  register: agent
'''

RETURN = r'''
restart:
  description: The agent's program or settings changed, so a running agent must be restarted.
  returned: always
  type: bool
unit:
  description: The systemd unit's path.
  returned: always
  type: str
  sample: /etc/systemd/system/fleet-agent.service
systemd:
  description: Whether systemd runs this server (C(/run/systemd/system) exists).
  returned: always
  type: bool
cron_present:
  description: Whether C(/usr/sbin/cron) is on the server (the role installs cron when it is not).
  returned: always
  type: bool
installed:
  description: Whether the agent's unit file is there (after the run).
  returned: always
  type: bool
tenants_left:
  description: How many project envs the agent still looks after here.
  returned: always
  type: int
command:
  description: The program's command line up to its arguments.
  returned: always
  type: str
  sample: /usr/bin/python3 /local/.fleet/lib/fleet-health.zip
'''

import hashlib
import os
import shutil
import sys

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.projectdeployer.fleet.plugins.module_utils._common import program_zip
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.host_files import ensure_file
from ansible_collections.projectdeployer.fleet.plugins.module_utils._health import install, policy, program, stamp
from ansible_collections.projectdeployer.fleet.plugins.module_utils._health import tenant as tenants
from ansible_collections.projectdeployer.fleet.plugins.module_utils._health.agent import check_address
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec import naming


def install_server(p, check_mode):
    """The program, settings, unit and cron file; ``(changed, restart, command, unit_path)``."""
    path = os.path.join(p['fleet_root'], '.fleet', 'lib', 'fleet-health.zip')
    data = program_zip.build_zip(program.sources())
    program_changed, digest = program_zip.install(path, data, check_mode)
    settings_path = os.path.join(p['fleet_root'], '.fleet', 'agent', 'agent.json')
    settings = install.agent_settings(p['fleet_root'], p['address'], p['port'], p['refuse'], p['events'],
                                      p['sweep_seconds'], p['peer_watch_seconds'], p['docker_host'])
    if not check_mode:
        os.makedirs(os.path.dirname(settings_path), 0o700, exist_ok=True)
    settings_changed = ensure_file(settings_path, settings, mode=0o600, check_mode=check_mode)
    unit_digest = hashlib.sha256((digest + settings).encode('utf-8')).hexdigest()[:16]
    unit_path = os.path.join(p['systemd_dir'], install.UNIT_NAME)
    unit_changed = ensure_file(unit_path, install.unit(sys.executable, path, settings_path, unit_digest), mode=0o644,
                               check_mode=check_mode)
    cron_changed = ensure_file(os.path.join(p['cron_dir'], install.CRON_NAME),
                               install.cron_file(p['monitor_schedule'], sys.executable, path, p['fleet_root'],
                                                 p['docker_host'],
                                                 os.path.join(p['fleet_root'], '.fleet', 'agent', 'monitor.log')),
                               mode=0o644, check_mode=check_mode)
    changed = program_changed or settings_changed or unit_changed or cron_changed
    return changed, program_changed or settings_changed or unit_changed, '%s %s' % (sys.executable, path), unit_path


def install_tenant(p, check_mode):
    """The project env's config/health.json and secrets; True when one changed."""
    naming.check_ids(user=p['user'], project=p['project'], env=p['env'])
    project_dir = naming.project_dir(p['fleet_root'], p['user'], p['project'], p['env'])
    servers = [{'name': name, 'address': address} for name, address in sorted(p['servers'].items())]
    for server in servers:
        if not isinstance(server['address'], str) or check_address(server['address']) is not None:
            raise ValueError('servers: %s has no usable VPC address (%r)' % (server['name'], server['address']))
    if p['dead_after_misses'] < 1:
        raise ValueError('dead_after_misses: %d; fix: give 1 or more (3 is the default)' % p['dead_after_misses'])
    unknown = sorted(set(p['heal_limits']) - set(policy.LIMITS))
    if unknown:
        raise ValueError('heal_limits: unknown %s; fix: use %s' % (', '.join(unknown), ', '.join(sorted(policy.LIMITS))))
    config = install.tenant_config(p['server'] or '', p['address'], p['port'], servers, p['alerts'],
                                   p['grace_seconds'], p['heal_limits'], p['dead_after_misses'])
    changed = ensure_file(os.path.join(project_dir, 'config', 'health.json'), config, mode=0o644,
                          check_mode=check_mode)
    secrets = os.path.join(project_dir, 'secrets')
    for name, value in (('health_agent.key', p['key']), ('health_agent.key.previous', p['previous_key']),
                        ('alert_smtp_password', p['smtp_password'])):
        path = os.path.join(secrets, name)
        if value:
            changed = ensure_file(path, value.strip() + '\n', mode=0o600, check_mode=check_mode) or changed
        elif os.path.exists(path):
            if not check_mode:
                os.unlink(path)
            changed = True
    return changed


TENANT_FILES = (os.path.join('config', 'health.json'), os.path.join('secrets', 'health_agent.key'),
                os.path.join('secrets', 'health_agent.key.previous'), os.path.join('secrets', 'alert_smtp_password'),
                os.path.join('config', 'health.stamp.json'))


def server_files(p):
    return [os.path.join(p['systemd_dir'], install.UNIT_NAME), os.path.join(p['cron_dir'], install.CRON_NAME),
            os.path.join(p['fleet_root'], '.fleet', 'lib', 'fleet-health.zip')]


def remove(p, check_mode):
    """state=absent; ``changed``."""
    changed = False
    if p['user']:
        naming.check_ids(user=p['user'], project=p['project'], env=p['env'])
        project_dir = naming.project_dir(p['fleet_root'], p['user'], p['project'], p['env'])
        paths = [os.path.join(project_dir, name) for name in TENANT_FILES]
    elif not tenants.tenants(p['fleet_root']):
        paths = server_files(p)
        agent_dir = os.path.join(p['fleet_root'], '.fleet', 'agent')
        if os.path.isdir(agent_dir):
            changed = True
            if not check_mode:
                shutil.rmtree(agent_dir)
    else:
        paths = []
    for path in paths:
        if os.path.exists(path):
            changed = True
            if not check_mode:
                os.unlink(path)
    return changed


def main():
    module = AnsibleModule(
        argument_spec=dict(
            fleet_root=dict(type='path', default='/local'),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            address=dict(type='str'),
            port=dict(type='int', default=9999),
            refuse=dict(type='list', elements='str', default=[]),
            events=dict(type='bool', default=True),
            sweep_seconds=dict(type='int', default=30),
            peer_watch_seconds=dict(type='float', default=1),
            docker_host=dict(type='str', default='unix:///var/run/docker.sock'),
            systemd_dir=dict(type='path', default='/etc/systemd/system'),
            cron_dir=dict(type='path', default='/etc/cron.d'),
            monitor_schedule=dict(type='str', default='* * * * *'),
            user=dict(type='str'),
            project=dict(type='str'),
            env=dict(type='str'),
            server=dict(type='str'),
            servers=dict(type='dict', default={}),
            grace_seconds=dict(type='int', default=600),
            dead_after_misses=dict(type='int', default=3),
            heal_limits=dict(type='dict', default={}),
            key=dict(type='str', no_log=True),
            previous_key=dict(type='str', no_log=True),
            alerts=dict(type='dict', default={}),
            smtp_password=dict(type='str', no_log=True),
            stamp=dict(type='str'),
        ),
        required_together=[('user', 'project', 'env')],
        required_if=[('state', 'present', ('address',))],
        supports_check_mode=True)
    p = module.params
    if p['state'] == 'absent':
        try:
            changed = remove(p, module.check_mode)
        except (ValueError, OSError) as exc:
            module.fail_json(msg='cannot remove the health agent: %s' % exc)
        module.exit_json(changed=changed, restart=False, unit=server_files(p)[0], command='',
                         systemd=os.path.isdir('/run/systemd/system'),
                         tenants_left=len(tenants.tenants(p['fleet_root'])),
                         installed=os.path.isfile(server_files(p)[0]))
    if p['user'] and not p['key']:
        module.fail_json(msg='key: the project env\'s agent key is needed to look after it')
    reason = check_address(p['address'], p['refuse'])
    if reason:
        module.fail_json(msg='health agent: %s; fix: give the server\'s VPC address (fleet_private_address)' % reason)
    try:
        changed, restart, command, unit_path = install_server(p, module.check_mode)
        if p['user']:
            changed = install_tenant(p, module.check_mode) or changed
            if p['stamp']:
                project_dir = naming.project_dir(p['fleet_root'], p['user'], p['project'], p['env'])
                files = server_files(p) + [os.path.join(p['fleet_root'], '.fleet', 'agent', 'agent.json')] + [
                    os.path.join(project_dir, name) for name in TENANT_FILES[:-1]]
                changed = stamp.record(project_dir, p['stamp'], files, module.check_mode) or changed
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    except OSError as exc:
        module.fail_json(msg='cannot install the health agent: %s' % exc)
    module.exit_json(changed=changed, restart=restart, unit=unit_path, command=command,
                     systemd=os.path.isdir('/run/systemd/system'), tenants_left=len(tenants.tenants(p['fleet_root'])),
                     installed=not module.check_mode or os.path.isfile(unit_path),
                     cron_present=os.path.exists('/usr/sbin/cron'))


if __name__ == '__main__':
    main()
