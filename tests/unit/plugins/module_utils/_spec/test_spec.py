# SPDX-License-Identifier: GPL-3.0-or-later
import copy
import json
import os
import re

import pytest

from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec import schema as spec
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.schema import (
    SpecError, collect_errors, validate_project)

SOURCE = 'examples/myapp.yml'

# The seed's Quick Start project, as a spec file.
QUICK_START = {
    'fleet_user': 'u1',
    'fleet_project': 'myapp',
    'docker_hub_user': 'myusername',
    'services': {
        'postgres': {'type': 'postgres'},
        'redis': {'type': 'redis'},
        'api': {
            'type': 'python',
            'depends_on': ['postgres', 'redis'],
            'git_repo': 'https://github.com/user/api.git@main',
            'git_token': 'tk8787',
            'command': 'uvicorn main:app --host 0.0.0.0',
            'port': 8000,
            'servers_count': 3,
            'domain': 'api.example.com',
            'auto_scaling': True,
        },
        'web': {
            'type': 'react',
            'depends_on': ['api'],
            'git_repo': 'https://github.com/user/web.git@main',
            'git_token': 'tk8787',
            'domain': 'www.example.com',
            'servers_count': 3,
        },
    },
}


def quick_start(**top):
    raw = copy.deepcopy(QUICK_START)
    raw.update(top)
    return raw


def with_service(name, svc, base=None):
    raw = copy.deepcopy(base or QUICK_START)
    raw['services'][name] = svc
    return raw


def validate(raw, env='prod'):
    return validate_project(raw, SOURCE, env)


# ---------------------------------------------------------------- the seed's examples

def test_quick_start_validates():
    project = validate(quick_start())
    assert project['user'] == 'u1' and project['project'] == 'myapp' and project['env'] == 'prod'
    assert project['docker_hub_user'] == 'myusername' and project['version'] == 'latest'
    assert project['startup_groups'] == [['postgres', 'redis'], ['api'], ['web']]
    assert project['warnings'] == []
    api, web = project['services']['api'], project['services']['web']
    assert api['servers_count'] == 3 and api['container_port'] == 8000 and api['role'] == 'web'
    assert api['auto_scaling']['vertical'] == {
        'cpu_scale_up': 75, 'cpu_scale_down': 20, 'memory_scale_up': 80, 'memory_scale_down': 30}
    assert api['auto_scaling']['horizontal'] == {'rps_scale_up': 500, 'rps_scale_down': 50,
                                                 'min_servers': 1, 'max_servers': 10}
    assert web['container_port'] == 80 and web['role'] == 'web' and web['build_command'] == 'npm run build'
    assert web['output_dir'] == 'build' and web['node_version'] == '18' and web['package_manager'] == 'npm'
    assert web['auto_scaling'] is False


def test_seed_service_dependencies_startup_order():
    raw = {
        'fleet_user': 'u1', 'fleet_project': 'myapp',
        'services': {
            'postgres': {'type': 'postgres'},
            'redis': {'type': 'redis'},
            'api': {'type': 'python', 'depends_on': ['postgres', 'redis'], 'command': 'uvicorn main:app',
                    'port': 8000, 'servers_count': 3, 'build_context': '/code/api'},
            'worker': {'type': 'python', 'depends_on': ['api', 'redis'], 'command': 'python worker.py',
                       'servers_count': 2, 'build_context': '/code/api'},
        },
    }
    project = validate(raw)
    orders = dict((n, s['startup_order']) for n, s in project['services'].items())
    assert orders == {'postgres': 1, 'redis': 1, 'api': 2, 'worker': 3}
    assert project['startup_groups'] == [['postgres', 'redis'], ['api'], ['worker']]
    assert project['services']['worker']['role'] == 'worker'
    assert project['services']['worker']['container_port'] is None


def test_seed_add_service_examples():
    raw = quick_start(services={
        'custom': {
            'dockerfile_content': {
                '1': 'FROM python:3.11-slim', '2': 'WORKDIR /app', '3': 'COPY requirements.txt .',
                '4': 'RUN pip install -r requirements.txt', '5': 'COPY . .', '6': 'EXPOSE 8000',
                '7': "CMD ['python', '-u', 'app.py']",
            },
            'build_context': '/path/to/code', 'servers_count': 2,
        },
        'worker': {'dockerfile': 'config/Dockerfile.worker', 'build_context': '/path/to/code', 'servers_count': 2},
        'proxy': {'image': 'nginx:alpine', 'servers_count': 1},
        'backend': {'type': 'nodejs', 'depends_on': ['db'], 'command': 'node server.js', 'port': 3000,
                    'git_repo': 'https://github.com/user/backend.git@main', 'node_version': '18',
                    'package_manager': 'yarn', 'servers_count': 2},
        'db': {'type': 'postgres', 'version': '15', 'server_zone': 'lon1', 'servers_count': 1},
        'search': {'type': 'opensearch', 'version': '2', 'servers_count': 1},
        'cron': {'type': 'python', 'depends_on': ['db'], 'command': 'python worker.py',
                 'build_context': '/path/to/code', 'schedule': '*/5 * * * *', 'servers_count': 2},
        'big': {'type': 'python', 'command': 'x', 'build_context': '.', 'server_cpu': 2, 'server_memory': 4096,
                'servers_count': 5, 'env_vars': {'API_KEY': 'secret', 'DEBUG': 'false'}},
    })
    project = validate(raw)
    services = project['services']
    assert services['custom']['type'] == 'custom' and services['custom']['role'] == 'worker'
    assert services['proxy']['image'] == 'nginx:alpine'
    assert services['backend']['package_manager'] == 'yarn' and services['backend']['build_command'] is None
    assert services['cron']['role'] == 'scheduled' and services['cron']['schedule'] == '*/5 * * * *'
    assert services['search']['container_port'] == 9200 and services['search']['stateful']
    assert services['big']['env_vars'] == {'API_KEY': 'secret', 'DEBUG': 'false'}


def test_defaults_of_the_seed():
    project = validate(quick_start(services={'api': {'image': 'nginx:1.27'}}))
    api = project['services']['api']
    assert (api['servers_count'], api['server_zone'], api['server_cpu'], api['server_memory']) == (1, 'lon1', 1, 1024)
    assert api['health_check'] is True and api['restart'] is True and api['auto_scaling'] is False
    assert api['ssl_mode'] is None and api['schedule'] is None and api['domain'] is None
    assert api['ports'] == [] and api['env_vars'] == {} and api['volumes'] == {} and api['depends_on'] == []
    assert (api['health_retries'], api['health_interval'], api['health_start_period'], api['health_timeout']) == \
        (6, 10, 0, 5)
    assert api['health_path'] is None and api['mem_limit'] is None and api['cpus'] is None
    assert api['version'] == 'latest' and api['type'] == 'custom' and api['name'] == 'api'


@pytest.mark.parametrize('kind,port,version,backup', [
    ('postgres', 5432, '15', '0 2 * * *'),
    ('redis', 6379, '7-alpine', '0 3 * * *'),
    ('opensearch', 9200, '2', '0 4 * * *'),
])
def test_database_defaults(kind, port, version, backup):
    svc = validate(quick_start(services={'db': {'type': kind}}))['services']['db']
    assert svc['container_port'] == port and svc['version'] == version and svc['backup_schedule'] == backup
    assert svc['stateful'] is True and svc['role'] == 'database' and svc['backup_keep'] == 7


def test_python_defaults():
    svc = validate(quick_start(services={'w': {'type': 'python', 'command': 'x', 'build_context': '.'}}))['services']['w']
    assert svc['python_version'] == '3.11' and svc['requirements_files'] == ['requirements.txt']
    assert svc['port'] is None and svc['container_port'] is None and svc['role'] == 'worker'
    assert svc['node_version'] is None  # keys of other types are present, as None


def test_every_service_has_every_key():
    project = validate(quick_start())
    keys = set(spec.SERVICE_KEYS) | {'name', 'container_port', 'stateful', 'role'}
    for svc in project['services'].values():
        assert set(svc) == keys


def test_container_port_rules():
    services = validate(quick_start(services={
        'a': {'type': 'python', 'command': 'x', 'build_context': '.', 'port': 8000, 'ports': [9000]},
        'b': {'type': 'python', 'command': 'x', 'build_context': '.', 'ports': [9000, 9001]},
        'c': {'image': 'nginx:1.27', 'ports': [8080]},
        'd': {'image': 'nginx:1.27'},
    }))['services']
    assert [services[n]['container_port'] for n in 'abcd'] == [8000, 9000, 8080, None]
    assert [services[n]['role'] for n in 'abcd'] == ['web', 'web', 'web', 'worker']


def test_versions():
    project = validate(quick_start(fleet_version='1.2.0'))
    assert project['version'] == '1.2.0'
    assert project['services']['api']['version'] == '1.2.0'
    assert project['services']['postgres']['version'] == '15'
    raw = quick_start()
    raw['services']['api']['version'] = '2.0'
    assert validate(raw)['services']['api']['version'] == '2.0'


@pytest.mark.parametrize('value,expected', [
    (None, None), ('', None), ('myusername', 'myusername'), ('127.0.0.1:5000/team', '127.0.0.1:5000/team'),
    ('127.0.0.1:5000/team/', '127.0.0.1:5000/team'), ('registry.example.com', 'registry.example.com'),
    ('ghcr.io/acme', 'ghcr.io/acme'), ('localhost:5000', 'localhost:5000'),
])
def test_docker_hub_user(value, expected):
    assert validate(quick_start(docker_hub_user=value))['docker_hub_user'] == expected


def test_env_is_optional_and_checked():
    assert validate_project(quick_start())['env'] is None
    assert validate(quick_start(), env='uat')['env'] == 'uat'


# ---------------------------------------------------------------- startup order

def test_explicit_startup_order_wins_and_dependants_follow():
    raw = quick_start()
    raw['services']['redis']['startup_order'] = 5
    project = validate(raw)
    orders = dict((n, s['startup_order']) for n, s in project['services'].items())
    assert orders == {'postgres': 1, 'redis': 5, 'api': 6, 'web': 7}
    assert project['startup_groups'] == [['postgres'], ['redis'], ['api'], ['web']]
    assert project['warnings'] == []


def test_explicit_order_before_a_dependency_is_a_warning():
    raw = quick_start()
    raw['services']['api']['startup_order'] = 1
    project = validate(raw)
    assert project['services']['api']['startup_order'] == 1
    assert project['services']['web']['startup_order'] == 2
    assert project['startup_groups'] == [['api', 'postgres', 'redis'], ['web']]
    assert len(project['warnings']) == 2  # after neither postgres nor redis
    for warning in project['warnings']:
        assert warning.startswith(SOURCE + ': services.api.startup_order: ') and 'fix:' in warning
        assert '\n' not in warning


def test_order_does_not_depend_on_key_order():
    raw = quick_start()
    raw['services'] = dict(reversed(list(raw['services'].items())))
    assert validate(raw)['startup_groups'] == validate(quick_start())['startup_groups']


# ---------------------------------------------------------------- normalisation

def test_auto_scaling_partial_dict_is_merged():
    raw = quick_start()
    raw['services']['api']['auto_scaling'] = {'vertical': {'cpu_scale_up': 90}, 'horizontal': {'max_servers': 4}}
    scaling = validate(raw)['services']['api']['auto_scaling']
    assert scaling['vertical']['cpu_scale_up'] == 90 and scaling['vertical']['cpu_scale_down'] == 20
    assert scaling['horizontal'] == {'rps_scale_up': 500, 'rps_scale_down': 50, 'min_servers': 1, 'max_servers': 4}


def test_auto_scaling_sections_can_be_switched_off():
    raw = quick_start()
    raw['services']['api']['auto_scaling'] = {'horizontal': False}
    scaling = validate(raw)['services']['api']['auto_scaling']
    assert scaling['horizontal'] is False and scaling['vertical']['cpu_scale_up'] == 75


def test_auto_scaling_ceiling_follows_servers_count():
    raw = quick_start()
    raw['services']['api']['servers_count'] = 20
    assert validate(raw)['services']['api']['auto_scaling']['horizontal']['max_servers'] == 20


def test_seed_custom_thresholds():
    raw = quick_start()
    raw['services']['api']['auto_scaling'] = {
        'vertical': {'cpu_scale_up': 80, 'cpu_scale_down': 25, 'memory_scale_up': 85, 'memory_scale_down': 30},
        'horizontal': {'rps_scale_up': 1000, 'rps_scale_down': 100}}
    scaling = validate(raw)['services']['api']['auto_scaling']
    assert scaling['horizontal']['rps_scale_up'] == 1000 and scaling['vertical']['cpu_scale_down'] == 25


def test_dockerfile_content_is_ordered_numerically():
    lines = dict((str(n), 'RUN echo %d' % n) for n in range(2, 12))
    lines[1] = 'FROM debian'
    svc = validate(quick_start(services={'c': {'dockerfile_content': lines, 'build_context': '.'}}))['services']['c']
    assert list(svc['dockerfile_content']) == [str(n) for n in range(1, 12)]
    assert svc['dockerfile_content']['1'] == 'FROM debian'


def test_env_var_values_become_strings():
    raw = quick_start()
    raw['services']['api']['env_vars'] = {'DEBUG': False, 'WORKERS': 4, 'RATIO': 0.5, 'EMPTY': ''}
    assert validate(raw)['services']['api']['env_vars'] == {'DEBUG': 'false', 'WORKERS': '4', 'RATIO': '0.5',
                                                            'EMPTY': ''}


def test_empty_string_means_not_set_for_optional_text():
    raw = quick_start()
    raw['services']['api']['git_token'] = ''
    raw['services']['api']['ssl_mode'] = ''
    svc = validate(raw)['services']['api']
    assert svc['git_token'] is None and svc['ssl_mode'] is None


def test_memory_and_cpu_limits():
    raw = quick_start()
    raw['services']['api'].update(mem_limit='512M', mem_reservation='256m', cpus=1)
    svc = validate(raw)['services']['api']
    assert svc['mem_limit'] == '512m' and svc['mem_reservation'] == '256m' and svc['cpus'] == 1.0
    assert spec.memory_mb('1g') == 1024 and spec.memory_mb('512') is None


def test_shm_size_256m_for_postgres_by_default():
    raw = quick_start()
    raw['services']['redis']['shm_size'] = '128M'
    services = validate(raw)['services']
    assert services['postgres']['shm_size'] == '256m'
    assert services['redis']['shm_size'] == '128m' and services['api']['shm_size'] is None
    raw['services']['postgres']['shm_size'] = '1g'
    assert validate(raw)['services']['postgres']['shm_size'] == '1g'


def test_volumes_and_state():
    services = validate(quick_start(services={
        'files': {'image': 'nginx:1.27', 'ports': [80], 'volumes': {'files/static': '/usr/share/nginx/html:ro'}},
        'minio': {'image': 'minio/minio:latest', 'ports': [9000], 'volumes': {'objects': '/data'}},
    }))['services']
    assert services['files']['stateful'] is False and services['files']['role'] == 'web'
    assert services['minio']['stateful'] is True and services['minio']['role'] == 'database'


def test_output_is_json_plain_and_deterministic():
    class Tagged(str):
        pass

    class TaggedDict(dict):
        pass

    raw = quick_start()
    raw['services']['api'] = TaggedDict(raw['services']['api'], command=Tagged('uvicorn main:app'))
    raw['fleet_user'] = Tagged('u1')
    before = copy.deepcopy(raw)
    first = validate(raw)
    assert raw == before  # the input is not changed
    assert first['user'].__class__ is str and first['services']['api']['command'].__class__ is str
    assert first['services']['api'].__class__ is dict
    assert json.dumps(first, sort_keys=True) == json.dumps(validate(copy.deepcopy(raw)), sort_keys=True)
    assert json.loads(json.dumps(first)) == first


def test_collect_errors_reports_all_and_nothing_when_valid():
    assert collect_errors(quick_start(), SOURCE, 'prod') == []
    raw = quick_start(fleet_user='U1', fleet_projct='x')
    raw['services']['api']['port'] = '8000'
    raw['services']['web']['domain'] = 'WWW.example.com'
    errors = collect_errors(raw, SOURCE, 'prod')
    assert len(errors) == 4
    paths = [e.split(': ')[1] for e in errors]
    assert paths == ['fleet_projct', 'fleet_user', 'services.api.port', 'services.web.domain']


def test_spec_error_carries_path_and_message():
    with pytest.raises(SpecError) as info:
        validate(with_service('api', dict(QUICK_START['services']['api'], depends_on=['postgres', 'redsi'])))
    err = info.value
    assert err.path == 'services.api.depends_on[1]'
    assert err.message == ("unknown service 'redsi'; fix: did you mean 'redis'? "
                           "known services: api, postgres, redis, web")
    assert str(err) == '%s: %s: %s' % (SOURCE, err.path, err.message)


def test_the_run_s_one_service_must_be_in_the_spec():
    checked = validate(quick_start())
    spec.check_selected(checked, 'api', SOURCE)
    spec.check_selected(checked, '', SOURCE)
    with pytest.raises(SpecError) as info:
        spec.check_selected(checked, 'wbe', SOURCE)
    assert str(info.value) == ("%s: fleet_service: unknown service 'wbe'; fix: did you mean 'web'? "
                               "use one of api, postgres, redis, web" % SOURCE)


def test_git_token_is_never_shown():
    raw = quick_start()
    raw['services']['api']['git_token'] = 987654321
    errors = collect_errors(raw, SOURCE, 'prod')
    assert len(errors) == 1 and 'services.api.git_token' in errors[0] and '987654321' not in errors[0]


def test_env_var_values_are_never_shown():
    raw = quick_start()
    raw['services']['api']['env_vars'] = {'TOKEN': ['s3cr3t']}
    errors = collect_errors(raw, SOURCE, 'prod')
    assert errors and 's3cr3t' not in ' '.join(errors)


@pytest.mark.parametrize('value,url,ref', [
    ('https://github.com/user/api.git@main', 'https://github.com/user/api.git', 'main'),
    ('https://github.com/user/api.git', 'https://github.com/user/api.git', None),
    ('git@github.com:user/api.git@feature/x', 'git@github.com:user/api.git', 'feature/x'),
    ('ssh://git@host:2222/srv/repo.git@v1.2.0', 'ssh://git@host:2222/srv/repo.git', 'v1.2.0'),
    ('file:///srv/git/api.git@0123abcd', 'file:///srv/git/api.git', '0123abcd'),
])
def test_split_git_repo(value, url, ref):
    assert spec.split_git_repo(value) == (url, ref)


@pytest.mark.parametrize('value', ['', 'not a url', 'ftp://host/x.git', 'https://u:pw@host/x.git',
                                   'https://host/x.git@', 'https://host/x.git@a..b', 'https://host',
                                   'https://host/x.git@main.lock'])
def test_split_git_repo_refuses(value):
    with pytest.raises(ValueError):
        spec.split_git_repo(value)


# ---------------------------------------------------------------- malformed specs

def _svc(name, **changes):
    """Quick Start with service ``name`` changed (a value of None deletes the key)."""
    raw = copy.deepcopy(QUICK_START)
    svc = raw['services'][name]
    for key, value in changes.items():
        if value is None:
            svc.pop(key, None)
        else:
            svc[key] = value
    return raw


def _top(**changes):
    raw = copy.deepcopy(QUICK_START)
    for key, value in changes.items():
        if value is None:
            raw.pop(key, None)
        else:
            raw[key] = value
    return raw


def _extra(name, svc):
    return with_service(name, svc)


def _cycle():
    raw = _svc('postgres', depends_on=['web'])
    return raw


APP = {'type': 'python', 'command': 'python app.py', 'build_context': '.'}

MALFORMED = [
    # id, raw spec, key path, a word of the message
    ('not-a-mapping', ['a'], 'spec', 'mapping'),
    ('user-missing', _top(fleet_user=None), 'fleet_user', 'missing'),
    ('user-uppercase', _top(fleet_user='U1'), 'fleet_user', 'not a valid id'),
    ('user-not-string', _top(fleet_user=1), 'fleet_user', 'must be a string'),
    ('project-underscore', _top(fleet_project='my_app'), 'fleet_project', 'not a valid id'),
    ('top-level-typo', _top(fleet_projct='x'), 'fleet_projct', "did you mean 'fleet_project'"),
    ('hub-user-scheme', _top(docker_hub_user='http://registry:5000'), 'docker_hub_user', 'registry'),
    ('fleet-version-bad-tag', _top(fleet_version='1.0 beta'), 'fleet_version', 'tag'),
    ('fleet-version-number', _top(fleet_version=1.5), 'fleet_version', 'in quotes'),
    ('services-missing', _top(services=None), 'services', 'missing'),
    ('services-empty', _top(services={}), 'services', 'non-empty'),
    ('services-list', _top(services=['api']), 'services', 'mapping'),
    ('service-name-uppercase', _extra('Api', APP), 'services.Api', 'not a valid id'),
    ('service-name-reserved', _extra('nginx', {'image': 'nginx:1.27'}), 'services.nginx', 'reserved'),
    ('service-not-mapping', _extra('cache', None), 'services.cache', 'mapping'),
    ('type-typo', _svc('postgres', type='postgress'), 'services.postgres.type', "did you mean 'postgres'"),
    ('type-not-string', _svc('postgres', type=['postgres']), 'services.postgres.type', 'must be a string'),
    ('unknown-key', _svc('api', prot=8000), 'services.api.prot', "did you mean 'port'"),
    ('key-of-another-type', _svc('api', output_dir='dist'), 'services.api.output_dir', 'react'),
    ('image-on-database', _svc('postgres', image='postgres:15'), 'services.postgres.image', 'official image'),
    ('schedule-on-react', _svc('web', schedule='@daily'), 'services.web.schedule', 'does not apply'),
    ('port-quoted', _svc('api', port='8000'), 'services.api.port', 'write 8000 without quotes'),
    ('port-bool', _svc('api', port=True), 'services.api.port', 'boolean'),
    ('port-out-of-range', _svc('api', port=70000), 'services.api.port', '65535'),
    ('ports-zero', _extra('c', {'image': 'nginx:1.27', 'ports': [80, 0]}), 'services.c.ports[1]', 'out of range'),
    ('ports-duplicate', _extra('c', {'image': 'nginx:1.27', 'ports': [80, 80]}), 'services.c.ports[1]', 'twice'),
    ('ports-not-list', _extra('c', {'image': 'nginx:1.27', 'ports': 80}), 'services.c.ports', '[80]'),
    ('servers-count-zero', _svc('api', servers_count=0), 'services.api.servers_count', 'out of range'),
    ('servers-count-too-many', _svc('api', servers_count=51), 'services.api.servers_count', '50'),
    ('servers-count-bool', _svc('api', servers_count=True), 'services.api.servers_count', 'whole number'),
    ('servers-count-float', _svc('api', servers_count=2.5), 'services.api.servers_count', 'whole number'),
    ('zone-typo', _svc('api', server_zone='lon9'), 'services.api.server_zone', "did you mean 'lon1'"),
    ('size-no-such-cpu', _svc('api', server_cpu=3), 'services.api.server_cpu', '2/4096 ($24)'),
    ('size-no-such-memory', _svc('api', server_memory=1000), 'services.api.server_cpu', '1/1024 ($6)'),
    ('domain-uppercase', _svc('api', domain='API.example.com'), 'services.api.domain', "'api.example.com'"),
    ('domain-single-label', _svc('api', domain='localhost'), 'services.api.domain', 'DNS host name'),
    ('domain-underscore', _svc('api', domain='my_api.example.com'), 'services.api.domain', 'DNS host name'),
    ('domain-without-port', _svc('api', port=None), 'services.api.domain', 'no port'),
    ('domain-twice', _svc('web', domain='api.example.com'), 'services.web.domain', "service 'api'"),
    ('schedule-bad-cron', _extra('job', dict(APP, schedule='every 5 minutes')), 'services.job.schedule',
     'fields'),
    ('schedule-bad-hour', _extra('job', dict(APP, schedule='0 25 * * *')), 'services.job.schedule', '0-23'),
    ('schedule-reboot', _extra('job', dict(APP, schedule='@reboot')), 'services.job.schedule', '@reboot'),
    ('schedule-with-domain', _svc('api', schedule='@daily'), 'services.api.domain', 'scheduled'),
    ('depends-on-unknown', _svc('api', depends_on=['postgres', 'redsi']), 'services.api.depends_on[1]',
     "did you mean 'redis'"),
    ('depends-on-self', _svc('api', depends_on=['api']), 'services.api.depends_on[0]', 'itself'),
    ('depends-on-twice', _svc('api', depends_on=['redis', 'redis']), 'services.api.depends_on[1]', 'twice'),
    ('depends-on-cycle', _cycle(), 'services.postgres.depends_on', 'postgres -> web -> api -> postgres'),
    ('depends-on-string', _svc('api', depends_on='postgres'), 'services.api.depends_on', '[postgres]'),
    ('custom-no-source', _extra('thing', {'command': 'x'}), 'services.thing', 'no image source'),
    ('custom-two-sources', _extra('thing', {'image': 'x:1', 'dockerfile': 'Dockerfile', 'build_context': '.'}),
     'services.thing.dockerfile', 'both set'),
    ('custom-dockerfile-no-context', _extra('thing', {'dockerfile': 'Dockerfile'}), 'services.thing',
     'no code to build'),
    ('custom-image-and-context', _extra('thing', {'image': 'x:1', 'build_context': '.'}),
     'services.thing.build_context', 'pulled, not built'),
    ('image-bad-reference', _extra('thing', {'image': 'Nginx:latest'}), 'services.thing.image', 'image reference'),
    ('python-no-command', _svc('api', command=None), 'services.api.command', 'needs a command'),
    ('python-repo-context-outside', _svc('api', build_context='../x'), 'services.api.build_context',
     'directory of the checkout'),
    ('python-repo-context-absolute', _svc('api', build_context='/srv/api'), 'services.api.build_context',
     'relative path inside the repository'),
    ('python-no-code', _svc('api', git_repo=None, git_token=None), 'services.api', 'no code to build'),
    ('python-dockerfile', _svc('api', dockerfile='Dockerfile'), 'services.api.dockerfile', 'generated Dockerfile'),
    ('git-repo-not-url', _svc('api', git_repo='github user/api'), 'services.api.git_repo', 'URL@ref'),
    ('git-repo-password', _svc('api', git_repo='https://u:tk@github.com/user/api.git'), 'services.api.git_repo',
     'git_token'),
    ('git-token-without-repo', _svc('api', git_repo=None, build_context='.'), 'services.api.git_token',
     'git_repo is not'),
    ('env-var-bad-name', _svc('api', env_vars={'1API': 'x'}), 'services.api.env_vars.1API', 'environment variable'),
    ('env-var-null', _svc('api', env_vars={'API_KEY': None}), 'services.api.env_vars.API_KEY', 'no value'),
    ('env-var-reserved', _svc('api', env_vars={'FLEET_USER': 'x'}), 'services.api.env_vars.FLEET_USER',
     'FLEET_'),
    ('env-vars-list', _svc('api', env_vars=['A=1']), 'services.api.env_vars', 'mapping'),
    ('volume-absolute-host', _svc('api', volumes={'/etc': '/host-etc'}), "services.api.volumes['/etc']", 'other tenants'),
    ('volume-parent-dir', _svc('api', volumes={'../u2': '/x'}), "services.api.volumes['../u2']", 'volume name'),
    ('volume-relative-target', _svc('api', volumes={'uploads': 'data'}), 'services.api.volumes.uploads',
     'absolute'),
    ('dockerfile-content-bad-key', _extra('c', {'dockerfile_content': {'a': 'FROM x'}, 'build_context': '.'}),
     'services.c.dockerfile_content.a', 'line number'),
    ('dockerfile-content-no-from', _extra('c', {'dockerfile_content': {'1': 'RUN x', '2': 'FROM y'},
                                                'build_context': '.'}),
     'services.c.dockerfile_content.1', 'FROM'),
    ('dockerfile-content-twice', _extra('c', {'dockerfile_content': {'1': 'FROM x', 1: 'RUN y'},
                                              'build_context': '.'}),
     'services.c.dockerfile_content[1]', 'twice'),
    ('auto-scaling-section-typo', _svc('api', auto_scaling={'vertcal': {}}), 'services.api.auto_scaling.vertcal',
     "did you mean 'vertical'"),
    ('auto-scaling-setting-typo', _svc('api', auto_scaling={'vertical': {'cpu_up': 80}}),
     'services.api.auto_scaling.vertical.cpu_up', 'cpu_scale_up'),
    ('auto-scaling-percent', _svc('api', auto_scaling={'vertical': {'cpu_scale_up': 150}}),
     'services.api.auto_scaling.vertical.cpu_scale_up', '100'),
    ('auto-scaling-down-above-up', _svc('api', auto_scaling={'vertical': {'memory_scale_down': 90}}),
     'services.api.auto_scaling.vertical.memory_scale_down', 'not below'),
    ('auto-scaling-rps-inverted', _svc('api', auto_scaling={'horizontal': {'rps_scale_down': 600}}),
     'services.api.auto_scaling.horizontal.rps_scale_down', 'not below'),
    ('auto-scaling-max-below-count', _svc('api', auto_scaling={'horizontal': {'max_servers': 2}}),
     'services.api.auto_scaling.horizontal', 'servers_count 3'),
    ('auto-scaling-min-above-count', _svc('api', auto_scaling={'horizontal': {'min_servers': 4}}),
     'services.api.auto_scaling.horizontal', 'min_servers 4'),
    ('auto-scaling-quoted', _svc('api', auto_scaling='yes'), 'services.api.auto_scaling', 'write true'),
    ('health-check-quoted', _svc('api', health_check='true'), 'services.api.health_check', 'write true'),
    ('restart-number', _svc('api', restart=1), 'services.api.restart', 'true or false'),
    ('db-version-number', _svc('postgres', version=15), 'services.postgres.version', 'write it in quotes: "15"'),
    ('python-version-float', _svc('api', python_version=3.11), 'services.api.python_version', '"3.11"'),
    ('node-version-bad', _svc('web', node_version='lts'), 'services.web.node_version', 'version'),
    ('ssl-mode-typo', _svc('api', ssl_mode='lets-encrypt'), 'services.api.ssl_mode', "did you mean 'letsencrypt'"),
    ('ssl-mode-without-domain', _svc('api', domain=None, ssl_mode='letsencrypt'), 'services.api.ssl_mode',
     'domain is not'),
    ('package-manager-unknown', _svc('web', package_manager='bun'), 'services.web.package_manager', 'npm, yarn'),
    ('output-dir-escapes', _svc('web', output_dir='../dist'), 'services.web.output_dir', 'build context'),
    ('requirements-not-list', _svc('api', requirements_files='requirements.txt'), 'services.api.requirements_files',
     '[requirements.txt]'),
    ('mem-limit-no-unit', _svc('api', mem_limit='512'), 'services.api.mem_limit', 'unit'),
    ('mem-limit-above-server', _svc('api', mem_limit='2g'), 'services.api.mem_limit', '1024 MB'),
    ('mem-reservation-above-limit', _svc('api', mem_limit='256m', mem_reservation='512m'),
     'services.api.mem_reservation', 'mem_limit'),
    ('shm-size-no-unit', _svc('api', shm_size='64'), 'services.api.shm_size', 'unit'),
    ('shm-size-above-server', _svc('api', shm_size='2g'), 'services.api.shm_size', '1024 MB'),
    ('cpus-zero', _svc('api', cpus=0), 'services.api.cpus', 'more than 0'),
    ('cpus-above-server', _svc('api', cpus=2), 'services.api.cpus', '1 vCPU'),
    ('health-path-relative', _svc('api', health_path='health'), 'services.api.health_path', '/health'),
    ('health-retries-zero', _svc('api', health_retries=0), 'services.api.health_retries', 'out of range'),
    ('startup-order-zero', _svc('api', startup_order=0), 'services.api.startup_order', 'out of range'),
    ('backup-keep-zero', _svc('postgres', backup_keep=0), 'services.postgres.backup_keep', 'out of range'),
    ('backup-schedule-bad', _svc('postgres', backup_schedule='61 * * * *'), 'services.postgres.backup_schedule',
     'minute'),
    ('backup-on-app', _svc('api', backup_keep=3), 'services.api.backup_keep', 'postgres'),
    ('hub-user-uppercase', _top(docker_hub_user='MyUser'), 'docker_hub_user', 'lowercase'),
    ('custom-three-sources', _extra('thing', {'image': 'x:1', 'dockerfile': 'D', 'dockerfile_content': {1: 'FROM x'},
                                              'build_context': '.'}), 'services.thing.dockerfile', 'all set'),
    ('domain-with-scheme', _svc('api', domain='https://api.example.com/'), 'services.api.domain',
     "write 'api.example.com'"),
    ('env-var-list-value', _svc('api', env_vars={'HOSTS': ['a', 'b']}), 'services.api.env_vars.HOSTS',
     'single value'),
    ('volume-target-twice', _svc('api', volumes={'a': '/data', 'b': '/data:ro'}), 'services.api.volumes.b',
     'twice'),
    ('dockerfile-content-empty', _extra('c', {'dockerfile_content': {}, 'build_context': '.'}),
     'services.c.dockerfile_content', 'empty'),
    ('dockerfile-content-multi-line', _extra('c', {'dockerfile_content': {'1': 'FROM x\nRUN y'},
                                                   'build_context': '.'}),
     'services.c.dockerfile_content.1', 'one non-empty'),
    ('git-repo-bad-ref', _svc('api', git_repo='https://github.com/user/api.git@bad..ref'), 'services.api.git_repo',
     'ref'),
    ('git-repo-ftp', _svc('api', git_repo='ftp://example.com/api.git'), 'services.api.git_repo', 'scheme'),
    ('ports-quoted', _extra('c', {'image': 'x:1', 'ports': ['80']}), 'services.c.ports[0]', 'without quotes'),
    ('cpus-quoted', _svc('api', cpus='0.5'), 'services.api.cpus', 'write 0.5 without quotes'),
    ('health-timeout-float', _svc('api', health_timeout=2.5), 'services.api.health_timeout', 'whole number'),
    ('service-key-not-a-word', _svc('api', **{'my key': 1}), "services.api['my key']", 'unknown key'),
    ('auto-scaling-section-number', _svc('api', auto_scaling={'vertical': 5}), 'services.api.auto_scaling.vertical',
     'mapping'),
    ('services-key-number', _extra(5, {'image': 'x:1'}), 'services[5]', 'must be a string'),
]


@pytest.mark.parametrize('raw,path,word', [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_malformed_spec_names_the_key_and_the_fix(raw, path, word):
    errors = collect_errors(raw, SOURCE, 'prod')
    assert len(errors) == 1, errors
    line = errors[0]
    assert line.startswith('%s: %s: ' % (SOURCE, path)), line
    assert '; fix: ' in line and word in line, line
    assert '\n' not in line
    with pytest.raises(SpecError) as info:
        validate(raw)
    assert info.value.path == path and str(info.value) == line


def test_enough_distinct_malformed_specs():
    assert len(MALFORMED) >= 40
    assert len(set(m[0] for m in MALFORMED)) == len(MALFORMED)
    assert len(set(repr(m[1]) for m in MALFORMED)) == len(MALFORMED)


@pytest.mark.parametrize('env', ['Prod', 'prod env', 7, 'a' * 17])
def test_bad_env(env):
    with pytest.raises(SpecError) as info:
        validate(quick_start(), env=env)
    assert info.value.path == 'fleet_env' and 'fix:' in str(info.value)


def test_no_error_message_is_multi_line():
    raw = quick_start(fleet_user='u\n1', fleet_project='my\napp', docker_hub_user='a\nb', fleet_version='1\n2')
    raw['services']['a\nb'] = {'image': 'x'}
    raw['services']['api'].update(domain='api.\nexample.com', command='', ports=['8\n0'], port='80\n00',
                                  env_vars={'A\nB': 'x', 'C': 'line\nbreak'}, schedule='* *\n* * *',
                                  volumes={'x\ny': '/a\nb'}, prot='\n', health_path='/a\nb')
    raw['services']['web'].update(git_repo='https://x\n/y', type='re\nact')
    raw['services']['redis'].update(version='7\n', backup_schedule='\n', mem_limit='1\ng')
    raw['multi\nline'] = 1
    errors = collect_errors(raw, 'file\nname.yml', 'pr\nod')
    assert len(errors) >= 12
    for line in errors:
        assert '\n' not in line and '\r' not in line and 'fix:' in line
    with pytest.raises(SpecError) as info:
        validate_project(raw, 'file\nname.yml', 'pr\nod')
    assert '\n' not in str(info.value)


def test_docs_have_a_section_per_key():
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, '..', '..', '..', '..', '..', 'docs', 'spec.md')) as handle:
        sections = set(re.findall(r'^### `([a-z_]+)`$', handle.read(), re.M))
    assert set(spec.SERVICE_KEYS) | set(spec.TOP_KEYS) <= sections


@pytest.mark.parametrize('mode', ['letsencrypt', 'self-signed', 'cloudflare', 'none'])
def test_ssl_modes(mode):
    raw = quick_start()
    raw['services']['api']['ssl_mode'] = mode
    assert validate(raw)['services']['api']['ssl_mode'] == mode


def test_a_broken_service_does_not_make_its_dependants_fail():
    raw = quick_start()
    raw['services']['api']['type'] = 'pyhton'
    raw['services']['redis']['depends_on'] = 'postgres'
    errors = collect_errors(raw, SOURCE, 'prod')
    assert [e.split(': ')[1] for e in errors] == ['services.redis.depends_on', 'services.api.type']


def test_custom_dockerfile_from_git():
    svc = validate(quick_start(services={'c': {'dockerfile': 'Dockerfile', 'ports': [8080],
                                               'git_repo': 'git@github.com:user/c.git@v1', 'git_token': 't'}}))
    assert svc['services']['c']['role'] == 'web' and svc['services']['c']['container_port'] == 8080


def test_git_repo_with_a_build_context_builds_a_directory_of_the_checkout():
    svc = validate(_svc('api', build_context='services/api'))['services']['api']
    assert svc['build_context'] == 'services/api' and svc['git_repo']


def test_every_rule_collects_in_one_pass():
    raw = quick_start(fleet_user='U1')
    raw['services']['api'].update(port='8000', server_zone='lon9', depends_on=['postgres', 'redsi'])
    raw['services']['web'].update(package_manager='bun')
    errors = collect_errors(raw, SOURCE, 'prod')
    assert len(errors) == 5 and all(e.startswith(SOURCE + ': ') and '; fix: ' in e for e in errors)


@pytest.mark.parametrize('kind', ['postgres', 'redis', 'opensearch'])
def test_every_database_may_heal_from_its_newest_backup(kind):
    project = spec.validate_project({'fleet_user': 'u1', 'fleet_project': 'p', 'services': {
        'db': {'type': kind, 'heal': 'restore_latest_backup'}}})
    assert project['services']['db']['heal'] == 'restore_latest_backup'


def test_heal_is_refused_on_a_service_without_data():
    errors = spec.collect_errors({'fleet_user': 'u1', 'fleet_project': 'p', 'services': {
        'web': {'type': 'python', 'build_context': '.', 'command': 'x', 'heal': 'restore_latest_backup'}}})
    assert len(errors) == 1 and 'services.web.heal' in errors[0], errors
