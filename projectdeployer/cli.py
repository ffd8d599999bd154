# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``fleet``: the operators' command line over the collection's playbooks (docs/cli.md).

Exit codes: 0 done, 1 the operation failed, 2 bad usage or a refused spec (nothing touched).
Commands that change something take the project env's lock for their run and are written to its audit log.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time

import yaml

from projectdeployer import audit, lock, spec_file
from projectdeployer.deployer import DEFAULT_ENV, ProjectDeployer
from projectdeployer.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, FleetError
from projectdeployer.output import Printer, table

EPILOG = 'exit codes: 0 done, 1 the operation failed, 2 bad usage or a refused spec. docs/cli.md has every command.'
MUTATING = ('deploy', 'rollback', 'backup', 'restore', 'secrets rotate', 'provision', 'destroy', 'remove')


class Usage(FleetError):
    def __init__(self, message):
        super(Usage, self).__init__(message, exit_code=EXIT_USAGE)


class Parser(argparse.ArgumentParser):
    """argparse, with its usage errors as one line and exit 2 (its own convention too)."""

    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, '%s: %s; fix: see %s --help\n' % (self.prog, message, self.prog))


# ------------------------------------------------------------------------------------------ the parser

def _globals(spec_short=True):
    """The options every command takes (before or after its name)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument('-e', '--env', default=argparse.SUPPRESS, help='the environment (default %s)' % DEFAULT_ENV)
    spec = ['-f', '--spec'] if spec_short else ['--spec']
    common.add_argument(*spec, dest='spec', default=argparse.SUPPRESS, metavar='FILE',
                        help='the project spec (default ./fleet.yml)')
    common.add_argument('-i', '--inventory', default=argparse.SUPPRESS, metavar='FILE',
                        help='the servers (default: the embedded default, this machine\'s Docker engine)')
    common.add_argument('-v', '--verbose', action='count', default=argparse.SUPPRESS,
                        help='show the playbook\'s output (-vv and more: Ansible\'s verbosity)')
    common.add_argument('--json', action='store_true', default=argparse.SUPPRESS, help='print the result as JSON')
    common.add_argument('--var', action='append', default=argparse.SUPPRESS, metavar='KEY=VALUE',
                        help='an extra variable for the playbooks (repeatable; VALUE may be JSON)')
    common.add_argument('--vars-file', action='append', default=argparse.SUPPRESS, metavar='FILE',
                        help='a YAML file of extra variables (repeatable)')
    return common


def _command(subs, name, helptext, example, spec_short=True):
    return subs.add_parser(name, help=helptext, description=helptext, parents=[_globals(spec_short)],
                           epilog='example:\n  %s\n\n%s' % (example, EPILOG),
                           formatter_class=argparse.RawDescriptionHelpFormatter)


def build_parser():
    parser = Parser(prog='fleet', parents=[_globals()], formatter_class=argparse.RawDescriptionHelpFormatter,
                    description='Deploy and run a projectdeployer.fleet project (its spec: ./fleet.yml).',
                    epilog='example:\n  fleet init --user u1 --project myapp && fleet deploy && fleet status\n\n' + EPILOG)
    subs = parser.add_subparsers(dest='command', metavar='COMMAND', parser_class=Parser)
    sub = _command(subs, 'init', 'write a new project spec', 'fleet init --user u1 --project myapp')
    sub.add_argument('--user', required=True)
    sub.add_argument('--project', required=True)
    sub.add_argument('--docker-hub-user', default=None)
    sub.add_argument('--version', default='latest', help='the image version (fleet_version)')
    _command(subs, 'validate', 'check the spec (nothing is touched)', 'fleet validate -f fleet.yml')
    _command(subs, 'plan', 'show what a deploy would run where', 'fleet plan -e prod')
    sub = _command(subs, 'deploy', 'build and deploy with zero downtime', 'fleet deploy -s api --no-build')
    sub.add_argument('-s', '--service', help='only this service')
    sub.add_argument('--no-build', action='store_true', help='deploy the images there are')
    sub.add_argument('--zones', nargs='+', metavar='ZONE', help='serve from these zones (docs/cloudflare.md)')
    sub = _command(subs, 'rollback', 'run a service\'s previous version again', 'fleet rollback api 3')
    sub.add_argument('service')
    sub.add_argument('version', nargs='?', help='the version (default: the one before)')
    sub = _command(subs, 'status', 'what runs where', 'fleet status --json')
    sub.add_argument('-s', '--service')
    sub = _command(subs, 'logs', 'a service\'s logs, error lines marked', 'fleet logs api -n 50 --grep ERROR',
                   spec_short=False)
    sub.add_argument('service')
    sub.add_argument('-f', '--follow', action='store_true', help='keep printing new lines until interrupted')
    sub.add_argument('-n', '--lines', type=int, default=100)
    sub.add_argument('--since', help='only lines since then: 30s, 10m, 2h, 1d or a Unix time')
    sub.add_argument('--grep', metavar='REGEX', help='only lines that match')
    sub.add_argument('--follow-for', type=float, default=None, metavar='SECONDS', help=argparse.SUPPRESS)
    sub = _command(subs, 'history', 'a service\'s deploys, newest first', 'fleet history api -n 5')
    sub.add_argument('service', nargs='?')
    sub.add_argument('-n', '--limit', type=int, default=10)
    sub = _command(subs, 'backup', 'back the databases up now', 'fleet backup -s postgres')
    sub.add_argument('-s', '--service')
    sub = _command(subs, 'backups', 'list the backups', 'fleet backups -s postgres')
    sub.add_argument('-s', '--service')
    sub = _command(subs, 'restore', 'restore a backup into a database', 'fleet restore postgres postgres_backup_20261201_020000.dump')
    sub.add_argument('service')
    sub.add_argument('backup')
    sub.add_argument('--into', metavar='SERVICE', help='restore into this service instead')
    sub.add_argument('--no-safety-backup', action='store_true')
    sub = _command(subs, 'secrets', 'list or rotate the secrets', 'fleet secrets rotate --services postgres')
    sub.add_argument('action', choices=('list', 'rotate'))
    sub.add_argument('--services', help='rotate: these services only (comma separated)')
    sub.add_argument('--no-deploy', action='store_true', help='rotate: do not redeploy the apps')
    sub = _command(subs, 'servers', 'list the servers', 'fleet servers -i inventory/digitalocean.droplets.yml')
    sub.add_argument('--zone')
    sub.add_argument('--status')
    _command(subs, 'provision', 'create the droplets, VPCs and firewalls', 'fleet provision -i cloud.droplets.yml')
    sub = _command(subs, 'destroy', 'destroy one server, or all of the env\'s', 'fleet destroy --server 203.0.113.7 --yes')
    sub.add_argument('--server', metavar='ADDRESS')
    sub.add_argument('--yes', action='store_true', help='confirm')
    _command(subs, 'health', 'run every health check once', 'fleet health')
    sub = _command(subs, 'remove', 'remove the project env from its servers', 'fleet remove --yes --purge')
    sub.add_argument('--yes', action='store_true', help='confirm')
    sub.add_argument('--purge', action='store_true', help='also the data volumes and files')
    sub = _command(subs, 'lock', 'the deploy lock', 'fleet lock acquire -m "migrating the database"')
    sub.add_argument('action', choices=('status', 'acquire', 'release'))
    sub.add_argument('-m', '--message', default=None)
    sub = _command(subs, 'audit', 'who ran what', 'fleet audit -n 20')
    sub.add_argument('-n', '--limit', type=int, default=20)
    return parser


# ------------------------------------------------------------------------------------------ running

def _option(args, name, default=None):
    return getattr(args, name, default)


def _extra_vars(args):
    found = {}
    for path in _option(args, 'vars_file') or []:
        try:
            with open(path) as handle:
                data = yaml.safe_load(handle) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise Usage('--vars-file %s: %s; fix: give a readable YAML mapping' % (path, ' '.join(str(exc).split())))
        if not isinstance(data, dict):
            raise Usage('--vars-file %s: not a mapping; fix: write KEY: VALUE lines' % path)
        found.update(data)
    for item in _option(args, 'var') or []:
        key, sep, value = item.partition('=')
        if not sep or not key:
            raise Usage('--var %s: not KEY=VALUE; fix: for example --var fleet_root=/srv/fleet' % item)
        try:
            found[key] = json.loads(value)
        except ValueError:
            found[key] = value
    return found


def _project(args, printer):
    path = _option(args, 'spec') or 'fleet.yml'
    spec = spec_file.load(path)
    deployer = ProjectDeployer(spec.get('fleet_user'), spec.get('fleet_project'), spec_path=path,
                               inventory=_option(args, 'inventory'), extra_vars=_extra_vars(args), echo=printer.echo)
    deployer.verbosity = max(0, (_option(args, 'verbose') or 0) - 1)
    return deployer


def _controller_root(deployer):
    extra = deployer.extra_vars
    return extra.get('fleet_controller_root') or extra.get('fleet_root') or os.environ.get('FLEET_CONTROLLER_ROOT') or '/local'


def _where(deployer, env):
    return _controller_root(deployer), deployer.user, deployer.project, env


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    if not args.command:
        build_parser().print_help()
        return EXIT_USAGE
    printer = Printer(json_mode=bool(_option(args, 'json')), verbose=_option(args, 'verbose') or 0)
    try:
        return run_command(args, argv, printer)
    except FleetError as exc:
        printer.failure(exc)
        return exc.exit_code
    except KeyboardInterrupt:
        printer.note('interrupted')
        return 130
    except Exception as exc:  # pylint: disable=broad-exception-caught
        if _option(args, 'verbose'):
            raise
        printer.failure(FleetError('internal error: %s: %s (a bug of fleet: please report it with the output of '
                                   'the same command with -v)' % (type(exc).__name__, exc)))
        return EXIT_FAILED


def run_command(args, argv, printer):
    if args.command == 'init':
        return _init(args, printer)
    deployer = _project(args, printer)
    env = _option(args, 'env') or DEFAULT_ENV
    name = args.command + (' ' + args.action if args.command == 'secrets' else '')
    if args.command in ('lock', 'audit'):
        return COMMANDS[args.command](deployer, env, args, printer, argv)
    if name not in MUTATING:
        return COMMANDS[args.command](deployer, env, args, printer)
    lock_path = lock.path_of(*_where(deployer, env))
    audit_path = audit.path_of(*_where(deployer, env))
    lock.acquire(lock_path, 'fleet %s' % ' '.join(argv), pid=os.getpid())
    start, outcome = time.time(), 'ok'
    try:
        return COMMANDS[args.command](deployer, env, args, printer)
    except FleetError as exc:
        outcome = 'failed: %s' % exc
        raise
    except KeyboardInterrupt:
        outcome = 'interrupted'
        raise
    finally:
        lock.release(lock_path, pid=os.getpid())
        audit.record(audit_path, ['fleet'] + argv, outcome, time.time() - start)


def _init(args, printer):
    path = _option(args, 'spec') or 'fleet.yml'
    deployer = ProjectDeployer.create(args.user, args.project, docker_hub_user=args.docker_hub_user,
                                      version=args.version, spec_path=path)
    printer.result({'spec': deployer.spec_path, 'user': args.user, 'project': args.project},
                   'wrote %s (%s/%s, no service yet); add services to it (docs/spec.md), then: fleet deploy'
                   % (path, args.user, args.project))
    return EXIT_OK


def _validate(deployer, env, args, printer):
    plan = deployer.run('validate', env).one('project_spec') or {}
    printer.result({'valid': True, 'spec': deployer.spec_path, 'warnings': plan.get('warnings', [])},
                   '%s is valid for %s' % (deployer.spec_path, env))
    return EXIT_OK


def _plan(deployer, env, args, printer):
    plan = deployer.run('validate', env).one('project_spec') or {}
    text = plan.get('plan_text', '')
    printer.result(plan.get('plan', {}), '\n'.join(text) if isinstance(text, list) else text)
    return EXIT_OK


def _deploy(deployer, env, args, printer):
    which = ' (%s)' % args.service if args.service else ''
    printer.step('deploying %s/%s/%s%s' % (deployer.user, deployer.project, env, which))
    deployer.deploy(env=env, service=args.service, zones=args.zones, build=not args.no_build)
    summary = [row['res'].get('lines') or [] for row in deployer.last_result.rows('report')]
    said = summary[-1] if summary else ['deployed']      # the deploy's own summary: per service, version, URL
    printer.result({'deployed': True, 'env': env, 'service': args.service, 'summary': said}, '\n'.join(said))
    return EXIT_OK


def _rollback(deployer, env, args, printer):
    deployer.rollback(env, args.service, to_version=args.version)
    printer.result({'rolled_back': args.service, 'to_version': args.version}, 'rolled back %s' % args.service)
    return EXIT_OK


def _status(deployer, env, args, printer):
    found = deployer.status(env, args.service)
    rows = []
    for server, services in sorted(found['servers'].items()):
        for service, info in sorted(services.items()):
            serving = [c for c in info.get('containers', []) if c.get('name') == info.get('active_container')]
            one = serving[0] if serving else (info.get('containers') or [{}])[0]
            rows.append([server, service, info.get('active_version') or one.get('version') or '-',
                         info.get('active_slot') or '-', one.get('status', '-'), one.get('health') or '-',
                         str(one.get('restart_count', '-'))])
    printer.result(found, table(['SERVER', 'SERVICE', 'VERSION', 'SLOT', 'STATE', 'HEALTH', 'RESTARTS'], rows)
                   if rows else 'nothing of %s/%s/%s runs' % (deployer.user, deployer.project, env))
    return EXIT_OK


def _logs(deployer, env, args, printer):
    pattern = None
    if args.grep:
        try:
            pattern = re.compile(args.grep)
        except re.error as exc:
            raise Usage('--grep %r: %s; fix: give a Python regular expression' % (args.grep, exc))

    def show(text):
        for line in text.splitlines():
            if pattern is None or pattern.search(line):
                printer.line(line)

    since = args.since
    show(deployer.logs(args.service, env, lines=args.lines, since=since))
    if not args.follow:
        return EXIT_OK
    stop_at = time.monotonic() + args.follow_for if args.follow_for else None
    last = int(time.time())
    try:
        while stop_at is None or time.monotonic() < stop_at:
            time.sleep(1)
            now = int(time.time())
            show(deployer.logs(args.service, env, lines=10000, since=str(last), marked=False))
            last = now
    except KeyboardInterrupt:   # Ctrl-C is how a follow ends
        pass
    return EXIT_OK


def _history(deployer, env, args, printer):
    records = deployer.get_deployment_history(env, args.service, limit=args.limit)
    rows = [[r.get('at') or r.get('time') or r.get('deployed_at') or '-', r.get('service', '-'),
             str(r.get('version', '-')), r.get('slot') or '-', r.get('outcome') or r.get('status') or '-'] for r in records]
    printer.result(records, table(['WHEN', 'SERVICE', 'VERSION', 'SLOT', 'OUTCOME'], rows) if rows else 'no deploy recorded')
    return EXIT_OK


def _backup(deployer, env, args, printer):
    taken = deployer.backup(env, args.service)
    printer.result(taken, table(['SERVER', 'SERVICE', 'BACKUP', 'SIZE'], [
        [b.get('server', '-'), b.get('service', '-'), b.get('name', '-'), str(b.get('size', '-'))] for b in taken]))
    return EXIT_OK


def _backups(deployer, env, args, printer):
    found = deployer.list_backups(env, args.service)
    printer.result(found, table(['SERVER', 'SERVICE', 'BACKUP', 'WHEN', 'SIZE', 'STATUS'], [
        [b.get('server', '-'), b.get('service', '-'), b.get('name', '-'), b.get('when', '-'), str(b.get('size', '-')),
         b.get('status', '-')] for b in found]) if found else 'no backup')
    return EXIT_OK


def _restore(deployer, env, args, printer):
    done = deployer.restore(env, args.service, args.backup, target_service=args.into,
                            safety_backup=not args.no_safety_backup)
    printer.result(done, 'restored %s into %s' % (args.backup, args.into or args.service))
    return EXIT_OK


def _secrets(deployer, env, args, printer):
    if args.action == 'list':
        names = deployer.list_secrets(env)
        printer.result(names, '\n'.join(names) if names else 'no secret')
        return EXIT_OK
    services = [s for s in (args.services or '').split(',') if s] or None
    deployer.rotate_secrets(env, services=services, auto_deploy=not args.no_deploy)
    printer.result({'rotated': services or 'all'}, 'rotated')
    return EXIT_OK


def _servers(deployer, env, args, printer):
    rows = deployer.list_servers(env, zone=args.zone, status=args.status)
    printer.result(rows, table(['NAME', 'SERVICE', 'ZONE', 'PUBLIC', 'PRIVATE', 'SIZE', 'STATUS'], [
        [r.get('name', '-'), r.get('service') or '-', r.get('zone') or '-', r.get('public_ip') or '-',
         r.get('private_ip') or '-', r.get('size') or '-', r.get('status') or '-'] for r in rows]) if rows else 'no server')
    return EXIT_OK


def _provision(deployer, env, args, printer):
    deployer.run('provision', env)
    printer.result({'provisioned': True}, 'provisioned')
    return EXIT_OK


def _destroy(deployer, env, args, printer):
    if not args.yes:
        raise Usage('destroy needs --yes: it destroys %s; fix: add --yes'
                    % ('the server %s' % args.server if args.server else 'every server of %s/%s/%s'
                       % (deployer.user, deployer.project, env)))
    if args.server:
        deployer.destroy_server(args.server, env)
    else:
        deployer.run('destroy', env, fleet_confirm='%s/%s/%s' % (deployer.user, deployer.project, env))
    printer.result({'destroyed': args.server or 'all'}, 'destroyed')
    return EXIT_OK


def _health(deployer, env, args, printer):
    found = deployer.check_health(env)
    lines = []
    for server in sorted(found):
        said = 'healthy' if found[server]['healthy'] else '; '.join(found[server]['unhealthy'])
        lines.extend(found[server].get('lines') or ['%s: %s' % (server, said)])
    printer.result(found, '\n'.join(lines))
    return EXIT_OK if all(v['healthy'] for v in found.values()) else EXIT_FAILED


def _remove(deployer, env, args, printer):
    if not args.yes:
        raise Usage('remove needs --yes: it removes %s/%s/%s from its servers; fix: add --yes'
                    % (deployer.user, deployer.project, env))
    deployer.remove(env, purge=args.purge)
    printer.result({'removed': '%s/%s/%s' % (deployer.user, deployer.project, env)}, 'removed')
    return EXIT_OK


def _lock(deployer, env, args, printer, argv):
    path = lock.path_of(*_where(deployer, env))
    if args.action == 'status':
        held = lock.read(path)
        printer.result(held or {}, 'the lock of %s/%s/%s is %s' % (deployer.user, deployer.project, env,
                                                                   lock.describe(held) if held else 'free'))
        return EXIT_OK
    audit_path = audit.path_of(*_where(deployer, env))
    if args.action == 'acquire':
        if not args.message:
            raise Usage('lock acquire needs -m MESSAGE: say why, others will read it; fix: add -m "..."')
        held = lock.acquire(path, args.message)
        audit.record(audit_path, ['fleet'] + argv, 'ok', 0)
        printer.result(held, 'locked %s/%s/%s: %s' % (deployer.user, deployer.project, env, args.message))
        return EXIT_OK
    released = lock.release(path)
    audit.record(audit_path, ['fleet'] + argv, 'ok' if released else 'was not held', 0)
    printer.result({'released': released}, 'released' if released else 'the lock was not held')
    return EXIT_OK


def _audit(deployer, env, args, printer, argv):
    records = audit.read(audit.path_of(*_where(deployer, env)), args.limit)
    printer.result(records, table(['WHEN', 'WHO', 'COMMAND', 'OUTCOME', 'SECONDS'], [
        [r['at'], r['who'], r['command'], r['outcome'], str(r['seconds'])] for r in records]) if records else 'nothing recorded')
    return EXIT_OK


COMMANDS = {'validate': _validate, 'plan': _plan, 'deploy': _deploy, 'rollback': _rollback, 'status': _status,
            'logs': _logs, 'history': _history, 'backup': _backup, 'backups': _backups, 'restore': _restore,
            'secrets': _secrets, 'servers': _servers, 'provision': _provision, 'destroy': _destroy, 'health': _health,
            'remove': _remove, 'lock': _lock, 'audit': _audit}


if __name__ == '__main__':
    sys.exit(main())
