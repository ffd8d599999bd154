# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A database always runs with its generated password: what a spec may not set, and the safe way.

Pure, no I/O, standard library only (the backup program carries ``schema`` and this with it).
``_spec/wiring`` starts postgres with the image's own command, set up by
``POSTGRES_PASSWORD_FILE`` (the owner role gets the generated password, network logins need
it), and redis as ``redis-server /run/secrets/redis.conf``, the file that holds
``requirepass``. :data:`GUARDS` lists, per database type, the spec forms that would start the
server another way:

- ``command``: refused outright. A command of its own replaces the collection's, and
  redis reads arguments after its configuration file as overrides (``--requirepass ""``), so
  "the collection's command plus extra arguments" would need every argument checked anyway:
  ``server_settings`` is exactly that, as a checked mapping (:func:`server_args`).
- ``env_vars`` that the image reads to set, replace or skip the password or its role (the
  spec's env_vars win over the collection's in the container).
- ``volumes`` at, inside or above a container path where the password, the login rules or a
  password-less way in live.
- ``server_settings`` that decide who may log in or where the server reads that from.

And, for every service type, a volume source in the project's ``secrets/`` directory or named
like the collection's data volumes (``data_postgres``).
(There is no ``entrypoint`` key; databases take no ``image``.) :func:`problems` returns each
problem as ``(keys, what, fix)``; ``schema`` reports it as one line.
"""

from __future__ import annotations

import json
import posixpath
import re
import shlex
from collections import namedtuple

SECRETS_DIR = '/run/secrets'  # wiring.SECRETS_IN_CONTAINER (a unit test keeps them equal)
PG_SOCKET = "postgres' local socket, which logs in without a password"

Guard = namedtuple('Guard', 'command env paths settings example')

GUARDS = {
    'postgres': Guard(
        command='a command of its own could start postgres with other login rules (another hba_file, config_file '
                "or data directory); the collection runs the image's own, set up with the generated password",
        env={
            'POSTGRES_PASSWORD': 'would replace the generated password',
            'POSTGRES_PASSWORD_FILE': 'would replace the generated password file',
            'POSTGRES_USER': 'would rename the role that gets the generated password (clients log in as the '
                             "collection's)",
            'POSTGRES_USER_FILE': 'would rename the role that gets the generated password',
            'POSTGRES_HOST_AUTH_METHOD': 'would change how postgres checks logins over the network (trust: with no '
                                         'password at all)',
            'POSTGRES_INITDB_ARGS_FILE': 'would pass initdb options that cannot be checked here (--auth decides how '
                                         'logins are checked)',
            'PGDATA': 'would move the database out of its data volume (a directory set up elsewhere keeps its own '
                      'logins and pg_hba.conf)',
        },
        paths={
            SECRETS_DIR: 'the generated password files',
            '/var/lib/postgresql/data': 'the data directory, whose pg_hba.conf says how logins are checked',
            '/var/run/postgresql': PG_SOCKET,
            '/run/postgresql': PG_SOCKET,
        },
        settings={
            'hba_file': 'says how logins are checked',
            'ident_file': 'maps system users to database roles at login',
            'config_file': "would replace the data directory's postgresql.conf, which can name another hba_file",
            'data_directory': 'would start another data directory, with its own logins and pg_hba.conf',
            'unix_socket_directories': 'would move the local socket, which logs in without a password',
            'unix_socket_group': 'opens the local socket, which logs in without a password, to others',
            'unix_socket_permissions': 'opens the local socket, which logs in without a password, to others',
        },
        example='{max_connections: 200, shared_buffers: 256MB}'),
    'redis': Guard(
        command='a command of its own would start redis without its generated password; the collection runs '
                'redis-server %s/redis.conf, the file that holds it' % SECRETS_DIR,
        env={
            # read by other redis images than the official one (which reads none): cheap to refuse
            'ALLOW_EMPTY_PASSWORD': 'makes some redis images run without a password',
            'REDIS_PASSWORD': 'makes some redis images use another password',
            'REDIS_PASSWORD_FILE': 'makes some redis images use another password',
            'REDIS_ACLFILE': 'gives some redis images another file of users and passwords',
            'REDIS_ARGS': 'passes server arguments in some redis images, which can change the password',
            'REDIS_EXTRA_FLAGS': 'passes server arguments in some redis images, which can change the password',
        },
        paths={SECRETS_DIR: 'the generated password files (redis.conf)'},
        settings={
            'requirepass': 'is the password itself',
            'protected-mode': "is set by the collection's redis.conf",
            'user': 'defines users and their passwords (user default nopass ... lets anyone in)',
            'aclfile': 'names a file of users and passwords',
            'include': 'reads another configuration file, which can set the password',
            'rename-command': 'can rename AUTH, ACL and CONFIG, which logins and password rotation use',
            'masterauth': 'is a password, and server settings are on the command line (docker inspect shows them)',
        },
        example='{maxmemory: 100mb, maxmemory-policy: allkeys-lru}'),
    # No generated password yet, so nothing to keep. When opensearch gets one (its security plugin with
    # OPENSEARCH_INITIAL_ADMIN_PASSWORD), its command, DISABLE_SECURITY_PLUGIN and plugins.security.disabled
    # belong here, and server_settings can take it (schema.SERVICE_KEYS).
    'opensearch': Guard(command=None, env={}, paths={}, settings={}, example=None),
}

# initdb options in POSTGRES_INITDB_ARGS that set the login rules, the first password or its role.
INITDB_OPTIONS = {
    '-A': 'how logins are checked', '--auth': 'how logins are checked',
    '--auth-host': 'how logins are checked', '--auth-local': 'how logins are checked',
    '--pwfile': 'the first password', '-W': 'the first password', '--pwprompt': 'the first password',
    '-U': 'the role that gets the password', '--username': 'the role that gets the password',
}
SETTING_NAME_RE = re.compile(r'^[a-z][a-z0-9_.-]*$')
_PLAIN_YAML = re.compile(r'^[A-Za-z0-9_][A-Za-z0-9_./-]*$')


def setting_name(service_type, name):
    """The name the server knows a setting by: postgres reads ``-`` in ``-c`` names as ``_``."""
    return name.replace('-', '_') if service_type == 'postgres' else name


def setting_text(service_type, value):
    """A server_settings value as the server reads it: true/false are yes/no (redis), on/off (postgres),
    true/false (opensearch)."""
    if isinstance(value, bool):
        return {'redis': ('yes', 'no'), 'opensearch': ('true', 'false')}.get(service_type, ('on', 'off'))[0 if value else 1]
    return str(value)


def server_args(service_type, settings):
    """``server_settings`` as server arguments, sorted by name: redis ``--name word...``, postgres ``-c name=value``.

    A redis value of several words is several arguments (``save: "900 1 300 10"``), an empty one
    is one empty argument (``save: ""``).
    """
    args = []
    for name in sorted(settings):
        text = setting_text(service_type, settings[name])
        if service_type == 'redis':
            args += ['--' + name] + (text.split() or [''])
        else:
            args += ['-c', '%s=%s' % (name, text)]
    return args


def problems(service_type, svc):
    """Every spec form in the validated service ``svc`` that would drop its generated password.

    A list of ``(keys, what, fix)``: ``keys`` is the key path below the service, as a tuple.
    """
    found = [(('volumes', source), what, fix) for source, what, fix in _shared_sources(svc.get('volumes') or {})]
    guard = GUARDS.get(service_type)
    if not guard or not guard.command:
        return found
    keeps = '%s always runs with its generated password' % service_type
    safe = 'put settings of the server itself in server_settings, for example server_settings: %s' % guard.example
    if svc.get('command'):
        found.append((('command',), guard.command,
                      'remove command and put the settings in server_settings, for example server_settings: %s'
                      % suggest_settings(service_type, svc['command'])))
    for name, value in sorted((svc.get('env_vars') or {}).items()):
        option = _initdb_option(value) if name == 'POSTGRES_INITDB_ARGS' and service_type == 'postgres' else None
        if name in guard.env:
            found.append((('env_vars', name), '%s %s, and %s' % (name, guard.env[name], keeps),
                          'remove %s; %s' % (name, safe)))
        elif option:
            found.append((('env_vars', name), 'POSTGRES_INITDB_ARGS sets %s, which decides %s, and %s'
                          % (option, INITDB_OPTIONS[option], keeps),
                          'remove %s from POSTGRES_INITDB_ARGS; %s' % (option, safe)))
    for source, target in sorted((svc.get('volumes') or {}).items()):
        found.extend((('volumes', source), what, '%s; %s' % (fix, safe)) for what, fix in _covered(guard, target))
    for name, value in sorted((svc.get('server_settings') or {}).items()):
        known = setting_name(service_type, name)
        if known in guard.settings:
            found.append((('server_settings', name), '%s %s, and %s' % (name, guard.settings[known], keeps),
                          'remove %s from server_settings (rotate_secrets.yml changes the password)' % name))
        elif service_type == 'redis' and any(w.startswith('--') for w in setting_text(service_type, value).split()):
            found.append((('server_settings', name), 'the value has a word starting with --, which redis would read '
                          'as another setting', 'give each setting its own key in server_settings'))
    return found


def _shared_sources(volumes):
    """``(source, what, fix)`` for a source that shares what holds a password or the login rules.

    A path in the project's secrets/ directory (or the project directory), and a named volume
    called like the collection's own, ``{user}_{project}_{env}_data_{service}`` (postgres keeps
    its pg_hba.conf there) and ``..._logs_{service}``.
    """
    for source in sorted(volumes):
        parts = [p for p in source.split('/') if p not in ('', '.')]
        if '/' in source and (not parts or parts[0] == 'secrets'):
            yield (source, 'this mounts %s, where the generated passwords are: a container could read or replace '
                   'them' % ("the project's secrets directory" if parts else 'the project directory with its secrets'),
                   "mount a directory beside it, such as files/uploads; a service gets its dependencies' password "
                   'files through depends_on')
        elif '/' not in source and source.startswith(('data_', 'logs_')):
            yield (source, 'volume names starting with data_ or logs_ are the collection\'s own (data_postgres is the '
                   "data volume of service postgres, whose pg_hba.conf says how logins are checked)",
                   'choose another name, such as uploads')


def _covered(guard, target):
    """``(what, fix)`` for the first guarded path that the container path of ``target`` is at, inside or above."""
    path = target.rsplit(':', 1)[0] if target.endswith((':ro', ':rw')) else target
    path = '/' + posixpath.normpath(path).lstrip('/')
    for guarded, holds in sorted(guard.paths.items()):
        if path == guarded or path.startswith(guarded + '/'):
            verb = 'cover'
        elif guarded.startswith(path + '/'):
            verb = 'take in'
        else:
            continue
        yield ('a mount at %s would %s %s, %s' % (path, verb, guarded, holds),
               'mount it elsewhere, not at, inside or above %s' % guarded)
        return


def _initdb_option(value):
    """The first option of :data:`INITDB_OPTIONS` in an initdb argument string, or None.

    As initdb's getopt reads them: a long option by any prefix (``--auth-h=trust``), short ones
    also in a bundle (``-kAtrust``: -k takes no argument).
    """
    try:
        words = shlex.split(value)
    except ValueError:
        words = value.split()
    for word in words:
        if word.startswith('--') and len(word) > 2:
            given = word[2:].split('=', 1)[0]
            for option in sorted(INITDB_OPTIONS):
                if option.startswith('--') and option[2:].startswith(given):
                    return option
        elif word.startswith('-'):
            for letter in word[1:]:
                if '-' + letter in INITDB_OPTIONS:
                    return '-' + letter
                if letter not in 'dgknNsS':  # the rest is this option's argument
                    break
    return None


def suggest_settings(service_type, command):
    """The server_settings (YAML flow text) that say what ``command`` set, or the type's example.

    redis: every ``--name value...``; postgres: every ``-c name=value`` and ``--name=value``.
    Settings refused by :data:`GUARDS` are left out.
    """
    try:
        words = shlex.split(command)
    except ValueError:
        words = []
    found = {}
    if service_type == 'redis':
        name = None
        for word in words:
            if word.startswith('--') and len(word) > 2:
                name = word[2:].lower()
                found[name] = []
            elif name is not None:
                found[name].append(word)
        found = dict((n, ' '.join(v)) for n, v in found.items())
    else:
        for index, word in enumerate(words):
            option = (words[index + 1] if word == '-c' and index + 1 < len(words)
                      else word[2:] if word.startswith(('--', '-c')) else '')
            name, sep, value = option.partition('=')
            if sep:
                found[setting_name(service_type, name)] = value
    guard = GUARDS[service_type]
    shown = ['%s: %s' % (n, v if _PLAIN_YAML.match(v) else json.dumps(v)) for n, v in found.items()
             if SETTING_NAME_RE.match(n) and setting_name(service_type, n) not in guard.settings]
    return '{%s}' % ', '.join(shown) if shown else guard.example
