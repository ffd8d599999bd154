# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Dockerfiles of Node.js services (``type: nodejs``) and React sites (``type: react``), as pure text.

Build context layout, as for Python services::

    <context>/
      app/                  the user's code: package.json and its lockfile at the top

The builds use BuildKit syntax that the Dockerfile frontend built into Docker 20.10
knows (``RUN --mount``; no ``# syntax=`` line, no heredocs) and reach the npm
registry during the build. Each install step mounts two optional secrets:

* ``fleet_ca``: a PEM CA bundle. When present, ``NODE_EXTRA_CA_CERTS`` points at it
  (only in that step's shell); npm, yarn 1 and pnpm all run on Node.js, which adds
  it to its built-in roots, so a TLS-intercepting proxy is trusted without dropping
  the public roots (``cafile`` would replace them).
* ``fleet_npmrc``: an npm configuration file (registry, auth tokens). When present,
  ``NPM_CONFIG_USERCONFIG`` points at it; npm, pnpm (``@pnpm/npm-conf``) and yarn 1
  (which reads ``npm_config_*`` variables and the ``userconfig`` they name) use it.

Secrets are mounted under ``/run/secrets`` only while the step runs: nothing of
them is in a layer, an ``ENV`` or the image history. Package caches are BuildKit
cache mounts (not layers either).

Layers are ordered for cache reuse: the package manifest and lockfile are copied
and installed before the code, so a change to the code reuses the dependency
layers. The caller must not put ``node_modules`` into the context (the builder
removes any it finds in the code before the runtime stage copies the code).

``nodejs``: stages ``builder`` (all dependencies and ``build_command`` when given;
otherwise just the code), ``prod-deps`` (production dependencies only, ``--omit=dev``
/ ``--production`` / ``--prod``) and ``runtime``: ``node_modules`` from ``prod-deps``
first, as its own layer, then the code from ``builder`` without ``node_modules``; user
``node`` (uid 1000), ``NODE_ENV=production``. Node.js writes to pipes and files
synchronously on Linux, so the logs are not buffered.

``react``: stage ``builder`` installs everything and runs ``build_command``; the
``runtime`` stage is nginx serving ``output_dir`` as uid 101 (``nginx``): a
generated ``nginx.conf`` with the pid file and temporary paths under ``/tmp``, logs
to stdout/stderr, listening on ``port`` (Docker 20.10+ lets unprivileged users
bind low ports inside a container), and a ``server {}`` with the SPA fallback
(``try_files $uri $uri/ /index.html``), or the user's own ``nginx_config``. The
configuration is written by a ``RUN printf`` step: no extra files in the context.
"""

from __future__ import annotations

import json
import re
import shlex

from ansible_collections.projectdeployer.fleet.plugins.module_utils._build.dockerfile import (
    DEFAULT_SOURCE_DIR, HEALTHCHECK_OPTIONS, DockerfileError, _context_path, command_list)
from ansible_collections.projectdeployer.fleet.plugins.module_utils._build.dockerfile_custom import fleet_label_lines
from ansible_collections.projectdeployer.fleet.plugins.module_utils._build.registry_errors import NPM_NETWORK

APP_DIR = '/app'
NODE_UID = 1000
NGINX_UID = 101
NGINX_ROOT = '/usr/share/nginx/html'
NGINX_HEALTH_PATH = '/fleet-health'
PNPM_VERSION = '8.15.9'
PACKAGE_MANAGERS = ('npm', 'yarn', 'pnpm')
# The lockfiles each package manager reads, in the order it prefers them.
LOCKFILES = {
    'npm': ('npm-shrinkwrap.json', 'package-lock.json'),
    'yarn': ('yarn.lock',),
    'pnpm': ('pnpm-lock.yaml',),
}
CA_SECRET = 'fleet_ca'
NPMRC_SECRET = 'fleet_npmrc'
SECRETS_DIR = '/run/secrets'
CACHE_DIRS = {
    'npm': '/root/.npm',
    'yarn': '/root/.cache/yarn',
    'pnpm': '/root/.cache/pnpm-store',
}
STATIC_FILE_RE = r'\.(?:js|mjs|css|map|png|jpe?g|gif|svg|ico|webp|avif|woff2?|ttf|eot)$'


def _image(value, what, example):
    if not isinstance(value, str) or not value.strip() or any(c.isspace() for c in value):
        raise DockerfileError('%s must be an image reference such as %s, got %r' % (what, example, value))
    return value


def _port(port, what='port'):
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise DockerfileError('%s %r is not a TCP port: use 1-65535' % (what, port))
    return port


def _package_manager(package_manager):
    if package_manager not in PACKAGE_MANAGERS:
        raise DockerfileError('package_manager %r is not supported: use one of %s'
                              % (package_manager, ', '.join(PACKAGE_MANAGERS)))
    return package_manager


def _shell_command(value, what, example):
    """A shell command for a ``RUN`` line: a string on one line, or a list joined with shell quoting."""
    if isinstance(value, (list, tuple)):
        value = ' '.join(shlex.quote(str(arg)) for arg in value)
    if not isinstance(value, str) or not value.strip():
        raise DockerfileError('%s must be a shell command such as %r' % (what, example))
    if any(c in value for c in '\n\r'):
        raise DockerfileError('%s %r must be one line: join the commands with &&' % (what, value))
    return value.strip()


def chosen_lockfile(package_manager, lockfiles):
    """The lockfile ``package_manager`` installs from, out of the names in ``lockfiles``, or None.

    ``lockfiles`` are the lockfile names present beside ``package.json`` (any of
    :data:`LOCKFILES`); those of other package managers are ignored.
    """
    known = sorted(set(name for names in LOCKFILES.values() for name in names))
    present = list(lockfiles or [])
    for name in present:
        if name not in known:
            raise DockerfileError('lockfile %r is not one of %s' % (name, ', '.join(known)))
    for name in LOCKFILES[_package_manager(package_manager)]:
        if name in present:
            return name
    return None


def install_command(package_manager, lockfile, production=False):
    """The install command line of ``package_manager``: frozen when there is a lockfile."""
    if package_manager == 'npm':
        argv = ['npm', 'ci' if lockfile else 'install']
        if production:
            argv.append('--omit=dev')
        argv += ['--no-audit', '--no-fund']
    elif package_manager == 'yarn':
        argv = ['yarn', 'install']
        if lockfile:
            argv.append('--frozen-lockfile')
        if production:
            argv.append('--production')
        argv += ['--non-interactive', '--cache-folder', CACHE_DIRS['yarn']]
    else:
        argv = ['pnpm', 'install']
        argv.append('--frozen-lockfile' if lockfile else '--no-frozen-lockfile')
        if production:
            argv.append('--prod')
        argv += ['--store-dir', CACHE_DIRS['pnpm']]
    return ' '.join(argv)


def _network_run(cache_ids, commands):
    """A ``RUN`` step that may use the network: the two optional secrets, cache mounts, then ``commands``.

    The secrets are exported as paths only inside this shell, only when mounted.
    """
    mounts = ['--mount=type=secret,id=%s' % CA_SECRET, '--mount=type=secret,id=%s' % NPMRC_SECRET]
    for manager in cache_ids:
        mount = '--mount=type=cache,id=fleet-%s,target=%s' % (manager, CACHE_DIRS[manager])
        if manager == 'yarn':
            mount += ',sharing=locked'     # yarn 1's cache is not safe for concurrent writers
        mounts.append(mount)
    ca = '%s/%s' % (SECRETS_DIR, CA_SECRET)
    npmrc = '%s/%s' % (SECRETS_DIR, NPMRC_SECRET)
    steps = [
        # a registry that does not answer fails within about a minute, not at build_timeout
        'export %s' % ' '.join('%s=%s' % item for item in sorted(NPM_NETWORK.items())),
        'if [ -f %s ]; then export NODE_EXTRA_CA_CERTS=%s; fi' % (ca, ca),
        'if [ -f %s ]; then export NPM_CONFIG_USERCONFIG=%s; fi' % (npmrc, npmrc),
    ] + list(commands)
    return 'RUN %s \\\n    %s \\\n    %s' % (' '.join(mounts[:2]), ' '.join(mounts[2:]), '; \\\n    '.join(steps))


def _manifest_copy(source_dir, lockfile):
    files = ['%s/package.json' % source_dir]
    if lockfile:
        files.append('%s/%s' % (source_dir, lockfile))
    return 'COPY %s' % json.dumps(files + ['%s/' % APP_DIR])


def _install_stage(name, base, package_manager, lockfile, source_dir, production):
    """``FROM base AS name``, the manifests, and the install step."""
    caches = ['npm', 'pnpm'] if package_manager == 'pnpm' else [package_manager]
    commands = [install_command(package_manager, lockfile, production)]
    if production:
        commands[0] += ' && mkdir -p node_modules'     # a package without dependencies has none
    return [
        'FROM %s AS %s' % (base, name),
        'WORKDIR %s' % APP_DIR,
        _manifest_copy(source_dir, lockfile),
        _network_run(caches, commands),
    ]


def _pnpm_stage(node_image):
    """The stage that adds the pinned pnpm to ``node_image`` (npm ships with Node.js, pnpm does not)."""
    return [
        '# pnpm %s on top of the Node.js image.' % PNPM_VERSION,
        'FROM %s AS pnpm' % node_image,
        _network_run(['npm'], ['npm install -g --no-audit --no-fund pnpm@%s' % PNPM_VERSION]),
        '',
    ]


def _node_health_cmd(port, health_path):
    """The exec-form HEALTHCHECK command: an HTTP GET with the image's own ``node``, healthy below 400."""
    path = health_path or '/'
    if not path.startswith('/'):
        path = '/' + path
    code = ('const r = require("http").get({host: "127.0.0.1", port: %d, path: %s, timeout: 4000}, '
            '(s) => process.exit(s.statusCode < 400 ? 0 : 1)); '
            'r.on("error", () => process.exit(1)); r.on("timeout", () => process.exit(1));'
            % (port, json.dumps(path)))
    return json.dumps(['node', '-e', code])


def _check_health_path(health_path):
    if health_path is not None and (not isinstance(health_path, str) or not health_path
                                    or any(c.isspace() for c in health_path)):
        raise DockerfileError('health_path %r must be a URL path without spaces, such as /health' % (health_path,))


def nodejs_dockerfile(node_image, package_manager, command, port, build_command=None, health_path=None,
                      source_dir=DEFAULT_SOURCE_DIR, labels=None, lockfiles=None):
    """Return the text of the multi-stage Dockerfile of a Node.js service.

    ``package_manager`` is ``npm``, ``yarn`` or ``pnpm`` (pnpm
    :data:`PNPM_VERSION` is installed with npm in a ``pnpm`` stage; the runtime
    starts from it only when ``command`` runs ``pnpm``). ``lockfiles`` are the
    lockfile names present beside ``package.json`` (see :func:`chosen_lockfile`):
    with one the install is frozen (``npm ci``, ``--frozen-lockfile``). ``command``
    is a shell-like string or a list, run in exec form from ``/app``;
    ``build_command`` (a shell command, for example ``npm run build``) runs in a
    builder stage after the code is copied; without it the runtime copies the code
    straight from the context (the caller keeps ``node_modules`` out of it). ``port`` may be None (workers): then no
    EXPOSE and no HEALTHCHECK; with a port, ``PORT`` is set in the environment and
    the health check GETs ``health_path`` (default ``/``). ``labels`` go into the
    final LABEL step with ``fleet.source_hash`` (build argument ``FLEET_SOURCE_HASH``).
    """
    node_image = _image(node_image, 'node_image', 'node:18-slim')
    package_manager = _package_manager(package_manager)
    if port is not None:
        _port(port)
    _check_health_path(health_path)
    source_dir = _context_path(source_dir, 'source_dir')
    argv = command_list(command)
    if build_command is not None:
        build_command = _shell_command(build_command, 'build_command', 'npm run build')
    lockfile = chosen_lockfile(package_manager, lockfiles)
    label_lines = fleet_label_lines(labels)
    tools = 'pnpm' if package_manager == 'pnpm' else node_image

    lines = ['# Generated by projectdeployer.fleet (image_build): multi-stage Node.js build (%s).' % package_manager]
    if package_manager == 'pnpm':
        lines += _pnpm_stage(node_image)
    if build_command:
        lines.append('# Stage: all dependencies, then the code and its build step.')
        lines += _install_stage('builder', tools, package_manager, lockfile, source_dir, production=False)
        lines += [
            'COPY %s' % json.dumps(['%s/' % source_dir, '%s/' % APP_DIR]),
            'RUN %s' % build_command,
            'RUN rm -rf %s/node_modules' % APP_DIR,
            '',
        ]
    lines.append('# Stage: production dependencies only.')
    lines += _install_stage('prod-deps', tools, package_manager, lockfile, source_dir, production=True)
    runtime_base = 'pnpm' if package_manager == 'pnpm' and argv[0] == 'pnpm' else node_image
    env = ['NODE_ENV=production', 'NPM_CONFIG_UPDATE_NOTIFIER=false']
    if port is not None:
        env.append('PORT=%d' % port)
    lines += [
        '',
        '# Stage: the runtime, production dependencies then the code, as a non-root user.',
        'FROM %s AS runtime' % runtime_base,
        'ENV %s' % ' '.join(env),
        'WORKDIR %s' % APP_DIR,
        'COPY --from=prod-deps %s/node_modules %s/node_modules' % (APP_DIR, APP_DIR),
        # the code: built in the builder, or straight from the context (which never holds node_modules)
        ('COPY --from=builder --chown=%d:%d %s/ %s/' % (NODE_UID, NODE_UID, APP_DIR, APP_DIR) if build_command else
         'COPY --chown=%d:%d %s' % (NODE_UID, NODE_UID, json.dumps(['%s/' % source_dir, '%s/' % APP_DIR]))),
    ]
    if port is not None:
        lines.append('EXPOSE %d' % port)
        lines.append('HEALTHCHECK %s CMD %s' % (HEALTHCHECK_OPTIONS, _node_health_cmd(port, health_path)))
    lines += [
        'USER %d:%d' % (NODE_UID, NODE_UID),
        'CMD %s' % json.dumps(argv),
    ] + label_lines + ['']
    return '\n'.join(lines)


def nginx_main_config():
    """The ``nginx.conf`` of a React image: runs as any user, pid and temporary files under /tmp."""
    return [
        '# Generated by projectdeployer.fleet: nginx as a non-root user.',
        'worker_processes auto;',
        'pid /tmp/nginx.pid;',
        'error_log /dev/stderr notice;',
        '',
        'events {',
        '    worker_connections 1024;',
        '}',
        '',
        'http {',
        '    include /etc/nginx/mime.types;',
        '    default_type application/octet-stream;',
        '    access_log /dev/stdout;',
        '    sendfile on;',
        '    keepalive_timeout 65;',
        '    server_tokens off;',
        '    gzip on;',
        '    gzip_types text/css application/javascript application/json image/svg+xml text/plain;',
        '    client_body_temp_path /tmp/nginx-client-body;',
        '    proxy_temp_path /tmp/nginx-proxy;',
        '    fastcgi_temp_path /tmp/nginx-fastcgi;',
        '    uwsgi_temp_path /tmp/nginx-uwsgi;',
        '    scgi_temp_path /tmp/nginx-scgi;',
        '    include /etc/nginx/conf.d/*.conf;',
        '}',
    ]


def nginx_spa_server(port):
    """The generated ``server {}`` of a React image: the static files, the SPA fallback, a health location."""
    return [
        '# Generated by projectdeployer.fleet: a single-page application.',
        'server {',
        '    listen %d;' % port,
        '    server_name _;',
        '    root %s;' % NGINX_ROOT,
        '    index index.html;',
        '    absolute_redirect off;',
        '',
        '    location = %s {' % NGINX_HEALTH_PATH,
        '        access_log off;',
        '        default_type text/plain;',
        '        return 200 "ok";',
        '    }',
        '',
        '    location = /index.html {',
        '        add_header Cache-Control "no-cache";',
        '    }',
        '',
        '    # a missing script, style, image or font is a 404, not the page',
        '    location ~* %s {' % STATIC_FILE_RE,
        '        try_files $uri =404;',
        '    }',
        '',
        '    location / {',
        '        try_files $uri $uri/ /index.html;',
        '    }',
        '}',
    ]


SERVER_BLOCK_RE = re.compile(r'^\s*(?:#[^\n]*\n\s*)*server\s*\{', re.MULTILINE)


def _user_server(nginx_config):
    if not isinstance(nginx_config, str) or not SERVER_BLOCK_RE.match(nginx_config):
        raise DockerfileError('nginx_config must be the text of a full server { ... } block (it replaces the '
                              'generated one)')
    text = nginx_config.replace('\r\n', '\n').replace('\r', '\n').strip('\n')
    if text.count('{') != text.count('}'):
        raise DockerfileError('nginx_config has %d "{" but %d "}": close every block'
                              % (text.count('{'), text.count('}')))
    return text.split('\n')


def _printf_to(path, lines):
    """A shell command writing ``lines`` to ``path``: one quoted argument per Dockerfile line.

    Each continued line starts with a quote, so no line of the text can look like a
    Dockerfile comment, and none can end in the escape character.
    """
    return "printf '%%s\\n' \\\n        %s \\\n        > %s" % (
        ' \\\n        '.join(shlex.quote(line) for line in lines), path)


def _nginx_health_cmd(port, http):
    """The exec-form HEALTHCHECK of the nginx runtime, with the image's perl (no curl or wget there).

    ``http``: GET the generated health location, healthy below 400; otherwise (a
    user ``nginx_config``) a TCP connect to ``port``.
    """
    connect = 'my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:%d", Timeout => 4) or exit 1;' % port
    if http:
        code = (connect + ' alarm 4; print $s "GET %s HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n";'
                ' my $l = <$s>; exit(defined $l && $l =~ m{^HTTP/\\S+ (\\d+)} && $1 < 400 ? 0 : 1);'
                % NGINX_HEALTH_PATH)
    else:
        code = connect + ' exit 0;'
    return json.dumps(['perl', '-MIO::Socket::INET', '-e', code])


def react_dockerfile(node_image, nginx_image, package_manager, build_command='npm run build', output_dir='build',
                     port=80, nginx_config=None, source_dir=DEFAULT_SOURCE_DIR, labels=None, lockfiles=None):
    """Return the text of the multi-stage Dockerfile of a React (static single-page) site.

    The ``builder`` stage (``node_image``) installs all dependencies (frozen with a
    lockfile, see :func:`nodejs_dockerfile`) and runs ``build_command``, which must
    write ``index.html`` into ``output_dir`` (relative to the code: ``build`` for
    Create React App, ``dist`` for Vite unless ``build.outDir`` says otherwise). The
    ``runtime`` stage (``nginx_image``) serves it as uid 101 on ``port`` with the SPA
    fallback, or with ``nginx_config`` (a full ``server {}`` block replacing the
    generated one; it must listen on ``port``, whose health check is then a TCP
    connect instead of an HTTP GET of ``/fleet-health``). The configuration is
    checked with ``nginx -t`` during the build.
    """
    node_image = _image(node_image, 'node_image', 'node:18-slim')
    nginx_image = _image(nginx_image, 'nginx_image', 'nginx:stable')
    package_manager = _package_manager(package_manager)
    _port(port)
    source_dir = _context_path(source_dir, 'source_dir')
    output_dir = _context_path(output_dir, 'output_dir')
    if output_dir == 'node_modules' or output_dir.startswith('node_modules/'):
        raise DockerfileError('output_dir %r is inside node_modules: give the build output directory, such as '
                              'build or dist' % (output_dir,))
    build_command = _shell_command(build_command, 'build_command', 'npm run build')
    server = _user_server(nginx_config) if nginx_config is not None else nginx_spa_server(port)
    lockfile = chosen_lockfile(package_manager, lockfiles)
    label_lines = fleet_label_lines(labels)
    tools = 'pnpm' if package_manager == 'pnpm' else node_image
    output = '%s/%s' % (APP_DIR, output_dir)

    lines = ['# Generated by projectdeployer.fleet (image_build): React build served by nginx (%s).'
             % package_manager]
    if package_manager == 'pnpm':
        lines += _pnpm_stage(node_image)
    lines.append('# Stage: all dependencies, then the code and its build step.')
    lines += _install_stage('builder', tools, package_manager, lockfile, source_dir, production=False)
    lines += [
        'COPY %s' % json.dumps(['%s/' % source_dir, '%s/' % APP_DIR]),
        'RUN %s' % build_command,
        'RUN test -f %s || { echo %s >&2; exit 1; }' % (
            shlex.quote(output + '/index.html'),
            shlex.quote('fleet: the build wrote no %s/index.html: set output_dir to the directory build_command '
                        'writes' % output_dir)),
        '',
        '# Stage: nginx serving the build output as a non-root user.',
        'FROM %s AS runtime' % nginx_image,
        'RUN rm -rf /etc/nginx/conf.d/* %s/* \\\n    && %s \\\n    && %s \\\n    && nginx -t \\\n'
        '    && rm -rf /tmp/nginx.pid /tmp/nginx-*'
        % (NGINX_ROOT, _printf_to('/etc/nginx/nginx.conf', nginx_main_config()),
           _printf_to('/etc/nginx/conf.d/default.conf', server)),
        'COPY --from=builder %s' % json.dumps(['%s/' % output, '%s/' % NGINX_ROOT]),
        'EXPOSE %d' % port,
        'HEALTHCHECK %s CMD %s' % (HEALTHCHECK_OPTIONS, _nginx_health_cmd(port, nginx_config is None)),
        'USER %d:%d' % (NGINX_UID, NGINX_UID),
        'CMD ["nginx", "-g", "daemon off;"]',
    ] + label_lines + ['']
    return '\n'.join(lines)
