# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The running nginx containers of the mesh: files, validation, graceful reload, lifecycle.

Used by the ``nginx_mesh`` module. The rendering itself is pure and lives in ``mesh.py``.
A configuration change goes: write ``*.new`` next to the live file, ``nginx -t`` it inside the
running container (or a throw-away one when none runs), rename it into place, ``nginx -s
reload`` and wait until every accepting worker is a new one. Anything that fails on the way
leaves the previous file in place and the previous configuration serving.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import http.client
import os
import posixpath
import re
import socket
import ssl
import tempfile
import time

from ansible_collections.projectdeployer.fleet.plugins.module_utils._mesh import lua as _lua
from ansible_collections.projectdeployer.fleet.plugins.module_utils._mesh import mesh as _mesh
from ansible_collections.projectdeployer.fleet.plugins.module_utils._mesh import tls as _tls
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec import naming
from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.docker import (
    APIError, FleetDockerError, ImageNotFound, NotFound, ensure_network, exec_text, get_container)

FILE_MODE = 0o644
DIR_MODE = 0o755
# certificates and their keys: root only (nginx's master reads them; the workers get them over the socket)
SECRET_MODE = 0o600
SECRET_DIR_MODE = 0o700
CONTROL_DIR = 'control'  # in the config dir: the control socket's directory, root only
CONTROL_DIR_MODE = 0o700
# nginx leaves its unix socket behind when it stops (nginx bug 753)
CONTROL_SOCKET_REL = posixpath.join(CONTROL_DIR, _lua.CONTROL_SOCKET)
CONTROL_TIMEOUT = 10
STOP_TIMEOUT = 10
START_TIMEOUT = 30
ERROR_MARKERS = ('[emerg]', '[alert]', '[crit]', '[error]')
LOG_PREFIX_RE = re.compile(r'^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d (\[\w+\]) \d+#\d+: (?:\*\d+ )?')

# One line of sh (no ps in the nginx images): "PID PPID CMDLINE" for every process, from /proc.
PS_SCRIPT = ('for d in /proc/[0-9]*; do s=$(cat "$d/stat" 2>/dev/null) || continue; '
             'c=$(tr "\\000" " " < "$d/cmdline" 2>/dev/null) || continue; '
             'set -- ${s##*") "}; echo "${d#/proc/} $2 $c"; done')


class MeshError(FleetDockerError):
    """A failure worth one clear line; ``detail`` carries nginx's own words when there are any."""


# ---------------------------------------------------------------------------------------------
# files


def read_text(path):
    try:
        with open(path) as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def ensure_dir(path, mode=DIR_MODE):
    os.makedirs(path, mode=mode, exist_ok=True)
    os.chmod(path, mode)
    _own_by_root(path)


def _own_by_root(path):
    if os.geteuid() == 0:
        os.chown(path, 0, 0)


def file_mode(rel):
    """The mode of a file of a config dir: 0600 for the certificates (``certs/``), else 0644."""
    return SECRET_MODE if rel.startswith(_tls.CERTS_DIR + '/') else FILE_MODE


def write_file(path, text, mode=FILE_MODE):
    """Write ``text`` atomically (temporary file, fsync, rename), ``mode`` (0644), owned by root."""
    fd, tmp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), dir=os.path.dirname(path))
    try:
        with os.fdopen(fd, 'w') as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        _own_by_root(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def remove_file(path):
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def restore_file(path, text, mode=FILE_MODE):
    """Put back the previous content (None: the file did not exist)."""
    if text is None:
        remove_file(path)
    else:
        write_file(path, text, mode)


@contextlib.contextmanager
def dir_lock(directory):
    """Exclusive lock on ``directory/.lock``: two runs never edit the shared edge at once."""
    with open(os.path.join(directory, '.lock'), 'a') as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


# ---------------------------------------------------------------------------------------------
# nginx inside a container


def error_line(output):
    """nginx's most telling line: the first [emerg]/[alert]/... line, else the last line.

    The timestamp and pid#tid prefix of nginx's log format are dropped.
    """
    lines = [LOG_PREFIX_RE.sub(r'\1 ', line.strip()) for line in (output or '').splitlines() if line.strip()]
    for line in lines:
        if any(marker in line for marker in ERROR_MARKERS):
            return line
    return lines[-1] if lines else 'no output'


def nginx_processes(container):
    """``(master_pid, {worker_pid: shutting_down})`` of the nginx running in ``container``."""
    code, output = exec_text(container, ['sh', '-c', PS_SCRIPT])
    if code != 0:
        raise MeshError('cannot list the processes of container %s: %s' % (container.name, error_line(output)))
    procs = []
    for line in output.splitlines():
        parts = line.split(None, 2)
        if len(parts) == 3 and parts[0].isdigit() and parts[1].isdigit() and parts[2].startswith('nginx: '):
            procs.append((int(parts[0]), int(parts[1]), parts[2]))
    masters = [pid for pid, _ppid, cmd in procs if cmd.startswith('nginx: master process')]
    master = min(masters) if masters else None
    workers = dict((pid, 'shutting down' in cmd) for pid, ppid, cmd in procs
                   if ppid == master and cmd.startswith('nginx: worker process'))
    return master, workers


def active_workers(workers):
    return sorted(pid for pid, shutting_down in workers.items() if not shutting_down)


def test_in_container(container, conf_path):
    """``nginx -t -c conf_path`` in the running container; raise MeshError with nginx's error."""
    code, output = exec_text(container, ['nginx', '-t', '-q', '-c', conf_path])
    if code != 0:
        raise MeshError(error_line(output))


def test_in_oneoff(client, spec, conf_path):
    """``nginx -t`` in a throw-away container of ``spec`` (when none runs yet)."""
    kwargs = dict(image=spec['image'], entrypoint=['nginx'], command=['-t', '-q', '-c', conf_path],
                  volumes={spec['config_dir']: {'bind': _mesh.CONF_ROOT, 'mode': 'ro'}},
                  tmpfs={_lua.CONTROL_ROOT: ''}, labels={'fleet.role': 'nginx-config-test'}, detach=True)
    if spec.get('network'):
        kwargs['network'] = spec['network']
    container = client.containers.create(**kwargs)
    try:
        container.start()
        status = container.wait(timeout=60)
        output = container.logs(stdout=True, stderr=True).decode('utf-8', 'replace')
    finally:
        with contextlib.suppress(APIError, NotFound):
            container.remove(force=True, v=True)
    if status.get('StatusCode') != 0:
        raise MeshError(error_line(output))


def reload_and_wait(container, conf_path, timeout):
    """``nginx -s reload`` and wait until every accepting worker is new.

    Old workers finish their in-flight requests in the background ("is shutting down"); the
    reload took effect once no worker of the previous generation accepts connections.
    """
    _master, before = nginx_processes(container)
    started = time.time()
    code, output = exec_text(container, ['nginx', '-c', conf_path, '-s', 'reload'])
    if code != 0:
        raise MeshError('nginx -s reload failed in %s: %s' % (container.name, error_line(output)))
    deadline = started + timeout
    while True:
        _master, workers = nginx_processes(container)
        active = active_workers(workers)
        if active and not set(active) & set(before):
            return
        if time.time() > deadline:
            logs = container.logs(stdout=False, stderr=True, since=int(started) - 1).decode('utf-8', 'replace')
            raise MeshError('nginx in %s did not take the new configuration within %d s: %s'
                            % (container.name, timeout, error_line(logs)))
        time.sleep(0.1)


class _UnixConnection(http.client.HTTPConnection):
    """HTTP over the control socket. The socket is reached through ``/proc/self/fd/N/`` of its
    directory, so a deep fleet root never exceeds the 108 bytes of a unix socket path."""

    def __init__(self, directory, timeout):
        http.client.HTTPConnection.__init__(self, 'fleet-mesh', timeout=timeout)
        self.directory = directory

    def connect(self):
        dir_fd = os.open(self.directory, os.O_RDONLY | getattr(os, 'O_PATH', 0))
        try:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(self.timeout)
            try:
                sock.connect('/proc/self/fd/%d/%s' % (dir_fd, _lua.CONTROL_SOCKET))
            except OSError:
                sock.close()
                raise
        finally:
            os.close(dir_fd)
        self.sock = sock


def control(config_dir, verb, tenant, file_name=None, timeout=CONTROL_TIMEOUT):
    """``POST /VERB?tenant=T[&file=F]`` on the control socket; returns the MD5 nginx read.

    Raises MeshError with nginx's answer when it refuses (a parse error) or cannot be reached.
    """
    query = 'tenant=%s' % tenant + ('&file=%s' % file_name if file_name else '')
    return _post(config_dir, '/%s?%s' % (verb, query), timeout=timeout)


def certificate_control(config_dir, domain, pem=None, timeout=CONTROL_TIMEOUT):
    """Give the edge's certificate store ``pem`` (key and chain) for ``domain``; ``''`` forgets it;
    None only asks. Returns the MD5 the store holds (empty: nginx serves the file it loaded)."""
    if pem is None:
        return _post(config_dir, '/cert_state?name=%s' % domain, timeout=timeout)
    return _post(config_dir, '/cert?name=%s' % domain, pem.encode('utf-8'), timeout)


def _post(config_dir, path, body=None, timeout=CONTROL_TIMEOUT):
    connection = _UnixConnection(os.path.join(config_dir, CONTROL_DIR), timeout)
    try:
        connection.request('POST', path, body=body)
        response = connection.getresponse()
        body = response.read().decode('utf-8', 'replace').strip()
    except (OSError, http.client.HTTPException) as exc:
        raise MeshError('the control socket of nginx in %s does not answer (%s)' % (config_dir, exc))
    finally:
        connection.close()
    if response.status != 200:
        raise MeshError(body or 'HTTP %d' % response.status)
    return body


def leaf_der(pem):
    """The DER of the first certificate in a PEM text (None when there is none)."""
    match = re.search(r'-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----', pem or '', re.S)
    return ssl.PEM_cert_to_DER_cert(match.group(0)) if match else None


def served_der(address, port, name, timeout=CONTROL_TIMEOUT):
    """The DER of the certificate the edge at ``address:port`` serves for ``name`` (SNI); not verified."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with socket.create_connection((address, port), timeout=timeout) as sock:
        with context.wrap_socket(sock, server_hostname=name) as tls:
            return tls.getpeercert(binary_form=True)


def text_md5(text):
    return hashlib.md5(text.encode('utf-8'), usedforsecurity=False).hexdigest()


def wait_serving(container, timeout=START_TIMEOUT):
    """Wait until the container runs an nginx master with at least one accepting worker."""
    deadline = time.time() + timeout
    while True:
        container.reload()
        if container.status == 'running':
            try:
                master, workers = nginx_processes(container)
            except (MeshError, APIError):
                master, workers = None, {}
            if master and active_workers(workers):
                return
        elif container.status in ('exited', 'dead'):
            break
        if time.time() > deadline:
            break
        time.sleep(0.2)
    logs = container.logs(stdout=True, stderr=True, tail=20).decode('utf-8', 'replace')
    raise MeshError('nginx container %s is %s, not serving: %s' % (container.name, container.status, error_line(logs)))


# ---------------------------------------------------------------------------------------------
# containers


def sidecar_spec(user, project, env, image, config_dir, network):
    return {
        'name': naming.sidecar_name(user, project, env),
        'image': image,
        'config_dir': config_dir,
        'labels': {'fleet.user': user, 'fleet.project': project, 'fleet.env': env, 'fleet.role': 'sidecar'},
        'network': network,
        'aliases': [naming.SIDECAR_ALIAS],
        'ports': None,
    }


def edge_spec(image, config_dir, http_port, bind_address, name=None, https_port=None):
    ports = {'%d/tcp' % _mesh.EDGE_CONTAINER_PORT: (bind_address, http_port)}
    if https_port:
        ports['%d/tcp' % _tls.EDGE_HTTPS_CONTAINER_PORT] = (bind_address, https_port)
    return {
        'name': name or naming.EDGE_CONTAINER,
        'image': image,
        'config_dir': config_dir,
        'labels': {'fleet.role': 'edge'},
        # its own network, not the default bridge: the host firewall lets the edge's bridge reach the
        # tenants' host ports and drops every other container's (docs/security.md)
        'network': naming.edge_network_name(name),
        'aliases': [],
        'ports': ports,
    }


def container_command():
    # A control socket left by a killed nginx would make the next start fail (bind: address in use).
    return ['sh', '-c', 'rm -f %s/%s; exec nginx -c %s -g "daemon off;"'
            % (_lua.CONTROL_ROOT, _lua.CONTROL_SOCKET, posixpath.join(_mesh.CONF_ROOT, _mesh.CONF_NAME))]


def control_dir(spec):
    return os.path.join(spec['config_dir'], CONTROL_DIR)


def _volumes(spec):
    return {spec['config_dir']: {'bind': _mesh.CONF_ROOT, 'mode': 'ro'},
            control_dir(spec): {'bind': _lua.CONTROL_ROOT, 'mode': 'rw'}}


def image_id(client, image, pull=True):
    """The id of ``image``, pulled when the host lacks it (None in check mode when missing)."""
    try:
        return client.images.get(image).id
    except ImageNotFound:
        if not pull:
            return None
    try:
        return client.images.pull(image).id
    except APIError as exc:
        raise MeshError('image %s is not on the host and cannot be pulled: %s' % (image, exc))


def spec_differences(container, spec, wanted_image_id):
    """Why ``container`` is not what ``spec`` wants (empty: it is)."""
    attrs = container.attrs
    config, host = attrs.get('Config') or {}, attrs.get('HostConfig') or {}
    reasons = []
    if wanted_image_id is None or attrs.get('Image') != wanted_image_id:
        reasons.append('image')
    if list(config.get('Cmd') or []) != container_command():
        reasons.append('command')
    mounts = dict((m.get('Destination'), (m.get('Source'), bool(m.get('RW')))) for m in attrs.get('Mounts') or [])
    wanted_mounts = dict((bind['bind'], (source, bind['mode'] == 'rw')) for source, bind in _volumes(spec).items())
    if set(mounts) != set(wanted_mounts) or any(
            mounts[dest][1] != rw or mounts[dest][0] not in (os.path.normpath(src), os.path.realpath(src))
            for dest, (src, rw) in wanted_mounts.items()):
        reasons.append('mounts')
    labels = config.get('Labels') or {}
    if any(labels.get(k) != v for k, v in spec['labels'].items()):
        reasons.append('labels')
    wanted_ports = {}
    for port, (address, host_port) in (spec['ports'] or {}).items():
        wanted_ports[port] = [{'HostIp': address, 'HostPort': str(host_port)}]
    if (host.get('PortBindings') or {}) != wanted_ports:
        reasons.append('ports')
    networks = (attrs.get('NetworkSettings') or {}).get('Networks') or {}
    network = spec['network'] or 'bridge'
    if network not in networks:
        reasons.append('network')
    elif spec['aliases'] and not set(spec['aliases']) <= set(networks[network].get('Aliases') or []):
        reasons.append('network alias')
    if (host.get('RestartPolicy') or {}).get('Name') != 'unless-stopped':
        reasons.append('restart policy')
    return reasons


def create_container(client, spec):
    """Create and start the nginx container of ``spec``; wait until it serves."""
    kwargs = dict(
        image=spec['image'], command=container_command(), name=spec['name'], labels=spec['labels'],
        volumes=_volumes(spec), restart_policy={'Name': 'unless-stopped'}, detach=True,
        environment={'NGINX_ENTRYPOINT_QUIET_LOGS': '1'},
        log_config={'type': 'json-file', 'config': {'max-size': '10m', 'max-file': '3'}},
    )
    if spec['network']:
        kwargs['network'] = spec['network']
        kwargs['networking_config'] = {
            spec['network']: client.api.create_endpoint_config(aliases=spec['aliases'] or None)}
    if spec['ports']:
        kwargs['ports'] = spec['ports']
    container = client.containers.create(**kwargs)
    try:
        container.start()
    except APIError as exc:
        with contextlib.suppress(APIError, NotFound):
            container.remove(force=True, v=True)
        raise MeshError('cannot start nginx container %s: %s' % (spec['name'], exc.explanation or exc))
    wait_serving(container)
    return container


def remove_container(container):
    """Graceful stop (SIGQUIT: in-flight requests finish) then removal."""
    with contextlib.suppress(NotFound):
        container.stop(timeout=STOP_TIMEOUT)
        container.remove(force=True, v=True)


# ---------------------------------------------------------------------------------------------
# one nginx: container + files


class NginxSite(object):
    """One nginx container and the files of its config directory that a run manages."""

    def __init__(self, client, spec, check_mode, reload_timeout):
        self.client = client
        self.spec = spec
        self.check_mode = check_mode
        self.reload_timeout = reload_timeout
        self.container = get_container(client, spec['name'])
        self.reloaded = False
        self.container_action = 'none'
        self.checked = []  # the domains whose new certificate was seen served over SNI

    def path(self, rel):
        return os.path.join(self.spec['config_dir'], rel)

    @property
    def container_id(self):
        return self.container.id if self.container is not None else None

    def apply(self, changes, check_rel, check_text=None, table=None, check_files=None):
        """Install ``changes`` and the route table, converge the container; return whether anything changed.

        ``changes`` maps a path relative to the config dir to ``(old text, new text)`` (old None:
        new file; new None: remove). Each new text is first staged as ``rel + '.new'``; nginx -t
        then validates ``check_rel``, written from ``check_text`` unless it is one of the staged
        files. Only a valid set is renamed into place and reloaded.

        ``table`` is ``(tenant, old text, new text)`` of the tenant's route table (new None: the
        tenant leaves). A serving nginx loads it over the control socket, without a reload, after
        the configuration passed its test and before the reload: a toggle reloads nothing.
        ``check_files`` (rel -> text) are written for the test only (a fragment naming staged files).
        """
        recreate, running = True, False
        wanted = image_id(self.client, self.spec['image'], pull=not self.check_mode)
        if self.container is not None:
            recreate = bool(spec_differences(self.container, self.spec, wanted))
            running = self.container.status == 'running'
        if recreate:
            action = 'created' if self.container is None else 'recreated'
        else:
            action = 'none' if running else 'started'
        serving = action == 'none'
        table_changed = table is not None and (table[1] != table[2] or (serving and self._table_stale(table)))
        if self.check_mode:
            self.container_action = action  # the prediction
            return bool(changes) or table_changed or action != 'none'
        if not serving:
            ensure_dir(control_dir(self.spec), CONTROL_DIR_MODE)
        staged = self._stage(changes, check_rel, check_text, serving, check_files) if changes else []
        try:
            if table_changed:
                self._install_table(table, serving)
            if changes:
                self._commit(changes)
        finally:
            for rel in staged:
                remove_file(self.path(rel))
        # a certificate alone needs no reload: the store takes it (load_certificates)
        if serving and any(file_mode(rel) != SECRET_MODE for rel in changes):
            self.reload(changes)
        if recreate:
            if self.container is not None:
                remove_container(self.container)
            self.container = create_container(self.client, self.spec)
        elif not running:
            self.container.restart(timeout=STOP_TIMEOUT)
            wait_serving(self.container)
        self.container_action = action
        return bool(changes) or table_changed or action != 'none'

    def _stage(self, changes, check_rel, check_text, serving, check_files=None):
        """Write the candidates next to the live files and ``nginx -t`` them; return the staged files."""
        staged = []
        try:
            for rel, text in sorted((check_files or {}).items()):
                write_file(self.path(rel), text)
                staged.append(rel)
            for rel, (_old, new) in sorted(changes.items()):
                if new is not None:
                    write_file(self.path(rel + '.new'), new, file_mode(rel))
                    staged.append(rel + '.new')
            if check_text is not None:
                write_file(self.path(check_rel), check_text)
                staged.append(check_rel)
            conf_path = posixpath.join(_mesh.CONF_ROOT, check_rel)
            try:
                if serving:
                    test_in_container(self.container, conf_path)
                else:
                    test_in_oneoff(self.client, self.spec, conf_path)
            except MeshError as exc:
                raise MeshError('nginx refused the new configuration of %s, the previous one keeps serving: %s'
                                % (self.spec['name'], exc))
        except BaseException:
            for rel in staged:
                remove_file(self.path(rel))
            raise
        return staged

    def _commit(self, changes):
        for rel, (_old, new) in sorted(changes.items()):
            if new is None:
                remove_file(self.path(rel))
            else:
                os.replace(self.path(rel + '.new'), self.path(rel))

    def _table_stale(self, table):
        """Whether the serving nginx holds another table than the file (an interrupted run)."""
        tenant, old, _new = table
        held = control(self.spec['config_dir'], 'state', tenant)
        return bool(held) and held != text_md5(old or '')

    def _install_table(self, table, serving):
        """Write the tenant's route table; a serving nginx checks it, then loads it (no reload)."""
        tenant, old, new = table
        ensure_dir(self.path(_lua.ROUTES_DIR))
        rel = self.table_rel(tenant)
        if not serving:
            if new is None:
                remove_file(self.path(rel))
            else:
                write_file(self.path(rel), new)
            return
        if new is not None:
            write_file(self.path(rel + '.new'), new)
            try:
                control(self.spec['config_dir'], 'check', tenant, _lua.table_name(tenant) + '.new')
            except MeshError as exc:
                remove_file(self.path(rel + '.new'))
                raise MeshError('nginx refused the new route table of %s in %s, the previous one keeps serving: %s'
                                % (tenant, self.spec['name'], exc))
            os.replace(self.path(rel + '.new'), self.path(rel))
        else:
            remove_file(self.path(rel))
        try:
            loaded = control(self.spec['config_dir'], 'apply', tenant)
            if loaded != text_md5(new or ''):
                raise MeshError('nginx loaded another route table (MD5 %s) than the one written' % loaded)
        except MeshError:
            restore_file(self.path(rel), old)
            raise

    def reload(self, changes):
        """Graceful reload; if it does not take effect, put the previous files back and fail."""
        if self.container is None or self.container.status != 'running':
            return
        try:
            reload_and_wait(self.container, posixpath.join(_mesh.CONF_ROOT, _mesh.CONF_NAME), self.reload_timeout)
        except MeshError:
            for rel, (old, _new) in changes.items():
                restore_file(self.path(rel), old, file_mode(rel))
            raise
        self.reloaded = True

    def load_certificates(self, certs):
        """Give nginx's certificate store every installed certificate it does not hold (a renewal needs no
        reload) and forget the removed ones. The store always mirrors the files: pushing what a new or
        restarted nginx already loaded from its file is not a change. Returns whether anything changed."""
        if self.container is None or not certs:
            return False
        changed = False
        for domain, (old, new) in sorted(certs.items()):
            held = certificate_control(self.spec['config_dir'], domain)
            if new is None:
                if held:
                    certificate_control(self.spec['config_dir'], domain, '')
                    changed = True
            elif held != text_md5(new):
                loaded = certificate_control(self.spec['config_dir'], domain, new)
                if loaded != text_md5(new):
                    raise MeshError('nginx took another certificate for %s (MD5 %s) than the one written'
                                    % (domain, loaded))
                changed = changed or bool(held) or old != new
            if new is not None and old != new:
                self.check_served(domain, new)
        return changed

    def check_served(self, domain, pem):
        """Connect over SNI and see the new certificate served; a different one fails the run. An edge this
        server cannot reach on its own address (a firewall, no hairpin) is not checked."""
        published = self.spec['ports'].get('%d/tcp' % _tls.EDGE_HTTPS_CONTAINER_PORT)
        if not published:
            return
        address = published[0] if published[0] not in ('0.0.0.0', '', None) else '127.0.0.1'
        try:
            served = served_der(address, published[1], domain)
        except (OSError, ssl.SSLError):
            return
        if served != leaf_der(pem):
            raise MeshError('the edge serves another certificate for %s than the one it was given; fix: run the '
                            'deploy again (the edge container may need a restart: docker restart %s)'
                            % (domain, self.spec['name']))
        self.checked.append(domain)

    def forget_certificates(self, rels):
        """A leaving tenant's certificates: files removed, the store's copies forgotten."""
        for rel in rels:
            remove_file(self.path(rel))
            domain = posixpath.basename(rel)[:-len('.pem')]
            if self.container is not None and self.container.status == 'running':
                certificate_control(self.spec['config_dir'], domain, '')

    def table_rel(self, tenant):
        return posixpath.join(_lua.ROUTES_DIR, _lua.table_name(tenant))

    def read_table(self, tenant):
        return read_text(self.path(self.table_rel(tenant)))

    def remove_table(self, tenant, old):
        """The tenant leaves a shared edge: its route table is emptied (no reload)."""
        if old is not None:
            running = self.container is not None and self.container.status == 'running'
            self._install_table((tenant, old, None), running)

    def remove_container(self):
        if self.container is None:
            return False
        if not self.check_mode:
            remove_container(self.container)
            self.container_action = 'removed'
        return True


def ensure_labelled_network(client, name, labels, check_mode):
    """A bridge network with ``labels`` (created when missing); returns whether it was missing."""
    if check_mode:
        return not any(net.name == name for net in client.networks.list(names=[name]))
    _net, created = ensure_network(client, name, labels)
    return created


def remove_edge_network(client, name, check_mode):
    """Remove the edge's network with the edge; returns whether there was one."""
    found = [net for net in client.networks.list(names=[name]) if net.name == name]
    if found and not check_mode:
        with contextlib.suppress(NotFound):
            found[0].remove()
    return bool(found)


def ensure_tenant_network(client, name, user, project, env, check_mode):
    """The tenant network (created with fleet labels when missing); returns whether it was missing."""
    return ensure_labelled_network(client, name, {'fleet.user': user, 'fleet.project': project, 'fleet.env': env},
                                   check_mode)


# ---------------------------------------------------------------------------------------------
# the four things nginx_mesh does


def _diff(path, before, after):
    return {'before_header': path, 'after_header': path, 'before': before or '', 'after': after or ''}


def _result(site, changed, config_path, routes, diffs):
    return {
        'changed': changed,
        'config_path': config_path,
        'container_id': site.container_id if site.container_action != 'removed' else None,
        'container_action': site.container_action,
        'reloaded': site.reloaded,
        'routes': routes,
        'diff': diffs[0] if len(diffs) == 1 else diffs,
    }


def _locked(config_dir):
    """The config dir's lock when the dir exists (check mode creates nothing)."""
    return dir_lock(config_dir) if os.path.isdir(config_dir) else contextlib.nullcontext()


def sidecar(client, p, check_mode):
    """The tenant sidecar: ``{config_dir}/nginx.conf``, container ``{prefix}_nginx`` on the tenant network."""
    if p['state'] == 'present' and not check_mode:
        ensure_dir(p['config_dir'])
    with _locked(p['config_dir']):
        return _sidecar_locked(client, p, check_mode)


def _sidecar_locked(client, p, check_mode):
    user, project, env = p['user'], p['project'], p['env']
    tenant = naming.prefix(user, project, env)
    network = p['network'] or naming.network_name(user, project, env)
    spec = sidecar_spec(user, project, env, p['image'], p['config_dir'], network)
    site = NginxSite(client, spec, check_mode, p['reload_timeout'])
    conf = site.path(_mesh.CONF_NAME)
    old = read_text(conf)
    old_table = site.read_table(tenant)
    if p['state'] == 'absent':
        changed = site.remove_container() or old is not None or old_table is not None
        if changed and not check_mode:
            for rel in (_mesh.CONF_NAME, _mesh.CONF_NAME + '.new', site.table_rel(tenant), CONTROL_SOCKET_REL, '.lock'):
                remove_file(site.path(rel))
            for rel in (_lua.ROUTES_DIR, CONTROL_DIR, ''):
                with contextlib.suppress(OSError):
                    os.rmdir(site.path(rel))
        return _result(site, changed, conf, 0, [_diff(conf, old, None)] if old else [])
    routes = _mesh.check_routes(p['routes'], 'sidecar')
    text = _mesh.render_sidecar(routes, tenant)
    table = _lua.render_table(tenant, routes)
    changed = ensure_tenant_network(client, network, user, project, env, check_mode)
    changes = {} if old == text else {_mesh.CONF_NAME: (old, text)}
    changed = site.apply(changes, _mesh.CONF_NAME + '.new', table=(tenant, old_table, table)) or changed
    diffs = [_diff(conf, old, text)] if changes else []
    if old_table != table:
        diffs.append(_diff(site.path(site.table_rel(tenant)), old_table, table))
    return _result(site, changed, conf, len(routes), diffs)


def _fragments(conf_d):
    """tenant -> fragment text of every ``conf.d/{tenant}.conf``."""
    try:
        names = sorted(os.listdir(conf_d))
    except FileNotFoundError:
        return {}
    return dict((name[:-len('.conf')], read_text(os.path.join(conf_d, name)) or '')
                for name in names if name.endswith('.conf'))


def edge(client, p, check_mode):
    """The shared edge: this tenant's ``conf.d/{tenant}.conf``, the main file, container ``fleet_edge``."""
    tenant = naming.prefix(p['user'], p['project'], p['env'])
    spec = edge_spec(p['image'], p['config_dir'], p['http_port'], p['bind_address'], p['container_name'],
                     p.get('https_port'))
    if p['state'] == 'present' and not check_mode:
        ensure_dir(p['config_dir'])
        ensure_dir(os.path.join(p['config_dir'], 'conf.d'))
        if p.get('https_port'):
            ensure_dir(os.path.join(p['config_dir'], _tls.CERTS_DIR), SECRET_DIR_MODE)
            ensure_dir(os.path.join(p['config_dir'], _tls.ACME_DIR))
    with _locked(p['config_dir']):
        return _edge_locked(client, p, check_mode, tenant, spec)


def _edge_locked(client, p, check_mode, tenant, spec):
    site = NginxSite(client, spec, check_mode, p['reload_timeout'])
    frag_rel = 'conf.d/%s.conf' % tenant
    frag, main = site.path(frag_rel), site.path(_mesh.CONF_NAME)
    others = _fragments(site.path('conf.d'))
    old_frag = others.pop(tenant, None)
    old_main = read_text(main)
    old_table = site.read_table(tenant)
    other_includes = ['conf.d/%s.conf' % t for t in others]
    if p['state'] == 'absent':
        changed = old_frag is not None or old_table is not None
        diffs = [_diff(frag, old_frag, None)] if old_frag is not None else []
        left_certs = [_tls.cert_rel(d) for d in _mesh.fragment_domains(old_frag)
                      if os.path.exists(site.path(_tls.cert_rel(d)))]
        if others:
            if changed and not check_mode:
                remove_file(frag)
                site.reload({frag_rel: (old_frag, None)})
                site.remove_table(tenant, old_table)
                site.forget_certificates(left_certs)
        else:
            changed = site.remove_container() or changed or old_main is not None
            changed = remove_edge_network(client, spec['network'], check_mode) or changed
            if not check_mode:
                for rel in [frag_rel, _mesh.CONF_NAME, site.table_rel(tenant), CONTROL_SOCKET_REL] + left_certs:
                    remove_file(site.path(rel))
                for rel in (_lua.ROUTES_DIR, CONTROL_DIR, _tls.CERTS_DIR, _tls.ACME_DIR):
                    with contextlib.suppress(OSError):
                        os.rmdir(site.path(rel))
        return _result(site, changed, frag, 0, diffs)
    routes = _mesh.check_routes(p['routes'], 'edge')
    _mesh.domain_clashes(tenant, routes, others)
    https_port = p.get('https_port')
    certs = _edge_certificates(site, routes, old_frag, p.get('certificates_dir')) if https_port else {}
    # a certificate's change is staged like the configuration's (and never shown in a diff)
    changes = dict((_tls.cert_rel(d), pair) for d, pair in certs.items() if pair[0] != pair[1])
    installed = sorted(d for d, (_old, new) in certs.items() if new is not None)
    https = None
    if https_port:
        https = {'listen': _tls.EDGE_HTTPS_CONTAINER_PORT, 'public_port': https_port,
                 'certified': dict.fromkeys(installed, '')}
    new_frag = _mesh.render_edge_fragment(tenant, routes, https=https)
    new_table = _lua.render_table(tenant, _mesh.edge_table_routes(routes))
    new_main = _mesh.render_edge_main(https_port=_tls.EDGE_HTTPS_CONTAINER_PORT if https_port else None)
    diffs = []
    if old_frag != new_frag:
        changes[frag_rel] = (old_frag, new_frag)
        diffs.append(_diff(frag, old_frag, new_frag))
    if old_main != new_main:
        changes[_mesh.CONF_NAME] = (old_main, new_main)
        diffs.append(_diff(main, old_main, new_main))
    check_files, check_frag = {}, frag_rel + ('.new' if frag_rel in changes else '')
    if any(rel.startswith(_tls.CERTS_DIR + '/') and new is not None for rel, (_old, new) in changes.items()):
        # nginx -t reads the staged certificates: the test names them in a fragment of its own
        check_frag = frag_rel + '.test'
        staged_https = dict(https, certified=dict(
            (d, '.new' if _tls.cert_rel(d) in changes else '') for d in installed))
        check_files[check_frag] = _mesh.render_edge_fragment(tenant, routes, https=staged_https)
    check_text = _mesh.render_edge_main(includes=other_includes + [check_frag],
                                        https_port=_tls.EDGE_HTTPS_CONTAINER_PORT if https_port else None)
    changed = ensure_labelled_network(client, spec['network'], {'fleet.role': 'edge'}, check_mode)
    if old_table != new_table:
        diffs.append(_diff(site.path(site.table_rel(tenant)), old_table, new_table))
    changed = site.apply(changes, _mesh.CONF_NAME + '.test', check_text, table=(tenant, old_table, new_table),
                         check_files=check_files) or changed
    if not check_mode:
        changed = site.load_certificates(certs) or changed
    result = _result(site, changed, frag, len([r for r in routes if r['domain']]), diffs)
    result['certificates'] = installed
    result['certificates_checked'] = site.checked
    return result


def _edge_certificates(site, routes, old_frag, certificates_dir):
    """domain -> (the edge's copy, the tenant's file or None) for every tls route and every domain the
    tenant's fragment had: a certificate the tenant has is installed, one it no longer wants removed."""
    wanted = dict((r['domain'], None) for r in routes if r['tls'])
    for domain in wanted:
        if certificates_dir:
            text = read_text(os.path.join(certificates_dir, domain + '.pem'))
            if text is not None and ('PRIVATE KEY-----' not in text or 'CERTIFICATE-----' not in text):
                raise MeshError('%s is not a PEM file with a private key and its certificate chain; fix: issue '
                                'the certificate again (playbooks/tls.yml)' % os.path.join(certificates_dir, domain + '.pem'))
            wanted[domain] = text
    pairs = {}
    for domain in set(wanted) | set(_mesh.fragment_domains(old_frag)):
        old = read_text(site.path(_tls.cert_rel(domain)))
        if old is not None or wanted.get(domain) is not None:
            pairs[domain] = (old, wanted.get(domain))
    return pairs
