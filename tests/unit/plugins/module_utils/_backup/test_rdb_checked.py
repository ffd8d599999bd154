# SPDX-License-Identifier: GPL-3.0-or-later
"""A redis backup is refused unless what was read starts as an RDB file (an empty read is read again)."""
import pytest

from ansible_collections.projectdeployer.fleet.plugins.module_utils._backup.engine import EmptyReadError, _rdb_checked


def test_an_rdb_passes_through_in_its_chunks():
    assert list(_rdb_checked(iter([b'RE', b'DIS0011', b'rest']), '/data/dump.rdb')) == [b'RE', b'DIS0011', b'rest']


@pytest.mark.parametrize('chunks, words', [([], 'empty'), ([b'RED'], 'cut short'), ([b'PGDMP...'], 'not an RDB')])
def test_an_empty_or_foreign_read_is_refused(chunks, words):
    with pytest.raises(EmptyReadError, match=words):
        list(_rdb_checked(iter(chunks), '/data/dump.rdb'))
