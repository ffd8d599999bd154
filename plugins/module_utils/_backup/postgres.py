# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""PostgreSQL backups and restores as commands and SQL; pure (the engine runs them).

Backup: ``pg_dump --format=custom`` in the live container over its local socket
(one consistent snapshot, compressed), streamed out to the backups folder.

Restore, so that a failure leaves the live data as it was and a success leaves
exactly the backup's data (also no table created after the backup):

1. ``pg_restore --list`` of the file (a helper container of the same image, the
   file mounted read-only): the archive must be readable before anything changes;
2. a fresh database ``{db}__fleet_restore`` (template0, owned by the role) gets
   the backup with ``pg_restore --exit-on-error``; any error drops it and stops;
3. the swap, one psql session on the maintenance database: the live database
   stops taking connections, its sessions end (bounded wait), it is renamed
   ``{db}__fleet_previous`` and the restored one takes its name;
4. the previous database is dropped (the restore took a backup of it first).

A swap that fails midway is undone by :func:`undo_swap_sql`.
"""

from __future__ import annotations

RESTORE_SUFFIX = '__fleet_restore'
PREVIOUS_SUFFIX = '__fleet_previous'
MAINTENANCE_DB = 'postgres'
SOCKET_USER = 'postgres'
# How long the swap waits for the live database's sessions to end after terminating them.
TERMINATE_WAIT_S = 10


def ident(name):
    """A quoted SQL identifier."""
    return '"%s"' % name.replace('"', '""')


def literal(text):
    """A quoted SQL string literal."""
    return "'%s'" % text.replace("'", "''")


def psql(role, database, sql):
    """argv of psql running ``sql`` over the container's local socket, stopping at the first error."""
    return ['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '--no-password', '-U', role, '-d', database,
            '-At', '-c', sql]


def dump_cmd(role, database):
    """argv of the dump: custom format to stdout (compressed, restorable table by table)."""
    return ['pg_dump', '--format=custom', '--no-password', '-U', role, '-d', database]


def version_cmd(role, database):
    return psql(role, database, 'SHOW server_version')


def list_cmd(path):
    """argv that reads an archive's table of contents: exits non-zero if the file is not a readable archive."""
    return ['pg_restore', '--list', path]


def restore_cmd(path, host, role, database, plain=False):
    """argv that loads ``path`` into ``database`` at ``host`` (password from PGPASSFILE); stops at the first error."""
    if plain:
        return ['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '--no-password', '-h', host, '-U', role,
                '-d', database, '-f', path]
    return ['pg_restore', '--exit-on-error', '--no-password', '-h', host, '-U', role, '-d', database, path]


def restore_db(database):
    return database + RESTORE_SUFFIX


def previous_db(database):
    return database + PREVIOUS_SUFFIX


def create_restore_db_sql(database, role):
    """Statements (one per psql call: CREATE/DROP DATABASE refuse transaction blocks) preparing the target."""
    tmp = restore_db(database)
    return ['DROP DATABASE IF EXISTS %s WITH (FORCE)' % ident(tmp),
            'CREATE DATABASE %s TEMPLATE template0 OWNER %s' % (ident(tmp), ident(role))]


def drop_sql(database):
    return 'DROP DATABASE IF EXISTS %s WITH (FORCE)' % ident(database)


def swap_sql(database):
    """One psql script: close the live database, end its sessions, put the restored one in its place."""
    tmp, old = restore_db(database), previous_db(database)
    return '\n'.join([
        'ALTER DATABASE %s WITH ALLOW_CONNECTIONS false;' % ident(database),
        'DO $fleet$ BEGIN',
        '  FOR attempt IN 1..%d LOOP' % (TERMINATE_WAIT_S * 10),
        '    PERFORM pg_terminate_backend(pid) FROM pg_stat_activity',
        '      WHERE datname = %s AND pid <> pg_backend_pid();' % literal(database),
        '    EXIT WHEN NOT EXISTS (SELECT 1 FROM pg_stat_activity',
        '      WHERE datname = %s AND pid <> pg_backend_pid());' % literal(database),
        '    PERFORM pg_sleep(0.1);',
        '  END LOOP;',
        'END $fleet$;',
        'ALTER DATABASE %s RENAME TO %s;' % (ident(database), ident(old)),
        'ALTER DATABASE %s RENAME TO %s;' % (ident(tmp), ident(database)),
    ])


def undo_swap_sql(database):
    """Put the live database back where a failed swap left it, and open it again."""
    tmp, old = restore_db(database), previous_db(database)
    return '\n'.join([
        'DO $fleet$ BEGIN',
        '  IF NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = %s)' % literal(database),
        '     AND EXISTS (SELECT 1 FROM pg_database WHERE datname = %s) THEN' % literal(old),
        '    EXECUTE %s;' % literal('ALTER DATABASE %s RENAME TO %s' % (ident(old), ident(database))),
        '  END IF;',
        'END $fleet$;',
        'ALTER DATABASE %s WITH ALLOW_CONNECTIONS true;' % ident(database),
    ]), drop_sql(tmp)
