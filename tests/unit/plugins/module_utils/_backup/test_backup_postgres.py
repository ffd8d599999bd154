# SPDX-License-Identifier: GPL-3.0-or-later
"""_backup/postgres: quoting, the argv of psql/pg_dump/pg_restore, and the SQL of the restore and the swap."""
import pytest

from ansible_collections.projectdeployer.fleet.plugins.module_utils._backup import postgres as pg

DB = 'u1_myapp_prod_postgres'
ROLE = 'u1_myapp_postgres'


def _unquote(quoted, mark):
    """The text inside one quoted token, checking that every inner quote mark is doubled (nothing escapes)."""
    assert quoted[0] == mark and quoted[-1] == mark, quoted
    inner = quoted[1:-1]
    assert inner.replace(mark * 2, '').count(mark) == 0, 'an unpaired %s ends the token early: %s' % (mark, quoted)
    return inner.replace(mark * 2, mark)


# ---------------------------------------------------------------- quoting

def test_ident_plain():
    assert pg.ident('u1_myapp_prod_postgres') == '"u1_myapp_prod_postgres"'
    assert pg.ident('') == '""'


def test_literal_plain():
    assert pg.literal('u1_myapp_prod_postgres') == "'u1_myapp_prod_postgres'"
    assert pg.literal('') == "''"


@pytest.mark.parametrize('name', [
    'a"b',
    '"',
    'x"; DROP DATABASE postgres; --',
    '""',
    'end"',
    "it's",
])
def test_ident_doubles_double_quotes_and_stays_one_token(name):
    quoted = pg.ident(name)
    assert quoted == '"%s"' % name.replace('"', '""')
    assert _unquote(quoted, '"') == name


@pytest.mark.parametrize('text', [
    "o'brien",
    "'",
    "x'; DROP DATABASE postgres; --",
    "''",
    'say "hi"',
])
def test_literal_doubles_single_quotes_and_stays_one_token(text):
    quoted = pg.literal(text)
    assert quoted == "'%s'" % text.replace("'", "''")
    assert _unquote(quoted, "'") == text


def test_injection_in_create_sql_stays_inside_the_identifier():
    evil = 'x"; DROP DATABASE postgres; --'
    drop, create = pg.create_restore_db_sql(evil, 'r"ole')
    assert drop == 'DROP DATABASE IF EXISTS "x""; DROP DATABASE postgres; --__fleet_restore" WITH (FORCE)'
    assert create == ('CREATE DATABASE "x""; DROP DATABASE postgres; --__fleet_restore" '
                      'TEMPLATE template0 OWNER "r""ole"')


def test_injection_in_swap_literal_stays_quoted():
    evil = "x'); DROP DATABASE postgres; --"
    sql = pg.swap_sql(evil)
    assert "datname = 'x''); DROP DATABASE postgres; --' AND" in sql
    assert "datname = 'x'); " not in sql


# ---------------------------------------------------------------- argv

def _no_secret(argv):
    """No password can be on the command line: no -W/--password, no conninfo, no PGPASSWORD."""
    for arg in argv:
        low = arg.lower()
        assert 'password=' not in low and 'pgpassword' not in low and '://' not in low, arg
    assert '-W' not in argv and '--password' not in argv


def test_psql_argv():
    argv = pg.psql(ROLE, DB, 'SELECT 1')
    assert argv == ['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '--no-password', '-U', ROLE, '-d', DB,
                    '-At', '-c', 'SELECT 1']
    _no_secret(argv)


def test_psql_keeps_the_sql_as_one_argument():
    sql = "SELECT 'a b'; SELECT 2"
    argv = pg.psql('postgres', 'postgres', sql)
    assert argv[-2:] == ['-c', sql]
    assert argv[argv.index('-U') + 1] == 'postgres' and argv[argv.index('-d') + 1] == 'postgres'


def test_version_cmd():
    assert pg.version_cmd(ROLE, DB) == pg.psql(ROLE, DB, 'SHOW server_version')


def test_dump_cmd_custom_format_to_stdout():
    argv = pg.dump_cmd(ROLE, DB)
    assert argv[0] == 'pg_dump'
    assert '--format=custom' in argv and '--no-password' in argv
    assert argv[argv.index('-U') + 1] == ROLE and argv[argv.index('-d') + 1] == DB
    # to stdout: no output file
    assert '-f' not in argv and not any(a.startswith('--file') for a in argv)
    _no_secret(argv)


def test_list_cmd():
    assert pg.list_cmd('/backups/postgres_backup_20240115_020000.dump') == [
        'pg_restore', '--list', '/backups/postgres_backup_20240115_020000.dump']


def test_restore_cmd_custom():
    path = '/backups/postgres_backup_20240115_020000.dump'
    argv = pg.restore_cmd(path, 'u1_myapp_prod_postgres_blue', ROLE, pg.restore_db(DB))
    assert argv[0] == 'pg_restore'
    assert '--exit-on-error' in argv and '--no-password' in argv
    assert argv[argv.index('-h') + 1] == 'u1_myapp_prod_postgres_blue'
    assert argv[argv.index('-U') + 1] == ROLE
    assert argv[argv.index('-d') + 1] == DB + '__fleet_restore'
    assert argv[-1] == path
    _no_secret(argv)


def test_restore_cmd_plain_uses_psql_file():
    path = '/backups/postgres_backup_20240115_020000.sql'
    argv = pg.restore_cmd(path, 'dbhost', ROLE, 'target', plain=True)
    assert argv[0] == 'psql'
    assert argv[argv.index('-v') + 1] == 'ON_ERROR_STOP=1'
    assert argv[argv.index('-f') + 1] == path
    assert argv[argv.index('-h') + 1] == 'dbhost' and argv[argv.index('-d') + 1] == 'target'
    assert argv[argv.index('-U') + 1] == ROLE
    assert '--no-password' in argv and '-X' in argv
    assert 'pg_restore' not in argv and '--exit-on-error' not in argv
    _no_secret(argv)


# ---------------------------------------------------------------- database names

def test_restore_and_previous_names():
    assert pg.restore_db(DB) == DB + '__fleet_restore'
    assert pg.previous_db(DB) == DB + '__fleet_previous'
    assert pg.restore_db(DB) != pg.previous_db(DB) != DB


def test_create_restore_db_sql_drops_then_creates_from_template0():
    statements = pg.create_restore_db_sql(DB, ROLE)
    assert statements == [
        'DROP DATABASE IF EXISTS "%s__fleet_restore" WITH (FORCE)' % DB,
        'CREATE DATABASE "%s__fleet_restore" TEMPLATE template0 OWNER "%s"' % (DB, ROLE),
    ]
    # one statement per psql call: CREATE/DROP DATABASE refuse a transaction block
    assert all(';' not in s for s in statements)
    # never touches the live database
    assert all('"%s"' % DB not in s for s in statements)


def test_drop_sql():
    assert pg.drop_sql(pg.previous_db(DB)) == 'DROP DATABASE IF EXISTS "%s__fleet_previous" WITH (FORCE)' % DB


# ---------------------------------------------------------------- the swap

def _index(lines, text):
    found = [i for i, line in enumerate(lines) if text in line]
    assert len(found) == 1, (text, found)
    return found[0]


def test_swap_sql_order():
    lines = pg.swap_sql(DB).splitlines()
    close = _index(lines, 'ALTER DATABASE "%s" WITH ALLOW_CONNECTIONS false;' % DB)
    terminate = _index(lines, 'pg_terminate_backend(pid)')
    loop_end = _index(lines, 'END $fleet$;')
    aside = _index(lines, 'ALTER DATABASE "%s" RENAME TO "%s__fleet_previous";' % (DB, DB))
    into = _index(lines, 'ALTER DATABASE "%s__fleet_restore" RENAME TO "%s";' % (DB, DB))
    assert close == 0
    assert close < terminate < loop_end < aside < into
    assert into == len(lines) - 1
    # the previous database is kept (dropped by a separate step after success), nothing dropped here
    assert 'DROP' not in pg.swap_sql(DB)


def test_swap_sql_waits_only_for_the_live_database_and_not_itself():
    sql = pg.swap_sql(DB)
    assert sql.count("WHERE datname = '%s' AND pid <> pg_backend_pid()" % DB) == 2
    assert 'EXIT WHEN NOT EXISTS' in sql and 'pg_sleep(0.1)' in sql
    assert sql.count('DO $fleet$ BEGIN') == 1 and sql.count('END $fleet$;') == 1


def test_swap_sql_bounded_loop():
    assert pg.TERMINATE_WAIT_S * 10 == 100
    assert '  FOR attempt IN 1..%d LOOP' % (pg.TERMINATE_WAIT_S * 10) in pg.swap_sql(DB).splitlines()


def test_swap_sql_loop_follows_terminate_wait(monkeypatch):
    monkeypatch.setattr(pg, 'TERMINATE_WAIT_S', 3)
    sql = pg.swap_sql(DB)
    assert 'FOR attempt IN 1..30 LOOP' in sql and '1..100' not in sql


def test_undo_swap_sql():
    undo, drop = pg.undo_swap_sql(DB)
    lines = undo.splitlines()
    assert lines[0] == 'DO $fleet$ BEGIN'
    check = _index(lines, "IF NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '%s')" % DB)
    prev = _index(lines, "AND EXISTS (SELECT 1 FROM pg_database WHERE datname = '%s__fleet_previous') THEN" % DB)
    rename = _index(lines, "EXECUTE 'ALTER DATABASE \"%s__fleet_previous\" RENAME TO \"%s\"';" % (DB, DB))
    end = _index(lines, 'END $fleet$;')
    reopen = _index(lines, 'ALTER DATABASE "%s" WITH ALLOW_CONNECTIONS true;' % DB)
    assert check < prev < rename < end < reopen == len(lines) - 1
    assert drop == pg.drop_sql(pg.restore_db(DB))
    assert drop == 'DROP DATABASE IF EXISTS "%s__fleet_restore" WITH (FORCE)' % DB
    # the undo never drops the live or the previous database
    assert 'DROP' not in undo


def test_undo_swap_nested_quoting():
    # the rename is run by EXECUTE from a string literal: a quote in the name is doubled twice over
    undo, _drop = pg.undo_swap_sql("o'db")
    assert "EXECUTE 'ALTER DATABASE \"o''db__fleet_previous\" RENAME TO \"o''db\"';" in undo
    assert "WHERE datname = 'o''db')" in undo
