# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The project spec a user writes: defaults, validation, normalisation and startup order.

Pure, no I/O.  :func:`validate_project` checks a whole spec before any host is
touched and returns it normalised (every key of every service present, with its
default); it raises :class:`SpecError` on the first problem.
:func:`collect_errors` reports every problem instead.  Each problem is one line:

    {source}: {key.path}: {what is wrong}; fix: {how to fix it}

The keys and defaults are those of the seed's ``add_service``, ``add_postgres``,
``add_redis``, ``add_opensearch``, ``add_python_service``, ``add_nodejs_service``
and ``add_react_service``, plus the fleet's extensions; :data:`SERVICE_KEYS` is
the one table that drives type checks, defaults and which service types take
which key.  What would start a database without its generated password is
refused by the rules of ``_spec/auth``.  docs/spec.md documents every key.
"""

from __future__ import annotations

import copy
import difflib
import functools
import re
from collections import namedtuple

from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec import auth
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.cron import cron_error
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.naming import RESERVED_SERVICE_NAMES, id_error
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.sizes import size_error, zone_error

TOP_KEYS = ('fleet_user', 'fleet_project', 'docker_hub_user', 'fleet_version', 'services')

DATABASES = {
    # type: (container port, default version, default backup schedule)
    'postgres': (5432, '15', '0 2 * * *'),
    'redis': (6379, '7-alpine', '0 3 * * *'),
    'opensearch': (9200, '2', '0 4 * * *'),  # not in the seed: after the other two
}
BUILT_TYPES = ('python', 'nodejs', 'react')
TYPES = ('custom',) + tuple(DATABASES) + BUILT_TYPES
REACT_PORT = 80

SSL_MODES = ('letsencrypt', 'self-signed', 'cloudflare', 'none')
PACKAGE_MANAGERS = ('npm', 'yarn', 'pnpm')
# what heal.yml does when the server of a database dies (docs/health.md)
HEAL_MODES = ('alert', 'restore_latest_backup')
MAX_SERVERS = 50
DEFAULT_MAX_SERVERS = 10
AUTO_SCALING_DEFAULTS = {
    'vertical': {'cpu_scale_up': 75, 'cpu_scale_down': 20, 'memory_scale_up': 80, 'memory_scale_down': 30},
    'horizontal': {'rps_scale_up': 500, 'rps_scale_down': 50, 'min_servers': 1, 'max_servers': None},
}

ENV_NAME_RE = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*$')
TAG_RE = re.compile(r'^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$')
_COMPONENT = r'[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*'
_LABEL = r'[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?'
# As Docker tells a registry from a user: a host with a dot or a port, or localhost.
_REGISTRY = r'(?:%s(?:\.%s)+(?::[0-9]+)?|localhost(?::[0-9]+)?|%s:[0-9]+)' % (_LABEL, _LABEL, _LABEL)
HUB_USER_RE = re.compile(r'^(?:(?:%s/)?%s(?:/%s)*|%s)/?$' % (_REGISTRY, _COMPONENT, _COMPONENT, _REGISTRY))
IMAGE_RE = re.compile(r'^(?:%s/)?%s(?:/%s)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$'
                      % (_REGISTRY, _COMPONENT, _COMPONENT))
DOMAIN_LABEL_RE = re.compile(r'^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$')
MEMORY_RE = re.compile(r'^([0-9]+(?:\.[0-9]+)?)([bkmg])$')
VOLUME_NAME_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]*$')
PYTHON_VERSION_RE = re.compile(r'^3\.[0-9]{1,2}(?:\.[0-9]{1,2})?$')
NODE_VERSION_RE = re.compile(r'^[0-9]{1,2}(?:\.[0-9]{1,3}){0,2}$')
GIT_URL_RE = re.compile(r'^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<netloc>[^/]*)(?P<path>/.*)?$')
GIT_SCP_RE = re.compile(r'^(?:[A-Za-z0-9._-]+@)?[A-Za-z0-9.-]+:(?P<path>[^/].*)$')
GIT_SCHEMES = ('https', 'http', 'ssh', 'git', 'file')
GIT_REF_RE = re.compile(r'^[A-Za-z0-9_][A-Za-z0-9._/-]*$')
_SAFE_KEY_RE = re.compile(r'^[A-Za-z0-9_-]+$')

_BAD = object()  # a value that failed its check (already reported)


class SpecError(Exception):
    """One problem in a spec: ``.path`` is the key path, ``.message`` is ``what; fix: how``."""

    def __init__(self, path, what, fix, source='<spec>'):
        self.path = _one_line(path)
        self.what = _one_line(what)
        self.fix = _one_line(fix)
        self.source = _one_line(source)
        self.message = '%s; fix: %s' % (self.what, self.fix)
        super(SpecError, self).__init__(str(self))

    def __str__(self):
        return '%s: %s: %s' % (self.source, self.path, self.message)


def _one_line(text):
    return ' '.join(str(text).split('\n')).replace('\r', ' ')


class _Report(object):
    """Collects problems; in ``first`` mode the first one is raised at once."""

    def __init__(self, source, first):
        self.source = source
        self.first = first
        self.errors = []
        self.warnings = []

    def error(self, path, what, fix):
        err = SpecError(path, what, fix, self.source)
        if self.first:
            raise err
        self.errors.append(err)
        return _BAD

    def warn(self, path, what, fix):
        self.warnings.append(str(SpecError(path, what, fix, self.source)))


# ---------------------------------------------------------------- small helpers

def _q(value, limit=60):
    """A value as it appears in a message: quoted, one line, short."""
    if isinstance(value, str):
        text = repr(str(value))
    elif isinstance(value, (bool, int, float)) or value is None:
        text = repr(value)
    else:
        text = repr(_plain(value))
    return text if len(text) <= limit else text[:limit - 4] + '...' + text[-1]


def _plain(value):
    """Plain JSON types (Ansible hands over str/dict/list subclasses)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, dict):
        return dict((_plain(k), _plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return str(value)


def _join(path, key):
    key = _plain(key)
    if isinstance(key, str) and _SAFE_KEY_RE.match(key):
        return '%s.%s' % (path, key) if path else key
    return '%s[%s]' % (path, _q(key))


def _did_you_mean(word, choices):
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return "did you mean '%s'? " % close[0] if close else ''


def check_selected(spec, service, source='<spec>'):
    """SpecError unless ``service`` (the run's fleet_service) is one of the spec's services."""
    if service and service not in spec['services']:
        known = sorted(spec['services'])
        raise SpecError('fleet_service', 'unknown service %r' % _plain(service),
                        '%suse one of %s' % (_did_you_mean(service, known), ', '.join(known)), source)


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _a(value):
    """What kind of YAML value this is, for messages."""
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'a boolean (%s)' % ('true' if value else 'false')
    for kind, name in ((str, 'a string'), (int, 'a number'), (float, 'a decimal number'),
                       (list, 'a list'), (dict, 'a mapping')):
        if isinstance(value, kind):
            return name
    return 'a %s' % type(value).__name__


def _holds_number(value, kind):
    """True when a string holds what ``kind`` wants: ``'8000'`` for an int, ``'0.5'`` for a number."""
    pattern = r'^-?[0-9]+$' if kind == 'int' else r'^-?[0-9]+(?:\.[0-9]+)?$'
    return isinstance(value, str) and re.match(pattern, value.strip()) is not None


# ---------------------------------------------------------------- types

KIND_NAMES = {'str': 'a string', 'int': 'a whole number', 'number': 'a number', 'bool': 'true or false',
              'list': 'a list', 'dict': 'a mapping', 'scaling': 'true, false or a mapping'}


def _type_fix(kind, value, secret):
    """How to write ``value`` as ``kind``, or None if it already is one."""
    if kind == 'str':
        if isinstance(value, str):
            return None
        if isinstance(value, (bool, int, float)) and not secret:
            shown = str(value).lower() if isinstance(value, bool) else str(value)
            return 'write it in quotes: "%s"' % shown
        return 'write it as one quoted string'
    if kind in ('int', 'number'):
        if _is_int(value) or (kind == 'number' and _is_number(value)):
            return None
        if _holds_number(value, kind) and not secret:
            return 'write %s without quotes' % value.strip()
        if isinstance(value, float):
            return 'write a whole number such as %d' % int(value)
        return 'write a number' + (', not true or false' if isinstance(value, bool) else '')
    if kind == 'bool' or kind == 'scaling':
        if isinstance(value, bool) or (kind == 'scaling' and isinstance(value, dict)):
            return None
        if isinstance(value, str) and value.strip().lower() in ('true', 'false', 'yes', 'no', 'on', 'off'):
            word = 'true' if value.strip().lower() in ('true', 'yes', 'on') else 'false'
            return 'write %s without quotes' % word
        return 'write true or false' + (' or a mapping with vertical and horizontal' if kind == 'scaling' else '')
    if kind == 'list':
        if isinstance(value, list):
            return None
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            return 'write a list: [%s]' % value
        return 'write a list: [a, b]'
    if kind == 'dict':
        if isinstance(value, dict):
            return None
        return 'write a mapping, one "KEY: value" per line'
    raise ValueError('unknown kind %r' % (kind,))


def _typed(report, path, value, kind, secret=False):
    """``value`` if it is of ``kind`` (bool never counts as a number), else report and ``_BAD``."""
    fix = _type_fix(kind, value, secret)
    if fix is None:
        return value
    got = _a(value) if secret or value is None or isinstance(value, bool) else '%s %s' % (_a(value), _q(value))
    return report.error(path, 'must be %s, got %s' % (KIND_NAMES[kind], got), fix)


def _in_range(report, path, value, low, high, fix=None):
    if value is _BAD or value is None:
        return value
    if low <= value <= (high if high is not None else value):
        return value
    bounds = 'from %s to %s' % (low, high) if high is not None else 'at least %s' % low
    return report.error(path, '%s is out of range: it must be %s' % (value, bounds),
                        fix or 'use a value %s' % bounds)


def _choice(report, path, value, choices, what):
    if value in choices:
        return value
    return report.error(path, 'unknown %s %s' % (what, _q(value)),
                        '%suse one of %s' % (_did_you_mean(value, choices), ', '.join(choices)))


# ---------------------------------------------------------------- value checks (one key, no context)
# Each takes (report, path, value) with the type already checked and returns the
# normalised value, or the result of report.error().

def _check_text(report, path, value):
    if not value.strip():
        return report.error(path, 'is empty', 'write a value or leave the key out')
    return value


def _check_port(report, path, value):
    return _in_range(report, path, value, 1, 65535)


def _check_ports(report, path, value):
    ports = []
    for index, port in enumerate(value):
        item = '%s[%d]' % (path, index)
        port = _typed(report, item, port, 'int')
        port = _in_range(report, item, port, 1, 65535)
        if port is _BAD:
            continue
        if port in ports:
            report.error(item, 'port %d is listed twice' % port, 'list each port once')
            continue
        ports.append(port)
    return ports


def _check_servers_count(report, path, value):
    return _in_range(report, path, value, 1, MAX_SERVERS,
                     'use 1 to %d servers; to stop running a service, remove it from services' % MAX_SERVERS)


def _check_positive(report, path, value):
    return _in_range(report, path, value, 1, None)


def _check_zone(report, path, value):
    err = zone_error(value)
    if err:
        what, _sep, fix = err.partition('; fix: ')
        return report.error(path, what, fix)
    return value


def _check_domain(report, path, value):
    text = value.strip()
    fixed = text.lower().rstrip('.')
    for prefix in ('https://', 'http://'):
        if fixed.startswith(prefix):
            fixed = fixed[len(prefix):]
    fixed = fixed.split('/')[0].split(':')[0]
    labels = fixed.split('.')
    valid = (len(fixed) <= 253 and len(labels) >= 2 and all(DOMAIN_LABEL_RE.match(lb) for lb in labels)
             and not labels[-1].isdigit())
    if text == fixed and valid:
        return text
    if valid:
        return report.error(path, '%s is not a bare lowercase host name' % _q(value), "write '%s'" % fixed)
    return report.error(path, '%s is not a valid DNS host name' % _q(value),
                        'write a lowercase name with at least two labels of letters, digits and "-", '
                        'for example api.example.com')


def _check_ssl_mode(report, path, value):
    return _choice(report, path, value, SSL_MODES, 'ssl_mode')


def _check_cron(report, path, value):
    err = cron_error(value)
    if err:
        return report.error(path, 'invalid cron expression %s: %s' % (_q(value), err),
                            'write five fields "minute hour day-of-month month day-of-week", '
                            'for example "*/5 * * * *" or "0 3 * * *", or a macro such as @daily')
    return value.strip()


def _check_startup_order(report, path, value):
    return _in_range(report, path, value, 1, 1000,
                     'use a whole number from 1 (first) up, or leave it out to derive it from depends_on')


def _check_percent(report, path, value):
    return _in_range(report, path, value, 1, 100)


def _check_tag(report, path, value):
    if TAG_RE.match(value):
        return value
    return report.error(path, '%s is not a valid image tag' % _q(value),
                        'use letters, digits, "_", "." and "-" (at most 128, not starting with "." or "-"), '
                        'for example "15" or "1.2.0"')


def _check_image(report, path, value):
    if IMAGE_RE.match(value):
        return value
    return report.error(path, '%s is not a valid image reference' % _q(value),
                        'write [registry/]name[:tag] in lowercase, for example nginx:1.27 or '
                        'ghcr.io/acme/api:1.0')


def _check_relative(report, path, value):
    if not value.strip():
        return report.error(path, 'is empty', 'write a path or leave the key out')
    if value.startswith('/') or '..' in value.split('/'):
        return report.error(path, '%s leaves the build context' % _q(value),
                            'write a path inside the build context, such as build or dist')
    return value


def _check_dockerfile_content(report, path, value):
    if not value:
        return report.error(path, 'is an empty mapping', 'give the Dockerfile lines as "1": FROM ..., "2": ...')
    lines = {}
    for key, line in value.items():
        number = _dockerfile_line(report, _join(path, key), key, line, lines)
        if number is _BAD:
            return _BAD
        lines[number] = line
    first = min(lines)
    if not lines[first].lstrip().upper().startswith(('FROM ', 'ARG ', '#')):
        return report.error(_join(path, str(first)), 'the first Dockerfile line must be FROM (or ARG)',
                            'start with a line such as "FROM python:3.11-slim"')
    return dict((str(n), lines[n]) for n in sorted(lines))


def _dockerfile_line(report, path, key, line, seen):
    """The line number of one ``"N": line`` entry, or ``_BAD``."""
    number = key if _is_int(key) else int(key) if isinstance(key, str) and key.isdigit() else None
    if number is None:
        return report.error(path, 'line key %s is not a line number' % _q(key),
                            'number the lines "1", "2", "3", ... (the order of the Dockerfile)')
    if number in seen:
        return report.error(path, 'line number %d appears twice' % number, 'give every line its own number')
    if _typed(report, path, line, 'str') is _BAD:
        return _BAD
    if not line.strip() or '\n' in line:
        return report.error(path, 'must be one non-empty Dockerfile line',
                            'write one instruction per numbered key (end a line with \\ to continue it)')
    return number


def split_git_repo(value):
    """``'https://host/x.git@main'`` -> ``('https://host/x.git', 'main')``; ref None when absent.

    Raises ValueError with a one-line reason when the value is not ``URL[@ref]``.
    """
    if not value:
        raise ValueError('it is empty')
    if any(c.isspace() for c in value):
        raise ValueError('it contains spaces')
    match = GIT_URL_RE.match(value)
    if match:
        if match.group('scheme').lower() not in GIT_SCHEMES:
            raise ValueError('the URL scheme %r is not one of %s' % (match.group('scheme'), ', '.join(GIT_SCHEMES)))
        if ':' in match.group('netloc').rpartition('@')[0]:
            raise ValueError('the URL carries a password or token')
        url, rest = '%s://%s' % (match.group('scheme'), match.group('netloc')), match.group('path') or ''
    else:
        match = GIT_SCP_RE.match(value)
        if not match:
            raise ValueError('it is neither scheme://host/path nor user@host:path')
        url, rest = value[:match.start('path')], match.group('path')
    path, sep, ref = rest.partition('@')
    if path.strip('/') == '':
        raise ValueError('the URL has no repository path')
    if sep and (not GIT_REF_RE.match(ref) or '..' in ref or ref.endswith(('/', '.', '.lock'))):
        raise ValueError('the ref after "@" (%r) is not a valid branch, tag or commit' % ref)
    return url + path, (ref if sep else None)


def _check_git_repo(report, path, value):
    try:
        split_git_repo(value)
    except ValueError as exc:
        if 'password' in str(exc):
            return report.error(path, 'the repository URL carries a password or token',
                                'remove it from the URL and set git_token instead')
        return report.error(path, '%s is not URL@ref: %s' % (_q(value), exc),
                            'write for example https://github.com/user/api.git@main (the @ref is optional)')
    return value


def _check_env_vars(report, path, value):
    result = {}
    for name, val in value.items():
        item = _join(path, name)
        if not isinstance(name, str) or not ENV_NAME_RE.match(name):
            report.error(item, '%s is not a valid environment variable name' % _q(name),
                         'use letters, digits and "_", not starting with a digit, for example API_KEY')
            continue
        if name.upper().startswith('FLEET_'):
            report.error(item, 'names starting with FLEET_ are set by the collection',
                         'choose another name')
            continue
        if val is None:
            report.error(item, 'has no value', 'write %s: "" for an empty value' % name)
            continue
        if isinstance(val, (list, dict)):
            report.error(item, 'must be a single value, got %s' % _a(val),
                         'write one string (JSON-encode structured values yourself)')
            continue
        result[str(name)] = ('true' if val else 'false') if isinstance(val, bool) else str(val)
    return result


def _check_server_settings(report, path, value):
    """Names as the server spells them, one plain value each; what they may not touch is ``auth``'s."""
    result = {}
    for name, val in value.items():
        item = _join(path, name)
        if not isinstance(name, str) or not auth.SETTING_NAME_RE.match(name):
            report.error(item, '%s is not a server setting name' % _q(name),
                         'write the name in lowercase as the server spells it, for example maxmemory or '
                         'max_connections')
        elif val is None or isinstance(val, (list, dict)):
            report.error(item, 'must be a single value (text, a number or true/false), got %s' % _a(val),
                         'write %s: "" for an empty value' % name if val is None else
                         'write one value; for redis, several words in one string ("900 1 300 10")')
        elif any(c in str(val) for c in '\n\r\0'):
            report.error(item, 'must be one line', 'write the value on one line')
        else:
            result[str(name)] = val
    return result


def _check_volumes(report, path, value):
    result = {}
    targets = set()
    for source, target in value.items():
        item = _join(path, source)
        if not isinstance(source, str) or not _volume_source_ok(source):
            report.error(item, 'volume source %s is neither a volume name nor a path inside the project '
                         'directory' % _q(source),
                         'use a volume name such as uploads, or a relative path such as files/static '
                         '(absolute host paths are refused: they could reach other tenants)')
            continue
        target = _typed(report, item, target, 'str')
        if target is _BAD:
            continue
        container_path = target.rsplit(':', 1)[0] if target.endswith((':ro', ':rw')) else target
        if (not container_path.startswith('/') or container_path == '/' or ':' in container_path
                or '..' in container_path.split('/')):
            report.error(item, 'container path %s is not an absolute path' % _q(target),
                         'write an absolute path such as /app/uploads (optionally ending :ro)')
            continue
        if container_path in targets:
            report.error(item, 'container path %s is mounted twice' % _q(container_path),
                         'mount each container path once')
            continue
        targets.add(container_path)
        result[str(source)] = str(target)
    return result


def _volume_source_ok(source):
    if VOLUME_NAME_RE.match(source) and '/' not in source:
        return True
    parts = source.split('/')
    return (not source.startswith('/') and ':' not in source and '..' not in parts
            and all(VOLUME_NAME_RE.match(p) or p == '.' for p in parts if p))


def is_named_volume(source):
    """A volume source without ``/`` is a Docker named volume (data); with ``/`` a project path."""
    return '/' not in source


def _check_depends_on(report, path, value):
    names = []
    for index, name in enumerate(value):
        item = '%s[%d]' % (path, index)
        name = _typed(report, item, name, 'str')
        if name is _BAD:
            continue
        if name in names:
            report.error(item, "'%s' is listed twice" % name, 'list each dependency once')
            continue
        names.append(str(name))
    return names


def _check_str_list(report, path, value):
    result = []
    for index, item in enumerate(value):
        item = _typed(report, '%s[%d]' % (path, index), item, 'str')
        if item is not _BAD:
            result.append(_check_relative(report, '%s[%d]' % (path, index), item))
    return [r for r in result if r is not _BAD]


def _pattern_check(regex, example):
    def check(report, path, value):
        if regex.match(value):
            return value
        return report.error(path, '%s is not a valid version' % _q(value), 'write it like "%s"' % example)
    return check


def _check_heal(report, path, value):
    return _choice(report, path, value, HEAL_MODES, 'heal mode')


def _check_package_manager(report, path, value):
    return _choice(report, path, value, PACKAGE_MANAGERS, 'package manager')


def memory_mb(text):
    """Docker memory syntax (``512m``, ``1g``, ``1.5g``, ``65536k``) in MB, or None."""
    match = MEMORY_RE.match(text.strip().lower())
    if not match:
        return None
    factor = {'b': 1.0 / (1024 * 1024), 'k': 1.0 / 1024, 'm': 1.0, 'g': 1024.0}[match.group(2)]
    return float(match.group(1)) * factor


def _check_memory(report, path, value):
    size = memory_mb(value)
    if size is None:
        return report.error(path, '%s is not a Docker memory size' % _q(value),
                            'write a number with a unit b, k, m or g, for example "512m" or "1g"')
    if size < 6:
        return report.error(path, '%s is below the Docker minimum of 6m' % _q(value), 'use at least "6m"')
    return value.strip().lower()


def _check_cpus(report, path, value):
    if value <= 0:
        return report.error(path, 'must be more than 0, got %s' % value, 'write for example 0.5 or 1')
    return float(value)


def _check_health_path(report, path, value):
    if not value.startswith('/') or any(c.isspace() for c in value):
        return report.error(path, '%s is not a URL path' % _q(value), "write a path starting with /, such as /health")
    return value


def _ranged(low, high):
    def check(report, path, value):
        return _in_range(report, path, value, low, high)
    return check


def _check_auto_scaling(report, path, value):
    """``False``, or the seed's defaults with the given sections merged over them."""
    if value is False:
        return False
    merged = copy.deepcopy(AUTO_SCALING_DEFAULTS)
    if value is True:
        return merged
    for section, settings in value.items():
        item = _join(path, section)
        if section not in merged:
            report.error(item, 'unknown auto_scaling section %s' % _q(section),
                         '%suse vertical and/or horizontal' % _did_you_mean(section, merged))
        elif settings is False:
            merged[section] = False
        elif settings is not True and _typed(report, item, settings, 'dict') is not _BAD:
            _merge_scaling(report, item, settings, merged[section])
    for section in ('vertical', 'horizontal'):
        if merged[section]:
            _check_scaling_pairs(report, _join(path, section), merged[section])
    return merged


def _merge_scaling(report, path, settings, target):
    for key, val in settings.items():
        item = _join(path, key)
        if key not in target:
            report.error(item, 'unknown setting %s' % _q(key),
                         '%suse %s' % (_did_you_mean(key, target), ', '.join(sorted(target))))
            continue
        val = _typed(report, item, val, 'int')
        if key.endswith(('_scale_up', '_scale_down')) and not key.startswith('rps'):
            val = _check_percent(report, item, val)
        elif key.endswith('_servers'):
            val = _in_range(report, item, val, 1, MAX_SERVERS)
        else:
            val = _in_range(report, item, val, 1, 1000000)
        if val is not _BAD:
            target[key] = val


def _check_scaling_pairs(report, path, settings):
    for low_key, high_key in (('cpu_scale_down', 'cpu_scale_up'), ('memory_scale_down', 'memory_scale_up'),
                              ('rps_scale_down', 'rps_scale_up'), ('min_servers', 'max_servers')):
        low, high = settings.get(low_key), settings.get(high_key)
        if low is not None and high is not None and low >= high and not (low_key == 'min_servers' and low == high):
            report.error(_join(path, low_key), '%s %d is not below %s %d' % (low_key, low, high_key, high),
                         'make %s lower than %s' % (low_key, high_key))


# ---------------------------------------------------------------- the key table

Key = namedtuple('Key', 'kind default types check')
ALL = TYPES
APPS = ('custom',) + BUILT_TYPES
RUNS_COMMAND = ('custom', 'postgres', 'redis', 'opensearch', 'python', 'nodejs')

SERVICE_KEYS = {
    # seed: add_service
    'type': Key('str', None, ALL, None),
    'image': Key('str', None, ('custom',), _check_image),
    'dockerfile': Key('str', None, ('custom',), _check_text),
    'dockerfile_content': Key('dict', None, ('custom',), _check_dockerfile_content),
    'build_context': Key('str', None, APPS, _check_text),
    'git_repo': Key('str', None, APPS, _check_git_repo),
    'git_token': Key('str', None, APPS, None),
    'command': Key('str', None, RUNS_COMMAND, _check_text),
    'ports': Key('list', [], ('custom', 'python', 'nodejs'), _check_ports),
    'env_vars': Key('dict', {}, ALL, _check_env_vars),
    'volumes': Key('dict', {}, ALL, _check_volumes),
    'depends_on': Key('list', [], ALL, _check_depends_on),
    'servers_count': Key('int', 1, ALL, _check_servers_count),
    'server_zone': Key('str', 'lon1', ALL, _check_zone),
    'server_cpu': Key('int', 1, ALL, _check_positive),
    'server_memory': Key('int', 1024, ALL, _check_positive),
    'domain': Key('str', None, APPS, _check_domain),
    'ssl_mode': Key('str', None, APPS, _check_ssl_mode),
    'hsts': Key('bool', False, APPS, None),
    'schedule': Key('str', None, ('custom', 'python', 'nodejs'), _check_cron),
    'health_check': Key('bool', True, ALL, None),
    'restart': Key('bool', True, ALL, None),
    'startup_order': Key('int', None, ALL, _check_startup_order),
    'auto_scaling': Key('scaling', False, ALL, _check_auto_scaling),
    # seed: add_postgres / add_redis / add_opensearch; for the others the fleet's image tag
    'version': Key('str', None, ALL, _check_tag),
    # seed: add_python_service / add_nodejs_service / add_react_service
    'port': Key('int', None, ('python', 'nodejs'), _check_port),
    'python_version': Key('str', '3.11', ('python',), _pattern_check(PYTHON_VERSION_RE, '3.11')),
    'requirements_files': Key('list', ['requirements.txt'], ('python',), _check_str_list),
    'node_version': Key('str', '18', ('nodejs', 'react'), _pattern_check(NODE_VERSION_RE, '18')),
    'package_manager': Key('str', 'npm', ('nodejs', 'react'), _check_package_manager),
    'build_command': Key('str', None, ('nodejs', 'react'), _check_text),
    'output_dir': Key('str', 'build', ('react',), _check_relative),
    'nginx_config': Key('str', None, ('react',), _check_text),
    # fleet extensions
    'mem_limit': Key('str', None, ALL, _check_memory),
    'mem_reservation': Key('str', None, ALL, _check_memory),
    'cpus': Key('number', None, ALL, _check_cpus),
    'shm_size': Key('str', None, ALL, _check_memory),
    'health_path': Key('str', None, APPS, _check_health_path),
    'health_retries': Key('int', 6, ALL, _ranged(1, 100)),
    'health_interval': Key('int', 10, ALL, _ranged(1, 3600)),
    'health_start_period': Key('int', 0, ALL, _ranged(0, 3600)),
    'health_timeout': Key('int', 5, ALL, _ranged(1, 600)),
    'scan_command': Key('str', None, ALL, _check_text),
    'backup_schedule': Key('str', None, tuple(DATABASES), _check_cron),
    'backup_keep': Key('int', 7, tuple(DATABASES), _ranged(1, 1000)),
    'heal': Key('str', 'alert', ('postgres', 'redis', 'opensearch'), _check_heal),
    # the safe way to tune a database: _spec/auth refuses what would drop its generated password
    'server_settings': Key('dict', {}, ('postgres', 'redis', 'opensearch'), _check_server_settings),
}
SECRET_KEYS = frozenset(['git_token'])
POSTGRES_SHM_SIZE = '256m'
SOURCE_KEYS = ('image', 'dockerfile', 'dockerfile_content')


def type_defaults(service_type):
    """The defaults that differ by service type (version and backup of databases, react's build)."""
    if service_type in DATABASES:
        _port, version, backup = DATABASES[service_type]
        found = {'version': version, 'backup_schedule': backup}
        if service_type == 'postgres':
            # Docker's 64 MiB /dev/shm is too small for postgres' parallel queries and maintenance
            # ("could not resize shared memory segment"); its dynamic shared memory lives there
            found['shm_size'] = POSTGRES_SHM_SIZE
        return found
    if service_type == 'react':
        return {'build_command': 'npm run build'}
    return {}


def keys_for(service_type):
    """The spec keys a service of this type accepts, in table order."""
    return [k for k, key in SERVICE_KEYS.items() if service_type in key.types]


# ---------------------------------------------------------------- one service

def _unknown_key(report, path, service_type, key):
    allowed = keys_for(service_type)
    known = SERVICE_KEYS.get(key)
    hint = _did_you_mean(key, allowed)
    if known:
        owners = ', '.join(t for t in TYPES if t in known.types)
        what = "'%s' does not apply to a %s service (only to %s services)" % (key, service_type, owners)
        if service_type in DATABASES and key in SOURCE_KEYS + ('build_context', 'git_repo', 'git_token'):
            fix = 'remove it: a %s service runs the official image; set version to choose its tag' % service_type
        elif service_type in BUILT_TYPES and key in SOURCE_KEYS:
            fix = 'remove it (%s services get a generated Dockerfile), or use type: custom' % service_type
        else:
            fix = hint + 'remove it' if hint else 'remove it'
    else:
        what = 'unknown key %s for a %s service' % (_q(key), service_type)
        fix = hint + 'see docs/spec.md' if hint else 'remove it; %s services take %s' % (
            service_type, ', '.join(sorted(allowed)))
    report.error(_join(path, key), what, fix)


def _service_type(report, path, raw):
    value = raw.get('type')
    if value is None:
        return 'custom'
    if _typed(report, _join(path, 'type'), value, 'str') is _BAD:
        return _BAD
    return _choice(report, _join(path, 'type'), str(value), TYPES, 'service type')


def _read_keys(report, path, raw, service_type, fleet_version):
    """Every key of the type: the given value checked, or the default. Returns (values, bad keys)."""
    defaults = dict((k, SERVICE_KEYS[k].default) for k in keys_for(service_type))
    defaults.update(type_defaults(service_type))
    if service_type not in DATABASES:
        defaults['version'] = fleet_version
    values, bad = {}, set()
    for key in keys_for(service_type):
        spec = SERVICE_KEYS[key]
        value = raw.get(key)
        if key == 'type' or value is None or (value == '' and spec.kind == 'str' and spec.default is None):
            values[key] = copy.deepcopy(defaults[key])
            continue
        value = _typed(report, _join(path, key), value, spec.kind, key in SECRET_KEYS)
        if value is not _BAD and spec.check:
            value = spec.check(report, _join(path, key), value)
        if value is _BAD:
            bad.add(key)
            value = copy.deepcopy(defaults[key])
        values[key] = _plain(value)
    return values, bad


def container_port(service_type, svc):
    """The port the service listens on inside its container, or None for a worker."""
    if service_type in DATABASES:
        return DATABASES[service_type][0]
    if service_type == 'react':
        return REACT_PORT
    if svc.get('port'):
        return svc['port']
    return svc['ports'][0] if svc.get('ports') else None


def _check_sources(report, path, svc, service_type, bad):
    """Where the image comes from: exactly one source, built from exactly one place."""
    if bad & set(SOURCE_KEYS + ('build_context', 'git_repo')):
        return
    places = [k for k in ('build_context', 'git_repo') if svc.get(k)]
    if service_type == 'custom':
        sources = [k for k in SOURCE_KEYS if svc.get(k)]
        if not sources:
            report.error(path, 'the service has no image source',
                         'set image (e.g. image: nginx:1.27), or dockerfile or dockerfile_content together with '
                         'build_context or git_repo, or choose a type: %s' % ', '.join(TYPES[1:]))
            return
        if len(sources) > 1:
            report.error(_join(path, sources[1]), '%s are all set' % ' and '.join(sources)
                         if len(sources) > 2 else '%s and %s are both set' % tuple(sources),
                         'keep exactly one of image, dockerfile and dockerfile_content')
            return
        if sources[0] == 'image':
            if places:
                report.error(_join(path, places[0]), 'an image is pulled, not built, so %s has no use' % places[0],
                             'remove %s, or build with dockerfile or dockerfile_content instead of image'
                             % places[0])
            return
    if service_type in DATABASES:
        return
    if not places:
        report.error(path, 'the service has no code to build', 'set build_context (a directory) or git_repo (URL@ref)')
    elif len(places) > 1 and isinstance(svc['build_context'], str) and not _is_subdirectory(svc['build_context']):
        report.error(_join(path, 'build_context'),
                     'with git_repo, build_context is the directory of the checkout to build, got %r'
                     % svc['build_context'],
                     'give a relative path inside the repository (for example services/api), or remove git_repo '
                     'to build a directory of the controller')


def _is_subdirectory(value):
    """A relative path that stays inside the directory it is relative to (no ``..``, not absolute)."""
    parts = value.replace('\\', '/').split('/')
    return bool(value.strip()) and not value.startswith('/') and '..' not in parts


def _check_service_rules(report, path, svc, service_type, bad):
    """Rules between keys of one service."""
    _check_sources(report, path, svc, service_type, bad)
    for keys, what, fix in auth.problems(service_type, svc):
        report.error(functools.reduce(_join, keys, path), what, fix)
    if svc.get('git_token') and not svc.get('git_repo') and 'git_repo' not in bad:
        report.error(_join(path, 'git_token'), 'git_token is set but git_repo is not',
                     'set git_repo, or remove git_token')
    if service_type in ('python', 'nodejs') and not svc.get('command') and 'command' not in bad:
        example = 'uvicorn main:app --host 0.0.0.0' if service_type == 'python' else 'node server.js'
        report.error(_join(path, 'command'), 'a %s service needs a command' % service_type,
                     'set command, for example "%s"' % example)
    if not bad & {'server_cpu', 'server_memory'}:
        _check_resources(report, path, svc)
    port = container_port(service_type, svc)
    if svc.get('domain'):
        if svc.get('schedule'):
            report.error(_join(path, 'domain'), 'a scheduled job does not serve requests, so it has no domain',
                         'remove domain, or remove schedule to run a web service')
        elif port is None and not bad & {'port', 'ports'}:
            report.error(_join(path, 'domain'), 'the service has a domain but listens on no port',
                         'set port (python, nodejs) or ports (custom), or remove domain')
    if svc.get('ssl_mode') and not svc.get('domain') and 'domain' not in bad:
        report.error(_join(path, 'ssl_mode'), 'ssl_mode is set but domain is not', 'set domain, or remove ssl_mode')
    if svc.get('hsts') and svc.get('ssl_mode') in ('none', 'cloudflare'):
        report.error(_join(path, 'hsts'), 'hsts needs the edge to serve HTTPS, and ssl_mode is %s' % svc['ssl_mode'],
                     'set ssl_mode: letsencrypt or self-signed, or remove hsts')
    if svc.get('auto_scaling') and 'servers_count' not in bad:
        _check_scaling_bounds(report, _join(path, 'auto_scaling'), svc)


def _check_resources(report, path, svc):
    err = size_error(svc['server_cpu'], svc['server_memory'])
    if err:
        what, _sep, fix = err.partition('; fix: ')
        report.error(_join(path, 'server_cpu'), what, fix)
        return
    for key in ('mem_limit', 'mem_reservation', 'shm_size'):
        if svc.get(key) and memory_mb(svc[key]) > svc['server_memory']:
            report.error(_join(path, key), '%s %s is more than the server memory (%d MB)'
                         % (key, svc[key], svc['server_memory']),
                         'lower %s or raise server_memory' % key)
            return
    if svc.get('mem_limit') and svc.get('mem_reservation') and \
            memory_mb(svc['mem_reservation']) > memory_mb(svc['mem_limit']):
        report.error(_join(path, 'mem_reservation'), 'mem_reservation %s is more than mem_limit %s'
                     % (svc['mem_reservation'], svc['mem_limit']), 'make mem_reservation at most mem_limit')
    if svc.get('cpus') and svc['cpus'] > svc['server_cpu']:
        report.error(_join(path, 'cpus'), 'cpus %g is more than the server has (%d vCPU)'
                     % (svc['cpus'], svc['server_cpu']), 'lower cpus or raise server_cpu')


def _check_scaling_bounds(report, path, svc):
    horizontal = svc['auto_scaling']['horizontal']
    if not horizontal:
        return
    count = svc['servers_count']
    if not horizontal['min_servers'] <= count <= horizontal['max_servers']:
        report.error(_join(path, 'horizontal'), 'servers_count %d is outside min_servers %d .. max_servers %d'
                     % (count, horizontal['min_servers'], horizontal['max_servers']),
                     'make min_servers <= servers_count <= max_servers')


def _fill_derived_defaults(svc):
    """Defaults that depend on other keys: the auto-scaling ceiling."""
    horizontal = svc['auto_scaling'] and svc['auto_scaling']['horizontal']
    if horizontal and horizontal['max_servers'] is None:
        horizontal['max_servers'] = max(DEFAULT_MAX_SERVERS, svc['servers_count'], horizontal['min_servers'])


def _role(svc):
    if svc['stateful']:
        return 'database'
    if svc.get('schedule'):
        return 'scheduled'
    if svc['container_port'] is not None:
        return 'web'
    return 'worker'


def _service(report, path, name, raw, fleet_version):
    """The normalised service, or None when it cannot be read at all (already reported)."""
    if not isinstance(raw, dict):
        report.error(path, 'must be a mapping of service keys, got %s' % _a(raw),
                     'write for example "%s: {type: redis}"' % name)
        return None
    service_type = _service_type(report, path, raw)
    if service_type is _BAD:
        return None
    for key in raw:
        if key not in SERVICE_KEYS or service_type not in SERVICE_KEYS[key].types:
            _unknown_key(report, path, service_type, key)
    svc, bad = _read_keys(report, path, raw, service_type, fleet_version)
    _fill_derived_defaults(svc)
    _check_service_rules(report, path, svc, service_type, bad)
    full = dict((k, None) for k in SERVICE_KEYS)
    full.update(svc)
    full.update(name=name, type=service_type, container_port=container_port(service_type, svc))
    full['stateful'] = service_type in DATABASES or any(is_named_volume(s) for s in svc['volumes'])
    full['role'] = _role(full)
    full['_bad'] = bad
    return full


# ---------------------------------------------------------------- the project

def _check_top(report, raw, env):
    """The project-level keys; returns (user, project, docker_hub_user, version)."""
    for key in raw:
        if key not in TOP_KEYS:
            report.error(_join('', key), 'unknown top-level key %s' % _q(key),
                         '%sthe top-level keys are %s' % (_did_you_mean(key, TOP_KEYS), ', '.join(TOP_KEYS)))
    if env is not None:
        _check_id(report, 'fleet_env', 'env', env, 'choose the environment with -e fleet_env=prod')
    user = _required_id(report, raw, 'fleet_user', 'user', 'u1')
    project = _required_id(report, raw, 'fleet_project', 'project', 'myapp')
    hub = raw.get('docker_hub_user')
    if hub not in (None, ''):
        hub = _typed(report, 'docker_hub_user', hub, 'str')
        if hub is not _BAD and not HUB_USER_RE.match(hub):
            hub = report.error('docker_hub_user', '%s is neither a Docker Hub user nor a registry' % _q(hub),
                               'write a lowercase Docker Hub user (myusername), a registry host with optional '
                               'path (127.0.0.1:5000/team, no http://), or leave it empty to send images over SSH')
        hub = None if hub is _BAD else str(hub).rstrip('/')
    version = raw.get('fleet_version')
    if version in (None, ''):
        version = 'latest'
    else:
        version = _typed(report, 'fleet_version', version, 'str')
        version = 'latest' if version is _BAD else _check_tag(report, 'fleet_version', str(version))
    return user, project, hub or None, version


def _check_id(report, path, kind, value, fix):
    err = id_error(kind, value)
    if err:
        report.error(path, err, fix)
        return _BAD
    return str(value)


def _required_id(report, raw, key, kind, example):
    if raw.get(key) in (None, ''):
        return report.error(key, 'is missing', 'add for example "%s: %s"' % (key, example))
    return _check_id(report, key, kind, raw[key], 'rename it, for example %s: %s' % (key, example))


def _check_service_name(report, name):
    err = id_error('service', name)
    if not err:
        return True
    path = _join('services', name)
    if name in RESERVED_SERVICE_NAMES:
        report.error(path, err, "rename it, for example '%s-app'; other services refer to it by the new name" % name)
    else:
        report.error(path, err, 'rename the service, for example api, web-1 or worker')
    return False


def _services(report, raw, fleet_version):
    value = raw.get('services')
    if value is None:
        report.error('services', 'is missing', 'add a services mapping, for example "services: '
                     '{postgres: {type: postgres}}"')
        return {}
    if not isinstance(value, dict) or not value:
        report.error('services', 'must be a non-empty mapping of service name to settings, got %s%s'
                     % ('an empty mapping' if isinstance(value, dict) else _a(value),
                        '' if isinstance(value, dict) else ' ' + _q(value)),
                     'list the services, for example "services: {postgres: {type: postgres}}"')
        return {}
    services = {}
    for name, svc in value.items():
        if _check_service_name(report, name):
            services[str(name)] = _service(report, _join('services', name), str(name), svc, fleet_version)
    return services


def _check_dependencies(report, services, known):
    """Unknown names and self-dependencies; keeps the others in ``_deps`` for ordering."""
    for name, svc in services.items():
        kept = []
        for index, dep in enumerate(svc['depends_on']):
            path = '%s[%d]' % (_join(_join('services', name), 'depends_on'), index)
            if dep == name:
                report.error(path, "'%s' depends on itself" % name, 'remove %s from its own depends_on' % name)
            elif dep not in known:
                report.error(path, 'unknown service %s' % _q(dep),
                             '%sknown services: %s' % (_did_you_mean(dep, known), ', '.join(known)))
            else:
                kept.append(dep)
        svc['_deps'] = kept


def _find_cycles(services):
    """Every dependency cycle once, each as a list of names starting and ending with the same one."""
    cycles, seen, done = [], set(), set()

    def visit(name, trail):
        if name in done:
            return
        if name in trail:
            cycle = trail[trail.index(name):] + [name]
            key = frozenset(cycle)
            if key not in seen:
                seen.add(key)
                cycles.append(cycle)
            return
        svc = services.get(name)
        for dep in (svc or {}).get('_deps', ()):
            visit(dep, trail + [name])
        done.add(name)

    for name in services:
        visit(name, [])
    return cycles


def _startup_orders(report, services):
    """The seed's rule: no dependencies -> 1, else 1 + the highest order of its dependencies.

    An explicit startup_order wins; one that does not come after a dependency is a warning.
    """
    orders = {}

    def order_of(name):
        if name not in orders:
            svc = services[name]
            derived = 1 + max([order_of(d) for d in svc['_deps']] or [0])
            orders[name] = svc['startup_order'] or derived
        return orders[name]

    for name in services:
        order_of(name)
        svc = services[name]
        for dep in svc['_deps']:
            if svc['startup_order'] and orders[dep] >= svc['startup_order']:
                report.warn(_join(_join('services', name), 'startup_order'),
                            'startup_order %d does not come after its dependency %s (order %d), so %s may '
                            'start before %s is up' % (svc['startup_order'], dep, orders[dep], name, dep),
                            'raise startup_order above %d or leave it out' % orders[dep])
    return orders


def _check_domains(report, services):
    owners = {}
    for name, svc in services.items():
        domain = svc.get('domain')
        if domain and domain in owners:
            report.error(_join(_join('services', name), 'domain'),
                         "domain %s is also the domain of service '%s'" % (domain, owners[domain]),
                         'give every service its own domain')
        elif domain:
            owners[domain] = name


def _validate(raw, source, env, first):
    report = _Report(source, first)
    if not isinstance(raw, dict):
        report.error('spec', 'the spec must be a mapping of top-level keys, got %s' % _a(raw),
                     'write fleet_user, fleet_project and services at the top level of the file')
        return report, None
    user, project, hub, version = _check_top(report, raw, env)
    services = _services(report, raw, version)
    readable = dict((n, s) for n, s in services.items() if s is not None)
    good = dict((n, s) for n, s in readable.items() if 'depends_on' not in s['_bad'])
    _check_dependencies(report, good, sorted(services))
    cycles = _find_cycles(good)
    for cycle in cycles:
        report.error(_join(_join('services', cycle[0]), 'depends_on'),
                     'dependency cycle %s' % ' -> '.join(cycle),
                     'remove one of these depends_on entries; startup needs an order')
    _check_domains(report, readable)
    if report.errors or cycles or len(good) != len(services):
        return report, None
    orders = _startup_orders(report, good)
    groups = {}
    for name, svc in services.items():
        svc['startup_order'] = orders[name]
        groups.setdefault(orders[name], []).append(name)
        del svc['_bad'], svc['_deps']
    return report, {
        'user': user,
        'project': project,
        'env': None if env is None else str(env),
        'docker_hub_user': hub,
        'version': version,
        'services': services,
        'startup_groups': [sorted(groups[o]) for o in sorted(groups)],
        'warnings': report.warnings,
    }


def validate_project(raw, source='<spec>', env=None):
    """Return the normalised project; raise :class:`SpecError` on the first problem."""
    _report, project = _validate(raw, source, env, first=True)
    return project


def spec_errors(raw, source='<spec>', env=None):
    """Every problem of the spec as a :class:`SpecError` (``.path`` names its key); empty when it is valid."""
    report, _project = _validate(raw, source, env, first=False)
    return list(report.errors)


def collect_errors(raw, source='<spec>', env=None):
    """Every problem of the spec as one line each (an empty list when it is valid)."""
    return [str(err) for err in spec_errors(raw, source, env)]
