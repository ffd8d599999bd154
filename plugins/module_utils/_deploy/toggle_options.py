# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The options the deploy role gives toggle_deploy (and deploy_changes) for one service on one server."""

from __future__ import annotations

# copied from the service's container definition as they are
FROM_DEFINITION = ('command', 'secrets', 'volumes', 'data_path', 'container_port', 'network', 'mem_limit',
                   'mem_reservation', 'cpus', 'shm_size', 'restart')


def toggle_options(service, definition, context):
    """toggle_deploy's options for ``service``, from its container definition and the deploy's ``context``:

    - ``overrides``: a rollback's ``{service: {'image', 'version'}}``, first choice of image and version;
    - ``built``: this run's builds ``{service: {'image', 'version'}}``, second choice;
    - ``host_ports``: this server's ``{service: {'host_port', 'secondary_port'}}``;
    - ``address``: what the host ports bind to; ``secrets_dir``: where the env file is;
    - ``health_overrides``: merged into every service's health options (the tests' short intervals).
    """
    override = (context.get('overrides') or {}).get(service) or {}
    built = (context.get('built') or {}).get(service) or {}
    options = dict((key, definition.get(key)) for key in FROM_DEFINITION)
    env_vars = dict(definition.get('env_vars') or {})
    if 'version' in override:
        env_vars['APP_VERSION'] = override['version']
    options.update(
        service=service,
        state='created' if definition.get('scheduled') else 'started',
        image=override.get('image') or built.get('image') or definition.get('image'),
        version=str(override.get('version') or built.get('version') or definition.get('version')),
        env_vars=env_vars,
        env_file='%s/%s.env' % (context['secrets_dir'], service),
        health=dict(definition.get('health') or {}, **(context.get('health_overrides') or {})),
    )
    options.update(host_binding(service, context['address'], context.get('host_ports')))
    return options


def host_binding(service, address, host_ports):
    """The options of ``service`` that come from the server: the ``bind_address`` of its host ports and, when it
    has them, its ``host_port`` and ``secondary_port`` (``host_ports``: ``{service: {'host_port', 'secondary_port'}}``,
    as the server's preparation reserved them)."""
    binding = {'bind_address': address}
    ports = (host_ports or {}).get(service) or {}
    for key in ('host_port', 'secondary_port'):
        if ports.get(key) is not None:
            binding[key] = ports[key]
    return binding
