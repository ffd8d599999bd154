# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Backup files on disk: names, atomic writes, checksums, manifests, listing, retention, schedules.

No Docker here: the backup module produces a byte stream (``pg_dump -Fc``,
the finished RDB, a tar of an OpenSearch snapshot repository) and hands it to
:func:`write_atomically`; everything about how that stream becomes a file
that can be trusted later lives in this module.

Layout of ``{fleet_root}/{user}/{project}/{env}/backups/`` (0700, files 0600)::

    postgres_backup_20240115_020000.dump          the backup itself
    postgres_backup_20240115_020000.dump.sha256   "<hex>  <name>\\n", as sha256sum writes it
    postgres_backup_20240115_020000.dump.json     the manifest of this one backup
    .postgres_backup_20240115_020000.dump.partial-3f9a0c1b2d4e   (only while writing)

Decisions:

* Names ``{service}_backup_{YYYYmmdd_HHMMSS}.{ext}`` in UTC, as the seed's
  ``postgres_backup_20240115_020000.sql``.  Service ids never contain ``_``
  (``_spec.naming.SERVICE_RE``), so a name parses back without ambiguity.
* Extensions by kind (:data:`KIND_EXT`): postgres ``dump`` (``pg_dump
  --format=custom``: compressed, restorable with ``pg_restore`` table by table;
  ``.sql`` would promise plain SQL that ``psql`` could read, which it is not),
  redis ``rdb`` (the RDB file itself, already LZF-compressed), opensearch
  ``tar`` (a snapshot lives in a filesystem repository, a directory; a plain
  tar of it streams without a temp copy, and the segments it holds are
  already compressed, so gzip would cost a core for little).  ``sql`` is also
  recognised, so a plain dump named as in the seed shows in listings.
* Temp files are ``.{final}.partial-{random}`` in the same directory: the
  rename to the final name stays on one filesystem (atomic), and a dot name
  never matches :func:`parse_backup_name`, so listings and pulls that follow
  the final names never see a half-written file.
* One manifest per backup (``{final}.json``) rather than one ``manifest.json``:
  a shared file would need a read-modify-write under a lock, and two runs at
  once (the 02:00 cron job and a manual ``backup.yml``, or a pull copying the
  folder) could lose a record or read a torn one; a per-backup record is
  written once, atomically, and travels with its backup when copied.
* Order of a write: data to the temp file (hashed and counted while
  streaming, fsynced), then the sidecar and the manifest (each atomic), and
  the data's final name last.  So a final name that exists always has its
  checksum and manifest; a crash leaves only dot-files and orphan
  sidecar/manifest files, which :func:`stray_files` finds for cleanup.
  Nothing ever overwrites an existing backup: the last step is a hard link,
  which fails if the name exists.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import secrets
from datetime import datetime, timedelta, timezone

from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.cron import cron_error
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.naming import check_ids, id_error, project_dirs
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.schema import DATABASES

KIND_EXT = {'postgres': 'dump', 'redis': 'rdb', 'opensearch': 'tar'}
KNOWN_EXTS = ('dump', 'sql', 'rdb', 'tar')
FORMATS = {'postgres': 'pg_dump-custom', 'redis': 'rdb', 'opensearch': 'opensearch-snapshot-tar'}

# The default schedules are in _spec.schema.DATABASES: postgres 02:00 and redis 03:00 as the seed
# says; the seed is silent on opensearch, whose data is as stateful: 04:00, after the other
# two, so three dumps do not compete for one server's disk at once.

SIDECAR_SUFFIX = '.sha256'
MANIFEST_SUFFIX = '.json'
PARTIAL_MARK = '.partial-'
MANIFEST_VERSION = 1
CHUNK = 1024 * 1024
FILE_MODE = 0o600
DIR_MODE = 0o700

_STAMP = '%Y%m%d_%H%M%S'
_NAME_RE = re.compile(r'^(?P<service>[a-z][a-z0-9-]{0,30})_backup_(?P<stamp>[0-9]{8}_[0-9]{6})\.(?P<ext>%s)'
                      % '|'.join(KNOWN_EXTS))
_SIDECAR_RE = re.compile(r'^(?P<hex>[0-9a-f]{64}) [ *](?P<name>[^\n]+)\n?')


def _utc(when):
    if not isinstance(when, datetime):
        raise ValueError('a backup time must be a datetime, got %s' % type(when).__name__)
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError('backup time %s has no time zone: pass an aware datetime, '
                         'e.g. datetime.now(timezone.utc)' % when.isoformat())
    return when.astimezone(timezone.utc)


def iso(when):
    """``2024-01-15T02:00:00Z`` (UTC, whole seconds): how times are written in manifests."""
    return _utc(when).strftime('%Y-%m-%dT%H:%M:%SZ')


def _now():
    return datetime.now(timezone.utc)


# ---------------------------------------------------------------- names and paths

def backup_ext(kind):
    """The file extension of a backup of ``kind`` (postgres/redis/opensearch)."""
    try:
        return KIND_EXT[kind]
    except KeyError:
        raise ValueError('cannot back up a service of type %r: backups exist for %s'
                         % (kind, ', '.join(sorted(KIND_EXT)))) from None


def backup_name(service, when, ext):
    """``postgres_backup_20240115_020000.dump``: ``when`` (aware) in UTC, ``ext`` one of KNOWN_EXTS."""
    err = id_error('service', service)
    if err:
        raise ValueError(err)
    if ext not in KNOWN_EXTS:
        raise ValueError('backup extension %r is not one of %s' % (ext, ', '.join(KNOWN_EXTS)))
    return '%s_backup_%s.%s' % (service, _utc(when).strftime(_STAMP), ext)


def parse_backup_name(filename):
    """``(service, datetime in UTC, ext)`` for a backup's final name, else None.

    None for temp files, sidecars, manifests, paths, reserved or invalid
    service ids and impossible dates.
    """
    if not isinstance(filename, str):
        return None
    match = _NAME_RE.fullmatch(filename)
    if not match or id_error('service', match.group('service')):
        return None
    try:
        when = datetime.strptime(match.group('stamp'), _STAMP).replace(tzinfo=timezone.utc)
    except ValueError:
        return None
    return match.group('service'), when, match.group('ext')


def newest_pulled(pulled_dir, service):
    """The newest whole backup of ``service`` that pull.yml brought to the controller: ``(path, datetime in UTC)``
    or None. ``pulled_dir`` is the controller's ``backups/``, one folder per server address (a replaced server's
    backups stay under its old address); a backup counts when its checksum file is there too."""
    found = None
    for server in sorted(os.listdir(pulled_dir)) if os.path.isdir(pulled_dir) else []:
        folder = os.path.join(pulled_dir, server)
        if not os.path.isdir(folder):
            continue
        for filename in os.listdir(folder):
            parsed = parse_backup_name(filename)
            if not parsed or parsed[0] != service:
                continue
            if not os.path.isfile(os.path.join(folder, sidecar_name(filename))):
                continue
            if found is None or parsed[1] > found[1]:
                found = (os.path.join(folder, filename), parsed[1])
    return found


def backups_dir(fleet_root, user, project, env):
    """``{fleet_root}/{user}/{project}/{env}/backups`` (ids checked)."""
    check_ids(user=user, project=project, env=env)
    return project_dirs(fleet_root, user, project, env)['backups']


def temp_name(final_name, token=None):
    """``.{final}.partial-{random}``: hidden, in the same directory, unique per writer."""
    return '.%s%s%s' % (final_name, PARTIAL_MARK, token or secrets.token_hex(6))


def is_temp_name(filename):
    return filename.startswith('.') and PARTIAL_MARK in filename


def sidecar_name(final_name):
    """``{final}.sha256``, in ``sha256sum`` format (``sha256sum -c`` checks it from the directory)."""
    return final_name + SIDECAR_SUFFIX


def manifest_name(final_name):
    """``{final}.json``: the record of one backup (see the module docstring for why one per backup)."""
    return final_name + MANIFEST_SUFFIX


def sidecar_text(hexdigest, final_name):
    return '%s  %s\n' % (hexdigest, final_name)


def parse_sidecar(text, final_name):
    """The hex digest in a sidecar's text; ValueError (without the file name) if it is not one for ``final_name``."""
    match = _SIDECAR_RE.fullmatch(text)
    if not match:
        raise ValueError('is not in sha256sum format "<64 hex digits>  <name>"')
    if match.group('name') != final_name:
        raise ValueError('names %s, not %s' % (match.group('name'), final_name))
    return match.group('hex')


# ---------------------------------------------------------------- writing

def _fsync_dir(directory):
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _ensure_dir(directory):
    if not os.path.isdir(directory):
        os.makedirs(directory, DIR_MODE, exist_ok=True)
    if os.stat(directory).st_mode & 0o777 != DIR_MODE:
        os.chmod(directory, DIR_MODE)


def _chunks(source):
    """Bytes chunks from a file object (``read``) or an iterable of bytes."""
    read = getattr(source, 'read', None)
    if read is not None:
        while True:
            chunk = read(CHUNK)
            if not chunk:
                return
            yield chunk
    else:
        for chunk in source:
            if chunk:
                yield chunk


def _stream_to_temp(directory, final_name, source):
    """Write ``source`` to a new 0600 temp file, fsynced; return (temp path, sha256 hex, size)."""
    path = os.path.join(directory, temp_name(final_name))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    digest = hashlib.sha256()
    size = 0
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, 'wb') as handle:
            for chunk in _chunks(source):
                if not isinstance(chunk, bytes):
                    raise TypeError('backup data must be bytes, got %s' % type(chunk).__name__)
                handle.write(chunk)
                digest.update(chunk)
                size += len(chunk)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        _remove(path)
        raise
    return path, digest.hexdigest(), size


def _link_final(temp_path, final_path):
    """Give the temp file its final name without ever replacing an existing file, then drop the temp name."""
    try:
        os.link(temp_path, final_path)
    except OSError as exc:
        if exc.errno == errno.EEXIST:
            raise FileExistsError('%s already exists: a backup is never overwritten; '
                                  'wait a second and take it again' % final_path) from None
        raise
    _remove(temp_path)


def _remove(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _write_small(directory, name, data):
    """Write ``data`` (bytes) atomically as ``directory/name`` (0600); return the path."""
    temp, _hex, _size = _stream_to_temp(directory, name, [data])
    final = os.path.join(directory, name)
    try:
        _link_final(temp, final)
    except BaseException:
        _remove(temp)
        raise
    return final


def write_atomically(directory, final_name, source, meta=None, clock=None):
    """Stream ``source`` (a binary file object or an iterable of bytes) into ``directory/final_name``.

    ``meta`` adds ``kind``, ``version`` and ``source`` (``{container, image}``)
    to the manifest; ``clock`` returns an aware datetime (injected by tests).
    The directory is created 0700 if missing, files are 0600.  Returns the
    manifest record with ``path`` added.  On any error (the source raising
    midway, a full disk, the name already taken) the temp file and any
    sidecar or manifest this call wrote are removed, and nothing with the
    final name exists unless it existed before.
    """
    parsed = parse_backup_name(final_name)
    if parsed is None:
        raise ValueError('%r is not a backup name: use backup_name() ({service}_backup_YYYYmmdd_HHMMSS.{ext})'
                         % (final_name,))
    clock = clock or _now
    meta = dict(meta or {})
    started = clock()
    _ensure_dir(directory)
    final = os.path.join(directory, final_name)
    side = os.path.join(directory, sidecar_name(final_name))
    man = os.path.join(directory, manifest_name(final_name))
    for path in (final, side, man):
        if os.path.lexists(path):
            raise FileExistsError('%s already exists: a backup is never overwritten; '
                                  'wait a second and take it again' % path)
    written = []
    temp = None
    try:
        temp, hexdigest, size = _stream_to_temp(directory, final_name, source)
        finished = clock()
        kind = meta.get('kind')
        record = {
            'manifest_version': MANIFEST_VERSION,
            'name': final_name,
            'service': parsed[0],
            'kind': kind,
            'format': FORMATS.get(kind),
            'version': meta.get('version'),
            'size': size,
            'sha256': hexdigest,
            'started': iso(started),
            'finished': iso(finished),
            'duration_s': round((finished - started).total_seconds(), 3),
            'source': {'container': (meta.get('source') or {}).get('container'),
                       'image': (meta.get('source') or {}).get('image')},
        }
        written.append(_write_small(directory, sidecar_name(final_name),
                                    sidecar_text(hexdigest, final_name).encode('ascii')))
        written.append(_write_small(directory, manifest_name(final_name),
                                    (json.dumps(record, sort_keys=True, indent=1) + '\n').encode('utf-8')))
        _link_final(temp, final)
        temp = None
        _fsync_dir(directory)
    except BaseException:
        if temp is not None:
            _remove(temp)
        for path in written:
            _remove(path)
        raise
    record['path'] = final
    return record


# ---------------------------------------------------------------- verifying

def file_sha256(path):
    """(sha256 hex, size) of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, 'rb') as handle:
        while True:
            chunk = handle.read(CHUNK)
            if not chunk:
                break
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def read_manifest(path):
    """The manifest record of the backup at ``path``, None if there is none; ValueError if unreadable."""
    man = path + MANIFEST_SUFFIX
    try:
        with open(man, 'rb') as handle:
            text = handle.read().decode('utf-8')
    except FileNotFoundError:
        return None
    try:
        record = json.loads(text)
    except ValueError:
        record = None
    if not isinstance(record, dict) or not isinstance(record.get('size'), int):
        raise ValueError('manifest %s is not a backup manifest (JSON with a size): it was damaged; '
                         'use another backup (backups.yml lists them)' % man)
    return record


def verify(path):
    """Check the backup at ``path`` against its sidecar and manifest; return its record.

    Raises ValueError with one line naming the file, what is wrong and the
    fix: missing file or sidecar, a sidecar that is not for this file,
    truncated (size X of Y), a size differing from the manifest, checksum
    mismatch.  A missing manifest is not an error: the checksum alone proves
    the bytes; the record then carries only what the name tells.
    """
    name = os.path.basename(path)
    other = 'use another backup (backups.yml lists them)'
    parsed = parse_backup_name(name)
    if parsed is None:
        raise ValueError('%s is not a backup file name ({service}_backup_YYYYmmdd_HHMMSS.{ext}): '
                         'pass a name that backups.yml lists' % path)
    if not os.path.isfile(path):
        raise ValueError('backup %s does not exist: %s' % (path, other))
    side = path + SIDECAR_SUFFIX
    try:
        with open(side, 'rb') as handle:
            side_text = handle.read(4096).decode('utf-8', 'replace')
    except FileNotFoundError:
        raise ValueError('backup %s has no checksum file %s, so it cannot be trusted (it was never '
                         'finished, or copied without it): copy %s beside it or %s'
                         % (path, os.path.basename(side), os.path.basename(side), other)) from None
    try:
        expected = parse_sidecar(side_text, name)
    except ValueError as exc:
        raise ValueError('checksum file %s %s: it was damaged or belongs to another file; %s'
                         % (side, exc, other)) from None
    manifest = read_manifest(path)
    actual_size = os.path.getsize(path)
    if manifest is not None:
        want = manifest['size']
        if actual_size < want:
            raise ValueError('backup %s is truncated: size %d of %d bytes (an interrupted copy or a full disk): '
                             'copy it again from the server or %s' % (path, actual_size, want, other))
        if actual_size != want:
            raise ValueError('backup %s has size %d but its manifest says %d bytes: it was changed after it '
                             'was written; %s' % (path, actual_size, want, other))
    hexdigest, size = file_sha256(path)
    if hexdigest != expected:
        raise ValueError('backup %s fails its checksum: sha256 %s, %s says %s (the file is corrupted): '
                         'copy it again from the server or %s'
                         % (path, hexdigest[:16], os.path.basename(side), expected[:16], other))
    record = dict(manifest or {'name': name, 'service': parsed[0], 'sha256': expected})
    record.update(path=path, size=size, status='ok', verified=True)
    return record


# ---------------------------------------------------------------- listing

def _listing_record(directory, filename, names):
    service, when, ext = parse_backup_name(filename)
    path = os.path.join(directory, filename)
    record = {'name': filename, 'path': path, 'service': service, 'when': iso(when), 'ext': ext,
              'size': os.path.getsize(path), 'status': 'ok', 'problem': None}
    missing = [n for n in (sidecar_name(filename), manifest_name(filename)) if n not in names]
    try:
        manifest = read_manifest(path)
    except ValueError as exc:
        manifest = None
        record.update(status='damaged', problem=str(exc))
    if manifest:
        record.update((k, v) for k, v in manifest.items() if k not in ('name', 'path', 'service', 'size'))
        if record['size'] != manifest['size']:
            record.update(status='damaged', problem='size %d of %d bytes' % (record['size'], manifest['size']))
    if missing and record['status'] == 'ok':
        record.update(status='incomplete', problem='missing %s' % ', '.join(missing))
    return record


def list_backups(directory, service=None):
    """The backups in ``directory`` (of one service if given): service A-Z, newest first in each.

    Cheap, no hashing (:func:`verify` hashes).  ``status`` is ``ok`` (sidecar
    and manifest present, size as recorded), ``incomplete`` (sidecar or
    manifest missing) or ``damaged`` (size differs from the manifest, or the
    manifest is unreadable); ``problem`` says which.  Temp files, sidecars and
    manifests are not listed.  A missing directory lists nothing.
    """
    try:
        names = set(os.listdir(directory))
    except FileNotFoundError:
        return []
    records = []
    for filename in names:
        parsed = parse_backup_name(filename)
        if parsed is None or (service is not None and parsed[0] != service):
            continue
        if not os.path.isfile(os.path.join(directory, filename)):
            continue
        records.append(_listing_record(directory, filename, names))
    return _ordered(records)


def stray_files(directory):
    """Names left by interrupted writes: temp files and sidecars/manifests whose backup is gone, sorted."""
    try:
        names = set(os.listdir(directory))
    except FileNotFoundError:
        return []
    stray = []
    for filename in names:
        if is_temp_name(filename):
            stray.append(filename)
            continue
        for suffix in (SIDECAR_SUFFIX, MANIFEST_SUFFIX):
            base = filename[:-len(suffix)]
            if filename.endswith(suffix) and parse_backup_name(base) and base not in names:
                stray.append(filename)
    return sorted(stray)


def _sort_key(record):
    parsed = parse_backup_name(record['name'])
    if parsed is None:
        raise ValueError('%r is not a backup name' % (record.get('name'),))
    # newest first: negate the timestamp; the name breaks ties between extensions
    return parsed[0], -parsed[1].timestamp(), record['name']


def _ordered(records):
    return sorted(records, key=_sort_key)


# ---------------------------------------------------------------- retention

def plan_prune(backups, keep_count, keep_days=None, now=None):
    """Split backup records (from :func:`list_backups`) into ``(keep, delete)``.

    Per service, newest first:

    * the newest ``keep_count`` (the spec's ``backup_keep``) are always kept;
    * an older one is deleted when ``keep_days`` is None (count only, as
      docs/spec.md describes ``backup_keep``) or when it is older than
      ``keep_days`` days at ``now``; younger ones stay, so retention by count
      *and* age never deletes a recent backup;
    * the newest backup with ``status == 'ok'`` is always kept, even past
      the count, so a run of incomplete or damaged backups never leaves a
      service with nothing to restore.

    The seed gives no retention rule; this is the fleet's.  Both lists are
    ordered as :func:`list_backups` orders them (deterministic).
    """
    if isinstance(keep_count, bool) or not isinstance(keep_count, int) or keep_count < 1:
        raise ValueError('keep_count must be a whole number of at least 1, got %r: '
                         'at least the newest backup is always kept' % (keep_count,))
    if keep_days is not None and (isinstance(keep_days, bool) or not isinstance(keep_days, (int, float))
                                  or keep_days < 0):
        raise ValueError('keep_days must be a number of days (0 or more) or None, got %r' % (keep_days,))
    now = _utc(now) if now is not None else _now()
    by_service = {}
    for record in _ordered(backups):
        by_service.setdefault(parse_backup_name(record['name'])[0], []).append(record)
    keep, delete = [], []
    for service in sorted(by_service):
        records = by_service[service]
        newest_ok = next((r for r in records if r.get('status') == 'ok'), None)
        for index, record in enumerate(records):
            when = parse_backup_name(record['name'])[1]
            young = keep_days is not None and now - when <= timedelta(days=keep_days)
            if index < keep_count or young or record is newest_ok:
                keep.append(record)
            else:
                delete.append(record)
    return keep, delete


# ---------------------------------------------------------------- schedules

def default_schedule(kind):
    """The default cron schedule of a kind's backups (postgres 02:00, redis 03:00, opensearch 04:00)."""
    if kind not in KIND_EXT:
        raise ValueError('no backup schedule for a service of type %r: backups exist for %s'
                         % (kind, ', '.join(sorted(KIND_EXT))))
    return DATABASES[kind][2]


def backup_schedule(kind, override=None):
    """The cron expression for ``kind``'s backups: ``override`` (the spec's ``backup_schedule``) if given, checked."""
    default = default_schedule(kind)
    if override is None or (isinstance(override, str) and not override.strip()):
        return default
    err = cron_error(override)
    if err:
        raise ValueError('backup_schedule %r for %s is not a valid cron expression: %s; write five fields '
                         '"minute hour day-of-month month day-of-week", e.g. "%s"' % (override, kind, err, default))
    return override.strip()


def delete_backup(directory, name):
    """Remove one backup with its checksum file and manifest (the data first, so no half is ever listed as ok)."""
    if parse_backup_name(name) is None:
        raise ValueError('%r is not a backup name' % (name,))
    for filename in (name, sidecar_name(name), manifest_name(name)):
        _remove(os.path.join(directory, filename))
    _fsync_dir(directory)


def old_stray_files(directory, now, min_age_s=86400):
    """The :func:`stray_files` untouched for ``min_age_s`` (a younger temp file may be a backup being written)."""
    old = []
    for name in stray_files(directory):
        try:
            mtime = os.path.getmtime(os.path.join(directory, name))
        except FileNotFoundError:
            continue
        if _utc(now).timestamp() - mtime >= min_age_s:
            old.append(name)
    return old


def delete_stray(directory, name):
    """Remove one file :func:`stray_files` named."""
    if name not in stray_files(directory):
        raise ValueError('%r is not a stray backup file' % (name,))
    _remove(os.path.join(directory, name))


def prune(directory, service, keep_count, keep_days=None, now=None, dry_run=False):
    """Apply :func:`plan_prune` to ``service``'s backups in ``directory``, and drop its day-old stray files.

    Returns the names removed (or that would be, with ``dry_run``).
    """
    now = _utc(now) if now is not None else _now()
    _keep, delete = plan_prune(list_backups(directory, service), keep_count, keep_days, now)
    names = [record['name'] for record in delete]
    strays = [name for name in old_stray_files(directory, now) if name.lstrip('.').startswith('%s_backup_' % service)]
    if not dry_run:
        for name in names:
            delete_backup(directory, name)
        for name in strays:
            delete_stray(directory, name)
    return names + strays
