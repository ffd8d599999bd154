# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Backups and restores of a running database service, on the Docker host that runs it.

The seam between the pure parts (``files``: names, atomic writes,
checksums; ``postgres`` / ``redis``: commands and scripts) and
the engine: it finds the service's running container, streams a dump out of it
into :func:`files.write_atomically`, and restores through short-lived
helper containers of the service's own image (so the client tools match the
server's version), with the backup file mounted read-only.

A restore always checks the file first (checksum, then the format's own
reader), takes a backup of the data it is about to replace (``safety backup``,
on by default) and changes nothing live until the new data is ready; see the
two kind modules for how each swap is made safe.
"""

from __future__ import annotations

import os
import tarfile
import time
from datetime import datetime, timezone

from ansible_collections.projectdeployer.fleet.plugins.module_utils._backup import files
from ansible_collections.projectdeployer.fleet.plugins.module_utils._backup import opensearch as osr
from ansible_collections.projectdeployer.fleet.plugins.module_utils._backup import postgres as pg
from ansible_collections.projectdeployer.fleet.plugins.module_utils._backup import redis as rd
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.deploy_lock import held
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec import naming
from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.docker import (
    FleetDockerError, bind_mount, exec_checked, exec_stream, run_helper, volume_mount)

BACKUP_IN_HELPER = '/backups'
PGPASS_IN_HELPER = '/run/secrets/pgpass'
POLL_S = 0.2
START_WAIT_S = 60


class Service(object):
    """One database service of a tenant on this host: ids, kind, and its running container."""

    def __init__(self, client, user, project, env, service, kind, fleet_root):
        naming.check_ids(user=user, project=project, env=env, service=service)
        files.backup_ext(kind)
        self.client, self.user, self.project, self.env, self.name, self.kind = (
            client, user, project, env, service, kind)
        self.dirs = naming.project_dirs(fleet_root, user, project, env)
        self.role = naming.db_user(user, project, service)
        self.database = naming.db_name(user, project, env, service)
        self.container = self._running_container()

    def _running_container(self):
        filters = {'label': ['fleet.user=%s' % self.user, 'fleet.project=%s' % self.project,
                             'fleet.env=%s' % self.env, 'fleet.service=%s' % self.name],
                   'status': 'running'}
        found = [c for c in self.client.containers.list(filters=filters) if c.labels.get('fleet.slot')]
        if not found:
            raise FleetDockerError('%s has no running container on this host: deploy it first (deploy.yml), '
                                   'or run on the server that holds it' % self.name)
        return sorted(found, key=lambda c: c.labels.get('fleet.deployed_at') or '')[-1]

    @property
    def lock_dir(self):
        """Where the env's deploy lock is: held while a restore stops or swaps data (_deploy/deploy_lock)."""
        return os.path.join(self.dirs['config'], 'deploy')

    @property
    def image(self):
        return self.container.attrs['Config']['Image']

    def labels(self):
        return {'fleet.user': self.user, 'fleet.project': self.project, 'fleet.env': self.env,
                'fleet.service': self.name, 'fleet.role': 'backup-helper'}

    def psql(self, statement, database=pg.MAINTENANCE_DB):
        """Run SQL as the owner role over the container's local socket; psql's output."""
        return exec_checked(self.container, pg.psql(self.role, database, statement), user=pg.SOCKET_USER, what='psql')

    def redis(self, *args, **kwargs):
        """Run a redis-cli command in the container, authenticated from its mounted config; its output."""
        return exec_checked(self.container, rd.cli(*args), what=kwargs.get('what') or 'redis-cli %s' % args[0])

    def opensearch(self, method, path, body=None, ok=(200,), timeout=3600, what=None):
        """One HTTP call to the server from inside its container; the reply's JSON body."""
        what = what or '%s %s' % (method, path.split('?')[0])
        reply = exec_checked(self.container, osr.curl(method, path, body, timeout), what=what)
        try:
            return osr.parse_reply(reply, '%s in %s' % (what, self.container.name), ok)[1]
        except ValueError as exc:
            raise FleetDockerError(str(exc)) from None

    def helper(self, cmd, mounts, what, timeout, environment=None, network=None):
        name = '%s_%s_backup_helper' % (naming.prefix(self.user, self.project, self.env), self.name)
        return run_helper(self.client, self.image, cmd, name, self.labels(), mounts=mounts, network=network,
                          environment=environment, user='0', timeout=timeout, what=what)

    def data_mount(self, directory):
        """The named volume (or bind) the container keeps ``directory`` on."""
        for mount in self.container.attrs.get('Mounts') or []:
            if mount.get('Destination') == directory:
                if mount.get('Type') == 'volume':
                    return volume_mount(mount['Name'], directory)
                return bind_mount(mount['Source'], directory, read_only=False)
        raise FleetDockerError('%s keeps %s outside a volume: its data cannot be restored in place'
                               % (self.container.name, directory))


# ---------------------------------------------------------------- taking a backup

def _wait(what, deadline, step):
    """Poll ``step()`` (None: not yet) every POLL_S until ``deadline``; its value, or FleetDockerError."""
    while True:
        value = step()
        if value is not None:
            return value
        if time.monotonic() >= deadline:
            raise FleetDockerError('%s did not finish in time; fix: raise timeout' % what)
        time.sleep(POLL_S)


def _postgres_stream(svc):
    version = exec_checked(svc.container, pg.version_cmd(svc.role, svc.database), user=pg.SOCKET_USER,
                           what='psql').strip().split(' ')[0]  # '15.8 (Debian 15.8-1)': the number
    return version, exec_stream(svc.client, svc.container, pg.dump_cmd(svc.role, svc.database),
                                user=pg.SOCKET_USER, what='pg_dump')


def _redis_layout(svc):
    config = rd.parse_config_get(svc.redis('CONFIG', 'GET', 'dir', 'dbfilename', 'appendonly',
                                           'appenddirname', 'appendfilename'))
    return rd.data_layout(config)


def _redis_stream(svc, timeout):
    info = rd.parse_info(svc.redis('INFO', 'server'))
    before = int(rd.parse_info(svc.redis('INFO', 'persistence')).get('rdb_last_save_time', '0'))
    # LASTSAVE has whole seconds: a save in the same second as the last would look old.
    while int(time.time()) <= before:
        time.sleep(POLL_S)
    reply = svc.redis('BGSAVE').strip()
    if 'in progress' in reply:
        reply = svc.redis('BGSAVE', 'SCHEDULE').strip()
    if reply.startswith('ERR') or reply.startswith('(error)'):
        raise FleetDockerError('redis BGSAVE refused in %s: %s' % (svc.container.name, reply))

    def finished():
        state = rd.bgsave_state(rd.parse_info(svc.redis('INFO', 'persistence')), before + 1)
        if state == 'running':
            return None
        if state != 'done':
            raise FleetDockerError('redis %s in %s' % (state, svc.container.name))
        return True

    _wait('redis BGSAVE in %s' % svc.container.name, time.monotonic() + timeout, finished)
    layout = _redis_layout(svc)
    path = '%s/%s' % (layout['dir'], layout['dbfilename'])
    return info.get('redis_version'), _rdb_checked(
        exec_stream(svc.client, svc.container, ['cat', path], what='reading %s' % path), path)


def _opensearch_stream(svc, snapshot, timeout):
    """Snapshot every user index into a fresh fs repository and stream it out as one tar."""
    version = (svc.opensearch('GET', '/').get('version') or {}).get('number')
    _drop_repository(svc, osr.BACKUP_REPO, osr.BACKUP_DIR)
    svc.opensearch('PUT', '/_snapshot/%s' % osr.BACKUP_REPO, osr.repository_body(osr.BACKUP_DIR))
    try:
        done = svc.opensearch('PUT', '/_snapshot/%s/%s?wait_for_completion=true' % (osr.BACKUP_REPO, snapshot),
                              osr.snapshot_body(), timeout=timeout, what='snapshot %s' % snapshot)
        osr.snapshot_result(done, snapshot)
    except (ValueError, FleetDockerError) as exc:
        _drop_repository(svc, osr.BACKUP_REPO, osr.BACKUP_DIR)
        raise FleetDockerError(str(exc)) from None
    # the files stay when a repository is unregistered: the tar reads a repository nobody writes to
    svc.opensearch('DELETE', '/_snapshot/%s' % osr.BACKUP_REPO)

    def stream():
        try:
            yield from exec_stream(svc.client, svc.container, ['tar', '-C', osr.BACKUP_DIR, '-cf', '-', '.'],
                                   what='packing snapshot %s' % snapshot)
        finally:
            _drop_repository(svc, osr.BACKUP_REPO, osr.BACKUP_DIR)
    return version, stream()


def _drop_repository(svc, repository, directory):
    """Unregister ``repository`` (if it is) and remove its folder in the container."""
    svc.opensearch('DELETE', '/_snapshot/%s' % repository, ok=(200, 404))
    exec_checked(svc.container, ['rm', '-rf', directory], what='removing %s' % directory)


class EmptyReadError(FleetDockerError):
    """The data read from a database was empty or not of its format: read again, once."""


def _rdb_checked(stream, path):
    """``stream``, refused (EmptyReadError) unless it starts as an RDB file does (``REDIS``)."""
    head = b''
    for chunk in stream:
        if len(head) < 5:
            head += chunk[:5 - len(head)]
            if len(head) >= 5 and head != b'REDIS':
                raise EmptyReadError('%s as read is not an RDB file (it starts %r)' % (path, head))
        yield chunk
    if len(head) < 5:
        raise EmptyReadError('%s as read was empty or cut short (%d bytes)' % (path, len(head)))


def take_backup(svc, timeout=3600, clock=None):
    """Back ``svc`` up into its project's backups/ folder; the manifest record of the new backup."""
    clock = clock or (lambda: datetime.now(timezone.utc))
    name = files.backup_name(svc.name, clock(), files.backup_ext(svc.kind))
    if os.path.lexists(os.path.join(svc.dirs['backups'], name)):
        time.sleep(1.0)  # one backup per service and second: the next second has a free name
        name = files.backup_name(svc.name, clock(), files.backup_ext(svc.kind))
    meta = {'kind': svc.kind, 'source': {'container': svc.container.name, 'image': svc.image}}
    if svc.kind == 'postgres':
        version, stream = _postgres_stream(svc)
    elif svc.kind == 'redis':
        version, stream = _redis_stream(svc, timeout)
    else:
        version, stream = _opensearch_stream(svc, osr.snapshot_name(name), timeout)
    meta['version'] = version
    try:
        return files.write_atomically(svc.dirs['backups'], name, stream, meta=meta, clock=clock)
    except EmptyReadError:
        if svc.kind != 'redis':
            raise
    # Seen once in many hundred backups: the RDB read back empty though redis had saved it. Read it again,
    # once (write_atomically removed what it had written); a second empty read fails the backup.
    version, stream = _redis_stream(svc, timeout)
    return files.write_atomically(svc.dirs['backups'], name, stream, meta=meta, clock=clock)


# ---------------------------------------------------------------- restoring

def resolve_backup(backups_dir, backup_file):
    """The path of ``backup_file``: a name in the project's backups/ folder, or an absolute path."""
    if os.path.isabs(backup_file):
        return backup_file
    if '/' in backup_file:
        raise ValueError('backup_file %r: give a name from backups.yml or an absolute path' % backup_file)
    return os.path.join(backups_dir, backup_file)


def check_kind(record, path, kind):
    """Refuse a backup of another kind (an RDB into postgres, ...) before anything runs."""
    parsed = files.parse_backup_name(os.path.basename(path))
    if parsed is None:
        raise ValueError('%s is not a backup file name: pass a name that backups.yml lists' % path)
    allowed = ('dump', 'sql') if kind == 'postgres' else (files.backup_ext(kind),)
    recorded = record.get('kind')
    if recorded and recorded != kind:
        raise ValueError('%s is a %s backup, not one of a %s service: pick a backup of a %s service '
                         '(backups.yml lists them)' % (os.path.basename(path), recorded, kind, kind))
    if parsed[2] not in allowed:
        raise ValueError('%s is a .%s file, not one of a %s service (.%s): pick a backup of a %s service '
                         '(backups.yml lists them)' % (os.path.basename(path), parsed[2], kind, ' or .'.join(allowed), kind))


def _restore_postgres(svc, path, timeout):
    name = os.path.basename(path)
    in_helper = '%s/%s' % (BACKUP_IN_HELPER, name)
    plain = name.endswith('.sql')
    mounts = [bind_mount(path, in_helper)]
    toc = 0
    if not plain:
        listing = svc.helper(pg.list_cmd(in_helper), mounts, 'pg_restore --list of %s' % name, timeout)
        toc = len([line for line in listing.splitlines() if line and not line.startswith(';')])

    for statement in pg.create_restore_db_sql(svc.database, svc.role):
        svc.psql(statement)
    pgpass = os.path.join(svc.dirs['secrets'], '%s_pgpass' % svc.name)
    try:
        svc.helper(pg.restore_cmd(in_helper, svc.container.name, svc.role, pg.restore_db(svc.database), plain),
                   mounts + [bind_mount(pgpass, PGPASS_IN_HELPER)], 'restoring %s' % name, timeout,
                   environment={'PGPASSFILE': PGPASS_IN_HELPER},
                   network=naming.network_name(svc.user, svc.project, svc.env))
        # pg_restore brings no planner statistics: without them the first queries after a restore
        # plan blind until autovacuum gets round to the tables
        svc.psql('ANALYZE', pg.restore_db(svc.database))
        svc.psql(pg.swap_sql(svc.database))
    except BaseException:
        undo, drop = pg.undo_swap_sql(svc.database)
        svc.psql(undo)
        svc.psql(drop)
        raise
    svc.psql(pg.drop_sql(pg.previous_db(svc.database)))
    tables = int(svc.psql("SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')",
                          svc.database).strip() or 0)
    return {'archive_entries': toc, 'tables': tables}


def _redis_keys(svc):
    keyspace = rd.parse_info(svc.redis('INFO', 'keyspace'))
    total = 0
    for value in keyspace.values():
        fields = dict(part.split('=', 1) for part in value.split(',') if '=' in part)
        total += int(fields.get('keys', 0))
    return total


def _redis_ready(svc):
    """True once the restarted server answers and has loaded its data; None while not yet."""
    svc.container.reload()
    if svc.container.status != 'running':
        raise FleetDockerError('%s stopped after the restore (%s)' % (svc.container.name, svc.container.status))
    try:
        info = rd.parse_info(svc.redis('INFO', 'persistence'))
    except FleetDockerError:
        return None
    return True if info.get('loading') == '0' else None


def _restore_redis(svc, path, timeout):
    name = os.path.basename(path)
    in_helper = '%s/%s' % (BACKUP_IN_HELPER, name)
    mounts = [bind_mount(path, in_helper)]
    check = svc.helper(['redis-check-rdb', in_helper], mounts, 'redis-check-rdb of %s' % name, timeout)
    keys_in_backup = None
    for line in check.splitlines():
        if 'keys read' in line:
            keys_in_backup = int(''.join(ch for ch in line.split('keys read')[0].split(']')[-1] if ch.isdigit()) or 0)
    layout = _redis_layout(svc)
    data = svc.data_mount(layout['dir'])
    # The env's deploy lock: the health agent would start the stopped server again (on its stop event)
    # before the backup is in place, and redis would load the old data.
    with held(svc.lock_dir):
        svc.container.stop(timeout=30)
        try:
            svc.helper(['sh', '-c', rd.place_script(layout, in_helper)], mounts + [data], 'placing %s' % name, timeout)
            svc.container.start()
            _wait('%s loading %s' % (svc.container.name, name), time.monotonic() + START_WAIT_S,
                  lambda: _redis_ready(svc))
            keys = _redis_keys(svc)
            if keys_in_backup is not None and keys != keys_in_backup:
                raise FleetDockerError('%s holds %d keys after the restore, %s holds %d'
                                       % (svc.container.name, keys, name, keys_in_backup))
        except BaseException:
            svc.container.reload()
            if svc.container.status == 'running':
                svc.container.stop(timeout=30)
            svc.helper(['sh', '-c', rd.rollback_script(layout)], [data], 'putting the previous data back', timeout)
            svc.container.start()
            raise
    svc.helper(['sh', '-c', rd.cleanup_script(layout)], [data], 'removing the previous data', timeout)
    return {'keys': keys}


def archive_members(path):
    """``(name, kind)`` of every member of the tar at ``path`` (kind 'file', 'dir' or 'other')."""
    try:
        with tarfile.open(path, 'r:') as archive:
            return [(m.name, 'file' if m.isfile() else 'dir' if m.isdir() else 'other') for m in archive]
    except (tarfile.TarError, EOFError) as exc:
        raise ValueError('%s is not a readable tar (%s): use another backup' % (os.path.basename(path), exc)) from None


def _opensearch_indices(svc):
    return osr.user_indices(svc.opensearch('GET', '/_cat/indices?format=json&expand_wildcards=open,closed'))


def _stage_opensearch(svc, path):
    """Put the backup's repository into the container and have the server read it: ``(snapshot, indices)``.

    Nothing live changes here; the repository stays registered (read-only) for :func:`_swap_opensearch`.
    """
    name = os.path.basename(path)
    _drop_repository(svc, osr.RESTORE_REPO, osr.RESTORE_DIR)
    exec_checked(svc.container, ['mkdir', '-p', osr.RESTORE_DIR], what='making %s' % osr.RESTORE_DIR)
    with open(path, 'rb') as archive:
        if not svc.container.put_archive(osr.RESTORE_DIR, archive):
            raise FleetDockerError('the engine refused to unpack %s into %s' % (name, svc.container.name))
    svc.opensearch('PUT', '/_snapshot/%s' % osr.RESTORE_REPO, osr.repository_body(osr.RESTORE_DIR, readonly=True))
    try:
        return osr.the_snapshot(svc.opensearch('GET', '/_snapshot/%s/_all' % osr.RESTORE_REPO,
                                               what='reading %s' % name), name)
    except ValueError as exc:
        raise FleetDockerError(str(exc)) from None


def _swap_opensearch(svc, snapshot, indices, timeout):
    """Replace the live user indices with the staged snapshot's; what was restored."""
    close, delete = osr.restore_plan(_opensearch_indices(svc), indices)
    if close:
        svc.opensearch('POST', '/%s/_close' % ','.join(close))
    if delete:
        svc.opensearch('DELETE', '/%s' % ','.join(delete))
    if indices:
        svc.opensearch('POST', '/_snapshot/%s/%s/_restore?wait_for_completion=true' % (osr.RESTORE_REPO, snapshot),
                       osr.restore_body(indices), timeout=timeout, what='restoring snapshot %s' % snapshot)
        wait = min(timeout, START_WAIT_S)
        svc.opensearch('GET', '/_cluster/health/%s?wait_for_status=yellow&timeout=%ds' % (','.join(indices), wait),
                       timeout=wait + 10, what='waiting for the restored indices')
    restored = _opensearch_indices(svc)
    return {'snapshot': snapshot, 'indices': indices, 'deleted_indices': delete,
            'documents': sum(restored.get(i) or 0 for i in indices)}


def restore_opensearch(svc, path, timeout, safety=None):
    """Stage, then swap; a swap that fails midway puts the ``safety`` backup (a record) back the same way.

    Under the env's deploy lock: while restored indices recover the node is red, and the health agent
    would take that for a failing service and restart it.
    """
    with held(svc.lock_dir):
        return _stage_and_swap(svc, path, timeout, safety)


def _stage_and_swap(svc, path, timeout, safety):
    try:
        snapshot, indices = _stage_opensearch(svc, path)
        try:
            return _swap_opensearch(svc, snapshot, indices, timeout)
        except BaseException as exc:
            if not safety:
                raise
            _drop_repository(svc, osr.RESTORE_REPO, osr.RESTORE_DIR)
            try:
                _swap_opensearch(svc, *_stage_opensearch(svc, safety['path']), timeout=timeout)
            except Exception as undo:
                raise FleetDockerError('%s; putting the safety backup %s back failed too (%s): restore it by hand '
                                       '(restore.yml -e backup_file=%s)' % (exc, safety['name'], undo, safety['name'])) from undo
            raise
    finally:
        _drop_repository(svc, osr.RESTORE_REPO, osr.RESTORE_DIR)


def restore(svc, path, safety_backup=True, timeout=3600, clock=None):
    """Restore the verified backup at ``path`` into ``svc``; what was done, as a dict.

    Raises ValueError (the file: missing, damaged, wrong kind) before anything
    changes, FleetDockerError if a step fails (the live data is then as it was).
    """
    started = time.monotonic()  # the checksum read counts: it is part of every restore
    record = files.verify(path)
    check_kind(record, path, svc.kind)
    if svc.kind == 'opensearch':  # the format's own check, before the safety backup
        osr.check_archive(archive_members(path), os.path.basename(path))
    safety = take_backup(svc, timeout, clock) if safety_backup else None
    if svc.kind == 'postgres':
        details = _restore_postgres(svc, path, timeout)
    elif svc.kind == 'redis':
        details = _restore_redis(svc, path, timeout)
    else:
        details = restore_opensearch(svc, path, timeout, safety)
    details.update(restored_from=os.path.basename(path), sha256=record['sha256'], size=record['size'],
                   target=svc.name, container=svc.container.name,
                   safety_backup=safety['name'] if safety else None,
                   duration_s=round(time.monotonic() - started, 3))
    return details
