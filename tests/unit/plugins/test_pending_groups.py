# SPDX-License-Identifier: GPL-3.0-or-later
"""The startup groups a deploy goes through: those with a change on any server."""
import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.projectdeployer.fleet.plugins.filter.pending_groups import pending_groups

GROUPS = [['postgres', 'redis'], ['api', 'worker', 'report']]


def test_nothing_changed_anywhere_means_no_group():
    assert pending_groups(GROUPS, [{}, {}]) == []


def test_a_change_on_one_server_takes_every_server_through_that_group_only():
    assert pending_groups(GROUPS, [{}, {'worker': 'a new image or configuration'}]) == [
        {'index': 1, 'services': ['api', 'worker', 'report']}]
    assert [g['index'] for g in pending_groups(GROUPS, [{'redis': 'not running'}, {'report': 'x'}])] == [0, 1]


def test_not_a_list_of_changes_is_one_error():
    with pytest.raises(AnsibleFilterError):
        pending_groups(GROUPS, [3])
