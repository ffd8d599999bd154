# SPDX-License-Identifier: GPL-3.0-or-later
"""The plan's image column: what a deploy will run, as far as the spec tells."""
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.plan import build_plan
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.schema import validate_project

SPEC = {
    'fleet_user': 'u1', 'fleet_project': 'myapp', 'docker_hub_user': '',
    'services': {
        'postgres': {'type': 'postgres'},
        'api': {'type': 'python', 'git_repo': 'https://github.com/user/api.git@main', 'command': 'python app.py',
                'port': 8000, 'depends_on': ['postgres']},
        'web': {'type': 'react', 'git_repo': 'https://github.com/user/web.git', 'version': '3'},
        'worker': {'type': 'python', 'build_context': 'worker', 'command': 'python w.py'},
    },
}


def images():
    spec = validate_project(SPEC, 'spec.yml', 'prod')
    return dict((row['service'], row['image']) for row in build_plan(spec)['services'])


def test_a_git_build_without_a_version_shows_the_commit_it_will_be_tagged_with():
    found = images()
    assert found['api'] == 'u1_myapp_prod_api:<commit of main>'


def test_a_versioned_git_build_a_local_build_and_a_database_keep_their_tags():
    found = images()
    assert found['web'] == 'u1_myapp_prod_web:3'
    assert found['worker'] == 'u1_myapp_prod_worker:latest'
    assert found['postgres'].startswith('postgres:')
