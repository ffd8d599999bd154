# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``ProjectDeployer``: the seed's Python API over the collection's playbooks (docs/python.md).

A project is its spec file (the YAML a playbook user writes): the ``add_*``/``update_service``/
``delete_service`` methods change it through the collection's validator and save it; every operation
runs a playbook through ansible-runner and returns what its modules returned. A failure raises
:class:`~projectdeployer.errors.FleetError` with the playbook's own one-line message.
"""

from __future__ import annotations

import os

import yaml

from projectdeployer import collection, engine, services, spec_file
from projectdeployer.errors import EXIT_USAGE, FleetError

DEFAULT_ENV = 'prod'


def default_root():
    """The controller's root (``FLEET_CONTROLLER_ROOT``, else ``/local``, as the playbooks')."""
    return os.environ.get('FLEET_CONTROLLER_ROOT') or '/local'


def default_spec_path(user, project, root=None):
    return os.path.join(root or default_root(), user, project, 'project.yml')


class ProjectDeployer(object):
    """One user's project: ``ProjectDeployer("u1", "myapp")`` loads it, :meth:`create` makes it.

    ``spec_path`` (default ``{root}/{user}/{project}/project.yml``) is its spec file; ``inventory`` the
    servers (default: the inventory file beside the spec when there is one, else the embedded default,
    this machine's Docker engine); ``extra_vars`` are given to every playbook (``fleet_root``, images,
    edge ports...); ``echo(text)`` receives the playbooks' output as it comes (None: quiet).
    """

    def __init__(self, user, project, spec_path=None, root=None, inventory=None, extra_vars=None, echo=None, cwd=None):
        self.user, self.project = user, project
        self.spec_path = os.path.abspath(spec_path or default_spec_path(user, project, root))
        self.spec = spec_file.load(self.spec_path)
        if (self.spec.get('fleet_user'), self.spec.get('fleet_project')) != (user, project):
            raise FleetError('%s: it is the spec of %s/%s, not %s/%s; fix: load it with those ids or give another '
                             'spec_path' % (self.spec_path, self.spec.get('fleet_user'), self.spec.get('fleet_project'),
                                            user, project), exit_code=EXIT_USAGE)
        beside = os.path.join(os.path.dirname(self.spec_path), 'inventory.yml')
        self.inventory = inventory or (beside if os.path.isfile(beside) else collection.default_inventory())
        self.extra_vars = dict(extra_vars or {})
        self.echo, self.cwd, self.verbosity = echo, cwd, 0
        self.last_result = None   # the engine.Result of the last operation (its modules' results)

    # ------------------------------------------------------------------------------------- the project

    @staticmethod
    def create(user, project, docker_hub_user=None, version='latest', default_server_ip='localhost', spec_path=None,
               root=None, **options):
        """A new project with no service yet (its spec file written); returns its ProjectDeployer.

        ``default_server_ip`` other than ``localhost`` writes an inventory of that one server (SSH as root)
        beside the spec; ``options`` are those of the constructor (``inventory``, ``extra_vars``, ``echo``).
        """
        path = os.path.abspath(spec_path or default_spec_path(user, project, root))
        if os.path.exists(path):
            raise FleetError('%s: the project %s/%s exists already; fix: load it with ProjectDeployer(%r, %r)'
                             % (path, user, project, user, project), exit_code=EXIT_USAGE)
        spec = {'fleet_user': user, 'fleet_project': project, 'docker_hub_user': docker_hub_user or '',
                'fleet_version': str(version), 'services': {}}
        spec_file.check(spec, path, allow_no_service=True)
        spec_file.save(path, spec)
        if default_server_ip not in (None, '', 'localhost', '127.0.0.1'):
            hosts = {'fleet_servers': {'hosts': {default_server_ip: {'ansible_user': 'root'}}}}
            spec_file.save(os.path.join(os.path.dirname(path), 'inventory.yml'), hosts)
        return ProjectDeployer(user, project, spec_path=path, **options)

    def _save(self, new_spec):
        spec_file.check(new_spec, self.spec_path, allow_no_service=True)
        spec_file.save(self.spec_path, new_spec)
        self.spec = new_spec
        return self

    def _with_service(self, name, entry, replace=False):
        if name in self.spec['services'] and not replace:
            raise FleetError('services.%s: the project has a service %r already; fix: change it with '
                             'update_service(%r, ...) or delete_service(%r) first' % (name, name, name, name),
                             exit_code=EXIT_USAGE, key='services.%s' % name)
        spec = dict(self.spec, services=dict(self.spec['services']))
        spec['services'][name] = entry
        return self._save(spec)

    def set_version(self, version):
        """The version the next build tags and the next deploy runs (``fleet_version``; not in the seed's table:
        there it is ``create``'s ``version``); returns self."""
        return self._save(dict(self.spec, fleet_version=str(version)))

    def add_service(self, name, image=None, dockerfile=None, dockerfile_content=None, build_context=None, git_repo=None,
                    git_token=None, command=None, ports=None, env_vars=None, volumes=None, depends_on=None,
                    servers_count=1, server_zone='lon1', server_cpu=1, server_memory=1024, domain=None, ssl_mode=None,
                    schedule=None, health_check=True, restart=True, startup_order=None, auto_scaling=False, **kwargs):
        """A generic service (an image, a Dockerfile or its content); returns self."""
        values = dict(kwargs, image=image, dockerfile=dockerfile, dockerfile_content=dockerfile_content,
                      build_context=build_context, git_repo=git_repo, git_token=git_token, command=command, ports=ports,
                      env_vars=env_vars, volumes=volumes, depends_on=depends_on, servers_count=servers_count,
                      server_zone=server_zone, server_cpu=server_cpu, server_memory=server_memory, domain=domain,
                      ssl_mode=ssl_mode, schedule=schedule, health_check=health_check, restart=restart,
                      startup_order=startup_order, auto_scaling=auto_scaling)
        return self._with_service(name, services.entry(kwargs.pop('type', 'custom'), values))

    def add_postgres(self, version='15', servers_count=1, server_zone='lon1', **kwargs):
        """A PostgreSQL service (named ``postgres`` unless ``name=``); returns self."""
        name = kwargs.pop('name', 'postgres')
        return self._with_service(name, services.entry('postgres', dict(kwargs, version=version, servers_count=servers_count,
                                                                        server_zone=server_zone)))

    def add_redis(self, version='7-alpine', servers_count=1, server_zone='lon1', **kwargs):
        """A Redis service (named ``redis`` unless ``name=``); returns self."""
        name = kwargs.pop('name', 'redis')
        return self._with_service(name, services.entry('redis', dict(kwargs, version=version, servers_count=servers_count,
                                                                     server_zone=server_zone)))

    def add_opensearch(self, version='2', servers_count=1, server_zone='lon1', **kwargs):
        """An OpenSearch service (named ``opensearch`` unless ``name=``); returns self."""
        name = kwargs.pop('name', 'opensearch')
        return self._with_service(name, services.entry('opensearch', dict(kwargs, version=version,
                                                                          servers_count=servers_count,
                                                                          server_zone=server_zone)))

    def add_python_service(self, name, command, port=None, python_version='3.11', requirements_files=None,
                           depends_on=None, build_context=None, git_repo=None, git_token=None, servers_count=1,
                           server_zone='lon1', domain=None, schedule=None, auto_scaling=False, **kwargs):
        """A Python service built from a generated Dockerfile; returns self."""
        values = dict(kwargs, command=command, port=port, python_version=python_version,
                      requirements_files=requirements_files, depends_on=depends_on, build_context=build_context,
                      git_repo=git_repo, git_token=git_token, servers_count=servers_count, server_zone=server_zone,
                      domain=domain, schedule=schedule, auto_scaling=auto_scaling)
        return self._with_service(name, services.entry('python', values))

    def add_nodejs_service(self, name, command, port=None, node_version='18', package_manager='npm', build_command=None,
                           depends_on=None, build_context=None, git_repo=None, git_token=None, servers_count=1,
                           server_zone='lon1', domain=None, auto_scaling=False, **kwargs):
        """A Node.js service built from a generated Dockerfile; returns self."""
        values = dict(kwargs, command=command, port=port, node_version=node_version, package_manager=package_manager,
                      build_command=build_command, depends_on=depends_on, build_context=build_context,
                      git_repo=git_repo, git_token=git_token, servers_count=servers_count, server_zone=server_zone,
                      domain=domain, auto_scaling=auto_scaling)
        return self._with_service(name, services.entry('nodejs', values))

    def add_react_service(self, name, node_version='18', package_manager='npm', build_command='npm run build',
                          output_dir='build', nginx_config=None, depends_on=None, build_context=None, git_repo=None,
                          git_token=None, servers_count=1, server_zone='lon1', domain=None, **kwargs):
        """A React/SPA service (a multi-stage build served by nginx); returns self."""
        values = dict(kwargs, node_version=node_version, package_manager=package_manager, build_command=build_command,
                      output_dir=output_dir, nginx_config=nginx_config, depends_on=depends_on,
                      build_context=build_context, git_repo=git_repo, git_token=git_token, servers_count=servers_count,
                      server_zone=server_zone, domain=domain)
        return self._with_service(name, services.entry('react', values))

    def update_service(self, name, **kwargs):
        """Change a service's keys (``key=None`` removes one); returns self."""
        if name not in self.spec['services']:
            raise FleetError('services.%s: no such service; fix: use one of %s' % (
                name, ', '.join(sorted(self.spec['services'])) or '(none yet: add one)'), exit_code=EXIT_USAGE)
        return self._with_service(name, services.updated(self.spec['services'][name], kwargs), replace=True)

    def delete_service(self, name):
        """Take a service out of the spec; the next whole deploy removes it from the servers. Returns self."""
        if name not in self.spec['services']:
            raise FleetError('services.%s: no such service; fix: use one of %s'
                             % (name, ', '.join(sorted(self.spec['services']))), exit_code=EXIT_USAGE)
        spec = dict(self.spec, services=dict((k, v) for k, v in self.spec['services'].items() if k != name))
        return self._save(spec)

    # ------------------------------------------------------------------------------------- operations

    def result(self, playbook, env=None, forks=None, **extra):
        """Run ``playbooks/PLAYBOOK.yml`` on this project (``extra`` as extra vars): its engine.Result."""
        if not self.spec['services']:
            raise FleetError('%s: the project has no service yet; fix: add one (add_postgres, add_python_service, '
                             '...)' % self.spec_path, exit_code=EXIT_USAGE)
        extra_vars = dict(self.extra_vars)
        extra_vars['fleet_env'] = env or extra_vars.get('fleet_env') or DEFAULT_ENV
        extra_vars.update((k, v) for k, v in extra.items() if v is not None)
        return engine.run(playbook, extra_vars, inventory=self.inventory, spec_path=self.spec_path, cwd=self.cwd,
                          echo=self.echo, verbosity=self.verbosity, forks=forks)

    def run(self, playbook, env=None, forks=None, **extra):
        """:meth:`result`, raising FleetError with the playbook's message when it failed."""
        found = self.last_result = self.result(playbook, env, forks, **extra)
        if not found.ok:
            raise found.error()
        return found

    def build(self, env=None, service=None, push=True):
        """Build the images (in isolated temporary directories); True."""
        self.run('build', env, fleet_service=service, fleet_push=push)
        return True

    def deploy(self, env=None, service=None, zones=None, build=True, parallel=True):
        """Deploy the services (one with ``service``) with zero downtime; True (FleetError when it failed)."""
        self.run('deploy', env, forks=None if parallel else 1, fleet_service=service, fleet_zones=zones,
                 fleet_build=build)
        return True

    def rollback(self, env, service, to_version=None):
        """Run the service's previous version (or ``to_version``) again; True."""
        self.run('rollback', env, fleet_service=service, to_version=to_version)
        return True

    def status(self, env=None, service=None):
        """``{'env', 'servers': {server: {service: {serving slot, containers...}}}}`` as the servers say."""
        result = self.run('status', env, fleet_service=service)
        servers = dict((host, res.get('services', {})) for host, res in result.by_host('deploy_info').items())
        return {'user': self.user, 'project': self.project, 'env': env or DEFAULT_ENV, 'servers': servers}

    def get_deployment_state(self, env, service):
        """The service's state on each server: ``{server: {...}}`` (empty when it is deployed nowhere)."""
        servers = self.status(env, service)['servers']
        return dict((host, found[service]) for host, found in servers.items() if service in found)

    def logs(self, service, env=None, lines=100, follow=False, follow_seconds=30, since=None, marked=True):
        """The service's last ``lines`` log lines, error lines marked with a cross (and first, as a summary,
        unless ``marked=False``); ``since`` (``10m``, a Unix time) only the newer ones; one block per server."""
        result = self.run('logs', env, fleet_service=service, lines=lines, follow=follow or None,
                          follow_seconds=follow_seconds if follow else None, since=since)
        blocks = []
        found = result.by_host('service_logs')
        for host in sorted(found):
            res = found[host]
            head = ['== %s (%s)' % (host, res.get('container', '?'))] if len(found) > 1 and marked else []
            summary = list(res.get('error_lines') or []) if marked else []
            blocks.append('\n'.join(head + summary + list(res.get('lines') or [])))
        return '\n'.join(b for b in blocks if b)

    def get_deployment_history(self, env, service=None, limit=10):
        """The deploy records (newest first): version, slot, outcome, when."""
        return list(self.run('history', env, fleet_service=service, limit=limit).one('deploy_history')['records'])

    def backup(self, env=None, service=None):
        """Take a backup of the databases (one with ``service``) now; the manifests of the backups taken."""
        result = self.run('backup', env, fleet_service=service)
        taken = []
        for row in result.rows('backup'):
            for item in row['res'].get('results') or [row['res']]:
                if item.get('backup'):
                    taken.append(dict(item['backup'], server=row['host']))
        return taken

    def list_backups(self, env=None, service=None):
        """The backups on the servers, newest first per service: name, size, taken, server..."""
        result = self.run('backups', env, fleet_service=service)
        found = []
        for host, res in sorted(result.by_host('backup_info').items()):
            found.extend(dict(record, server=host) for record in res.get('backups', []))
        return found

    def restore(self, env, service, backup_file, target_service=None, safety_backup=True):
        """Restore a backup (a name list_backups gives) into the service; what was restored where."""
        result = self.run('restore', env, fleet_service=service, backup_file=backup_file,
                          fleet_target_service=target_service, fleet_safety_backup=safety_backup)
        done = [dict(row['res']['restore'], server=row['host']) for row in result.rows('backup') if row['res'].get('restore')]
        return done[0] if done else {}

    def push_config(self, env=None, targets=None):
        """Push config/, secrets/ and files/ to the servers (all, or ``targets``); True."""
        self.run('push', env, fleet_hosts=_hosts(targets))
        return True

    def pull_data(self, env=None, targets=None):
        """Pull data/, logs/, backups/ and monitoring/ from the servers; True."""
        self.run('pull', env, fleet_hosts=_hosts(targets))
        return True

    def pull_backups(self, env=None, service=None, targets=None):
        """Pull the backups (of one service with ``service``); True."""
        self.run('pull', env, fleet_hosts=_hosts(targets), fleet_pull_dirs='backups', fleet_service=service)
        return True

    def sync_files(self, env=None, targets=None):
        """Push, then pull; True."""
        self.run('sync', env, fleet_hosts=_hosts(targets))
        return True

    def rotate_secrets(self, env, services=None, auto_deploy=True):  # pylint: disable=redefined-outer-name
        """New database passwords with no failed request; True."""
        self.run('rotate_secrets', env, fleet_services=','.join(services) if services else None, auto_deploy=auto_deploy)
        return True

    def list_secrets(self, env):
        """The names of the project env's secrets on the controller (never their values)."""
        result = self.run('list_secrets', env)
        for row in result.oks:
            if row['task'] == "Find the controller's secrets":
                return sorted(os.path.basename(f['path']) for f in row['res'].get('files', []))
        return []

    def check_health(self, env=None):
        """Every check once on every server: ``{server: {'healthy', 'unhealthy': [...], 'services': [...]}}``."""
        return self._health('check_health', env)

    def get_health_status(self, env=None):
        """What the health agents last saw, per server (same shape as :meth:`check_health`)."""
        return self._health('health_status', env)

    def _health(self, playbook, env):
        result = self.result(playbook, env)
        found = result.by_host('health_info')
        if not found and not result.ok:   # check_health fails when something is unhealthy: that is an answer
            raise result.error()
        return dict((host, {'healthy': not res.get('unhealthy'), 'unhealthy': res.get('unhealthy', []),
                            'services': res.get('services', []), 'lines': res.get('lines', [])})
                    for host, res in found.items())

    def list_servers(self, env=None, zone=None, status=None):
        """The servers of the inventory (droplets: name, ip, zone, size, status, service)."""
        result = self.run('servers', env, zone=zone, status=status)
        rows = []
        for row in result.oks:
            listed = row['res'].get('ansible_facts', {}).get('fleet_servers_listed')
            if listed is not None:
                rows = listed
        return rows

    def destroy_server(self, server_ip, env=None, force=False):
        """Destroy one server (the others stop routing to it first); True."""
        self.run('destroy_server', env, fleet_server=server_ip, fleet_confirm=server_ip, fleet_force=force or None)
        return True

    def remove(self, env=None, purge=False):
        """Remove the project env from every server (containers, networks, volumes with ``purge``...); True."""
        self.run('remove', env, fleet_confirm='%s/%s/%s' % (self.user, self.project, env or DEFAULT_ENV),
                 fleet_purge=purge or None)
        return True

    def __repr__(self):
        return 'ProjectDeployer(%r, %r, spec_path=%r)' % (self.user, self.project, self.spec_path)

    def to_yaml(self):
        """The spec as the file holds it."""
        return yaml.safe_dump(self.spec, default_flow_style=False, sort_keys=False)


def _hosts(targets):
    return ','.join(targets) if targets else None
