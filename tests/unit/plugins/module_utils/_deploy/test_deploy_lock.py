# SPDX-License-Identifier: GPL-3.0-or-later
import pytest

from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy import deploy_lock


class Clock(object):
    def __init__(self):
        self.now = 0

    def time(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_attempt_fails_while_held_and_held_waits_bounded(tmp_path):
    state_dir = str(tmp_path)
    with deploy_lock.held(state_dir):
        with deploy_lock.attempt(state_dir) as got:
            assert got is False
        with pytest.raises(deploy_lock.LockBusy):
            with deploy_lock.held(state_dir, wait=1, clock=Clock()):
                pass
    with deploy_lock.attempt(state_dir) as got:
        assert got is True


def test_missing_directory_is_not_created(tmp_path):
    missing = str(tmp_path / 'config' / 'deploy')
    with deploy_lock.held(missing):
        pass
    with deploy_lock.attempt(missing) as got:
        assert got is True
    assert not (tmp_path / 'config').exists()
