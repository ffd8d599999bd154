# SPDX-License-Identifier: GPL-3.0-or-later
"""The rsync_moved filter: what a looped synchronize moved, as folder/path lines."""
from ansible_collections.projectdeployer.fleet.plugins.filter.rsync_moved import rsync_moved


def _result(folder, *lines):
    return {'item': {'item': folder, 'stat': {'exists': True}}, 'stdout_lines': list(lines)}


def test_files_of_each_folder_directories_left_out():
    results = [_result('config', '.d..t...... ./', '<f+++++++++ app.yml', 'cd+++++++++ nginx/', '<f.st...... nginx/x.conf'),
               _result('files', '<f+++++++++ logo.svg')]
    assert rsync_moved(results) == ['config/app.yml', 'config/nginx/x.conf', 'files/logo.svg']


def test_pulled_files_and_a_plain_item():
    results = [{'item': 'backups', 'stdout_lines': ['>f+++++++++ postgres_backup_20261202_020000.dump']}]
    assert rsync_moved(results) == ['backups/postgres_backup_20261202_020000.dump']


def test_nothing_moved():
    assert rsync_moved([_result('config', '', '.d..t...... ./')]) == ['nothing changed']
    assert rsync_moved([{'item': {'item': 'logs'}, 'skipped': True}]) == ['nothing changed']
    assert rsync_moved([]) == ['nothing changed']
