# SPDX-License-Identifier: GPL-3.0-or-later
"""The project's directories in one step (_common/directories)."""
import os
import stat

import pytest

from ansible_collections.projectdeployer.fleet.plugins.module_utils._common import directories as d


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_new_project_gets_the_whole_layout_with_its_modes(tmp_path):
    base = str(tmp_path / 'u1' / 'myapp' / 'prod')
    todo = d.plan(base, d.PROJECT_LAYOUT)
    assert [a for dummy, dummy2, a in todo] == ['create'] * 10
    d.apply(todo)
    assert mode(base) == 0o755
    assert mode(os.path.join(base, 'secrets')) == 0o700 and mode(os.path.join(base, 'backups')) == 0o700
    assert mode(os.path.join(base, 'config', 'deploy')) == 0o755
    assert d.plan(base, d.PROJECT_LAYOUT) == []


def test_a_wrong_mode_is_corrected_and_nothing_else_done(tmp_path):
    base = str(tmp_path)
    d.apply(d.plan(base, d.PROJECT_LAYOUT))
    os.chmod(os.path.join(base, 'secrets'), 0o755)
    todo = d.plan(base, d.PROJECT_LAYOUT)
    assert todo == [(os.path.join(base, 'secrets'), 0o700, 'chmod')]
    d.apply(todo)
    assert mode(os.path.join(base, 'secrets')) == 0o700


def test_the_base_keeps_its_own_mode(tmp_path):
    os.chmod(str(tmp_path), 0o711)
    d.apply(d.plan(str(tmp_path), d.PROJECT_LAYOUT))
    assert mode(str(tmp_path)) == 0o711


def test_a_file_in_the_way_is_one_clear_error(tmp_path):
    (tmp_path / 'secrets').write_text('x')
    with pytest.raises(ValueError, match='secrets exists and is not a directory; fix: move it away'):
        d.plan(str(tmp_path), d.PROJECT_LAYOUT)


@pytest.mark.parametrize('layout, needle', [
    ([('../x', '0755')], "'../x' is not a relative path"),
    ([('/etc', '0755')], "'/etc' is not a relative path"),
    ([('a//b', '0755')], "'a//b' is not a relative path"),
    ([('a', 'rwx')], "mode 'rwx' of a is not octal"),
])
def test_bad_layouts_are_refused(layout, needle):
    with pytest.raises(ValueError) as info:
        d.check_layout(layout)
    assert needle in str(info.value)


def test_octal_strings_are_read():
    assert d.check_layout([('a', '0700'), ('b', 0o755)]) == [('a', 0o700), ('b', 0o755)]
