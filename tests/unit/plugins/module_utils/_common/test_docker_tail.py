# SPDX-License-Identifier: GPL-3.0-or-later
"""The one line of a failed tool's output that a fleet error quotes."""
from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.docker import _tail


def test_the_last_error_line_and_the_command_after_it():
    out = (b'pg_restore: creating TABLE "public.haunted"\n'
           b'pg_restore: error: could not execute query: ERROR:  role "ghost" does not exist\n'
           b'Command was: ALTER TABLE public.haunted OWNER TO ghost;\n\n')
    assert _tail(out) == ('pg_restore: error: could not execute query: ERROR:  role "ghost" does not exist '
                          'Command was: ALTER TABLE public.haunted OWNER TO ghost;')


def test_without_an_error_word_the_last_line():
    assert _tail(b'one\ntwo\n  \n') == 'two'
    assert _tail(b'') == ''


def test_only_the_tail_of_a_long_output_is_read():
    out = b'FATAL: early\n' + b'x' * 10000 + b'\nlast words\n'
    assert _tail(out) == 'last words'
