# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""How each service's container is defined and wired to its dependencies.

Pure: from the validated spec and the internal ports, the image, command, data
path, health check, secret mounts and the non-secret environment of a service.
Dependencies are reached through the tenant's sidecar, ``nginx:INTERNAL_PORT``
(DESIGN.md section 5). Secrets are files, never environment values: PostgreSQL
clients get ``PGPASSFILE``/``POSTGRES_PASSWORD_FILE`` and a ``DATABASE_URL`` without a
password (libpq reads the password from PGPASSFILE), Redis clients get
``REDIS_PASSWORD_FILE``.

A database runs the collection's command, never the spec's (``_spec/auth`` refuses one): the
image's own for postgres, ``redis-server /run/secrets/redis.conf --appendonly yes`` for redis,
each followed by the service's ``server_settings`` (:func:`server_command`).
"""

from __future__ import annotations

import shlex

from ansible_collections.projectdeployer.fleet.plugins.module_utils._backup.opensearch import SNAPSHOTS_DIR
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec import naming
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.auth import server_args, setting_text
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.plan import service_image
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.schema import memory_mb

SECRETS_IN_CONTAINER = '/run/secrets'
# The uid the official images (and the stand-ins) drop to; apps we build run as 1000.
RUN_AS = {'postgres': None, 'redis': 999, 'opensearch': 1000}
APP_UID = 1000
DATA_PATHS = {
    'postgres': '/var/lib/postgresql/data',
    'redis': '/data',
    'opensearch': '/usr/share/opensearch/data',
}
REDIS_COMMAND = 'redis-server %s/redis.conf --appendonly yes' % SECRETS_IN_CONTAINER


def env_prefix(service):
    return service.upper().replace('-', '_')


def secret_files(service_type, service):
    """The secret files a database service owns (under the project's secrets/ dir)."""
    if service_type == 'postgres':
        return ['%s_password' % service, '%s_pgpass' % service]
    if service_type == 'redis':
        return ['%s_password' % service, '%s_redis.conf' % service]
    return []


def dependency_wiring(spec, name, internal_ports, secrets_dir, logins=None):
    """``(env, secrets)`` that connect service ``name`` to each of its dependencies.

    ``logins`` maps a postgres service to the role its clients log in as, when secret
    rotation has moved them off the owner role (see ``_secrets.rotation``).
    """
    env = {}
    mounts = []
    user, project, env_id = spec['user'], spec['project'], spec['env']
    svc = spec['services'][name]
    consumer_uid = consumer_owner(svc)
    for dep in svc.get('depends_on') or []:
        dep_type = spec['services'][dep]['type']
        prefix = env_prefix(dep)
        port = internal_ports[dep]
        env['%s_HOST' % prefix] = naming.SIDECAR_ALIAS
        env['%s_PORT' % prefix] = str(port)
        env['FLEET_PORT_%s' % prefix] = str(port)
        if dep_type == 'postgres':
            db = naming.db_name(user, project, env_id, dep)
            role = (logins or {}).get(dep) or naming.db_user(user, project, dep)
            env['%s_DB' % prefix] = db
            env['%s_USER' % prefix] = role
            env['%s_PASSWORD_FILE' % prefix] = '%s/%s_password' % (SECRETS_IN_CONTAINER, dep)
            env.setdefault('DATABASE_URL', 'postgresql://%s@%s:%d/%s' % (role, naming.SIDECAR_ALIAS, port, db))
            env.setdefault('PGPASSFILE', '%s/%s_pgpass' % (SECRETS_IN_CONTAINER, dep))
            mounts.extend(_mount(secrets_dir, f, consumer_uid) for f in ('%s_password' % dep, '%s_pgpass' % dep))
        elif dep_type == 'redis':
            env['%s_PASSWORD_FILE' % prefix] = '%s/%s_password' % (SECRETS_IN_CONTAINER, dep)
            env.setdefault('REDIS_URL', 'redis://%s:%d/0' % (naming.SIDECAR_ALIAS, port))
            mounts.append(_mount(secrets_dir, '%s_password' % dep, consumer_uid))
        elif dep_type == 'opensearch':
            env.setdefault('OPENSEARCH_URL', 'http://%s:%d' % (naming.SIDECAR_ALIAS, port))
        else:
            env['%s_URL' % prefix] = 'http://%s:%d' % (naming.SIDECAR_ALIAS, port)
    return env, mounts


def consumer_owner(svc):
    """The uid a service's container reads its secrets as (None: root)."""
    if svc['type'] in RUN_AS:
        return RUN_AS[svc['type']]
    if svc['type'] in ('python', 'nodejs', 'react'):
        return APP_UID
    return None


def _mount(secrets_dir, filename, owner):
    mount = {'source': '%s/%s' % (secrets_dir, filename), 'target': '%s/%s' % (SECRETS_IN_CONTAINER, filename)}
    if owner:
        mount['owner'] = owner
    return mount


def user_volumes(spec, name, secrets_dir):
    """The spec's ``volumes`` as mounts that stay inside the tenant's namespace.

    A source without ``/`` is a named volume, kept per user, project and env
    (``u1_myapp_prod_uploads``); a source with ``/`` is a path inside the project's
    directory on the server (the spec refuses absolute paths and ``..``).
    """
    project_dir = secrets_dir.rsplit('/', 1)[0]
    prefix = naming.prefix(spec['user'], spec['project'], spec['env'])
    mounts = []
    for source, target in sorted((spec['services'][name].get('volumes') or {}).items()):
        if '/' in source:
            mounts.append('%s/%s:%s' % (project_dir, source.strip('/'), target))
        else:
            mounts.append('%s_%s:%s' % (prefix, source, target))
    return mounts


def health_check(svc):
    """The toggle_deploy health dict of a service."""
    check = {'retries': svc.get('health_retries', 6), 'interval': svc.get('health_interval', 10),
             'start_period': svc.get('health_start_period', 0), 'timeout': svc.get('health_timeout', 5)}
    if svc.get('health_check') is False:
        check['type'] = 'none'
    elif svc['type'] == 'postgres':
        check['type'] = 'postgres'
    elif svc['type'] == 'redis':
        check['type'] = 'redis'
    elif svc['type'] == 'opensearch':
        # healthy once its own indices can serve: yellow (one node holds no replica) or green
        check.update(type='http', path='/_cluster/health?wait_for_status=yellow&timeout=1s')
    elif svc.get('container_port'):
        check.update(type='http', path=svc.get('health_path') or '/')
        if svc.get('domain'):
            check['host'] = svc['domain']  # the Host header its users send (docs/spec.md, health_path)
    else:
        check['type'] = 'running'
    return check


def server_command(svc):
    """The command of a postgres or redis service: the collection's, then its ``server_settings``.

    postgres without settings: None, the image's own (``postgres``); with them
    ``postgres -c name=value ...``. redis: ``REDIS_COMMAND --name value ...``, whose arguments
    override the configuration file's (``_spec/auth`` refuses the settings of the password).
    """
    command = REDIS_COMMAND if svc['type'] == 'redis' else None
    if svc.get('server_settings'):
        args = server_args(svc['type'], svc['server_settings'])
        command = ' '.join([command or svc['type']] + [shlex.quote(arg) for arg in args])
    return command


def opensearch_env(svc):
    """The settings an opensearch service runs with, as the official image reads them (env vars).

    One node (``discovery.type``), no memory lock (a container seldom may lock), a
    snapshot repository path for the backups, the heap from the service's memory,
    and no security plugin: the service is reachable only on its tenant's network,
    through the sidecar, over plain HTTP (docs/spec.md says how to run it with the
    plugin on). ``server_settings`` come after (the official image takes an environment
    variable named like a setting as that setting), so they win; ``env_vars`` of the
    spec win over ``OPENSEARCH_JAVA_OPTS`` and the plugin switches.
    """
    env = {
        'discovery.type': 'single-node',
        'bootstrap.memory_lock': 'false',
        'path.repo': SNAPSHOTS_DIR,  # where the backups put their snapshot repositories
        'OPENSEARCH_JAVA_OPTS': heap_opts(memory_mb(svc['mem_limit']) if svc.get('mem_limit') else None),
        'DISABLE_SECURITY_PLUGIN': 'true',
        'DISABLE_INSTALL_DEMO_CONFIG': 'true',
    }
    for name, value in sorted((svc.get('server_settings') or {}).items()):
        env[name] = setting_text('opensearch', value)
    return env


def heap_opts(mem_limit_mb):
    """``OPENSEARCH_JAVA_OPTS`` for a container limited to ``mem_limit_mb`` MB (None: no limit).

    Half the limit, as OpenSearch's own guidance has it (the rest is the file
    cache and off-heap memory), within 128 MB-31 GB; 512 MB without a limit,
    which leaves a 1 GB droplet room for the rest (the official image's default
    is 1 GB).
    """
    mb = 512 if not mem_limit_mb else max(128, min(31 * 1024, int(mem_limit_mb // 2)))
    return '-Xms%dm -Xmx%dm' % (mb, mb)


def container_definition(spec, name, internal_ports, secrets_dir, images=None, logins=None):
    """Every toggle_deploy parameter of one service that does not depend on the host."""
    svc = spec['services'][name]
    user, project, env_id = spec['user'], spec['project'], spec['env']
    env, mounts = dependency_wiring(spec, name, internal_ports, secrets_dir, logins)
    command = svc.get('command')
    data_path = DATA_PATHS.get(svc['type'])
    if svc['type'] == 'postgres':
        env.update(POSTGRES_USER=naming.db_user(user, project, name), POSTGRES_DB=naming.db_name(user, project, env_id, name),
                   POSTGRES_PASSWORD_FILE='%s/%s_password' % (SECRETS_IN_CONTAINER, name))
        # read by initdb only (the owner role's first password); rotation changes it in place
        mounts.append(dict(_mount(secrets_dir, '%s_password' % name, None), in_place=True))
        command = server_command(svc)
    elif svc['type'] == 'redis':
        conf = '%s/redis.conf' % SECRETS_IN_CONTAINER
        # rotation applies a new password to the running server and writes this copy in place
        mounts.append(dict(_mount(secrets_dir, '%s_redis.conf' % name, RUN_AS['redis']), target=conf, in_place=True))
        command = server_command(svc)
    elif svc['type'] == 'opensearch':
        env.update(opensearch_env(svc))
    elif svc.get('container_port'):
        env.setdefault('PORT', str(svc['container_port']))
    env['FLEET_USER'], env['FLEET_PROJECT'], env['FLEET_ENV'], env['FLEET_SERVICE'] = user, project, env_id, name
    env['APP_VERSION'] = str(svc.get('version') or spec['version'])
    return {
        'image': service_image(spec, svc, images),
        'command': command,
        'env_vars': env,
        'secrets': mounts,
        'volumes': user_volumes(spec, name, secrets_dir),
        'data_path': data_path,
        'container_port': svc.get('container_port'),
        'health': health_check(svc),
        # A scheduled job runs once per cron start: a restart policy would run it again and again.
        'restart': bool(svc.get('restart', True)) and not svc.get('schedule'),
        'mem_limit': svc.get('mem_limit'),
        'mem_reservation': svc.get('mem_reservation'),
        'cpus': svc.get('cpus'),
        'shm_size': svc.get('shm_size'),
        'version': str(svc.get('version') or spec['version']),
        'scheduled': bool(svc.get('schedule')),
        'schedule': svc.get('schedule'),
        'network': naming.network_name(user, project, env_id),
    }
