# SPDX-License-Identifier: GPL-3.0-or-later
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.status import render
from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.text_table import text_table


def test_columns_line_up_and_lines_have_no_trailing_spaces():
    lines = text_table(('a', 'long header'), [(1, 'x'), ('wide value', None)])
    assert lines == ['a           long header', '----------  -----------', '1           x', 'wide value  None']


def test_empty_table_keeps_its_headers():
    assert text_table(('a', 'b'), []) == ['a  b', '-  -']


def test_status_table_ends_with_its_legend():
    lines = render([('localhost', 'api', '*primary', '1', 'healthy', '8000>8100', '1m02s')])
    assert lines[2].split() == ['localhost', 'api', '*primary', '1', 'healthy', '8000>8100', '1m02s']
    assert lines[-1] == '* marks the slot that serves'
