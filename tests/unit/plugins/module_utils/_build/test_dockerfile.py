# SPDX-License-Identifier: GPL-3.0-or-later
"""The generated multi-stage Dockerfile of Python services (pure text)."""
import json
import re

import pytest

from ansible_collections.projectdeployer.fleet.plugins.module_utils._build.dockerfile import (
    DockerfileError, command_list, python_dockerfile)

import dockerfile_text as df


@pytest.fixture
def api():
    return python_dockerfile('python:3.11-slim', ['requirements.txt'], 'python -u app.py', 8000,
                             health_path='/health')


def test_two_stages_from_the_same_image(api):
    stages = df.stages(api)
    assert list(stages) == ['builder', 'runtime']
    assert stages['builder'][0] == 'FROM python:3.11-slim AS builder'
    assert stages['runtime'][0] == 'FROM python:3.11-slim AS runtime'


def test_builder_installs_from_wheels_only_before_any_code(api):
    builder = df.stages(api)['builder']
    venv = df.index(builder, 'RUN python -m venv /opt/venv')
    wheels = df.index(builder, 'COPY [".fleet-wheels/", "/tmp/fleet-wheels/"]')
    req = df.index(builder, 'COPY ["app/requirements.txt", "/tmp/fleet-requirements/requirements.txt"]')
    install = df.index(builder, 'RUN /opt/venv/bin/pip install')
    assert venv < wheels < install and req < install
    line = builder[install]
    assert '--no-index' in line and '--find-links /tmp/fleet-wheels' in line
    assert '-r /tmp/fleet-requirements/requirements.txt' in line
    # the builder never sees the code: only wheels and requirements files are copied
    copies = [line for line in builder if line.startswith('COPY')]
    assert len(copies) == 2


def test_runtime_is_non_root_with_venv_and_code(api):
    runtime = df.stages(api)['runtime']
    useradd = df.index(runtime, 'RUN groupadd --gid 1000 appuser && useradd --uid 1000')
    venv = df.index(runtime, 'COPY --from=builder /opt/venv /opt/venv')
    code = df.index(runtime, 'COPY --chown=1000:1000 ["app/", "/app/"]')
    user = df.index(runtime, 'USER appuser')
    cmd = df.index(runtime, 'CMD ')
    assert useradd < venv < code < user < cmd
    env = runtime[df.index(runtime, 'ENV ')]
    assert 'PYTHONUNBUFFERED=1' in env and 'PATH=/opt/venv/bin:$PATH' in env
    assert 'WORKDIR /app' in runtime


def test_wheels_never_reach_the_runtime_stage(api):
    runtime = df.stages(api)['runtime']
    assert not any('fleet-wheels' in line for line in runtime)
    assert not any(re.match(r'^COPY (--chown=\S+ )?\.', line) for line in runtime), 'the whole context is not copied'


def test_expose_and_healthcheck_with_a_port(api):
    runtime = df.stages(api)['runtime']
    assert 'EXPOSE 8000' in runtime
    health = runtime[df.index(runtime, 'HEALTHCHECK ')]
    argv = json.loads(health.split(' CMD ', 1)[1])
    assert argv[:2] == ['python', '-c']
    assert 'HTTPConnection("127.0.0.1", 8000' in argv[2] and 'c.request("GET", "/health")' in argv[2]
    compile(argv[2], 'healthcheck', 'exec')


def test_health_path_defaults_to_root_and_gets_a_slash():
    text = python_dockerfile('py:1', [], 'python app.py', 9000)
    assert 'HTTPConnection(\\"127.0.0.1\\", 9000' in text and 'request(\\"GET\\", \\"/\\")' in text
    text = python_dockerfile('py:1', [], 'python app.py', 9000, health_path='ready')
    assert 'request(\\"GET\\", \\"/ready\\")' in text


def test_no_port_no_expose_no_healthcheck():
    text = python_dockerfile('python:3.11-slim', ['requirements.txt'], 'python -u worker.py', None)
    assert 'EXPOSE' not in text and 'HEALTHCHECK' not in text
    assert 'CMD ["python", "-u", "worker.py"]' in text


def test_cmd_is_exec_form_split_like_a_shell():
    text = python_dockerfile('img', [], 'uvicorn main:app --host 0.0.0.0 --log-config "my log.ini"', 8000)
    cmd = [line for line in df.instructions(text) if line.startswith('CMD ')][0]
    assert json.loads(cmd[4:]) == ['uvicorn', 'main:app', '--host', '0.0.0.0', '--log-config', 'my log.ini']
    assert command_list(['python', '-m', 'http.server', 8000]) == ['python', '-m', 'http.server', '8000']


def test_no_requirements_means_an_empty_venv():
    text = python_dockerfile('img', [], 'python app.py', None)
    builder = df.stages(text)['builder']
    assert 'RUN python -m venv /opt/venv' in builder
    assert not any(line.startswith('COPY') or 'pip install' in line for line in builder)


def test_several_requirements_files_and_includes():
    text = python_dockerfile('img', ['requirements/prod.txt', 'extra.txt'], 'python app.py', None,
                             requirement_includes=['requirements/base.txt'])
    builder = df.stages(text)['builder']
    for rel in ('requirements/prod.txt', 'extra.txt', 'requirements/base.txt'):
        assert 'COPY ["app/%s", "/tmp/fleet-requirements/%s"]' % (rel, rel) in builder
    install = builder[df.index(builder, 'RUN /opt/venv/bin/pip install')]
    assert '-r /tmp/fleet-requirements/requirements/prod.txt -r /tmp/fleet-requirements/extra.txt' in install
    assert 'base.txt' not in install, 'an include is read through the file that includes it'


def test_custom_wheels_dir():
    text = python_dockerfile('img', ['requirements.txt'], 'python app.py', None, wheels_dir='deps/wheels')
    assert 'COPY ["deps/wheels/", "/tmp/fleet-wheels/"]' in text


def test_labels_and_source_hash_in_one_final_step():
    text = python_dockerfile('img', [], 'python app.py', None, labels={'fleet.user': 'u1', 'fleet.service': 'api'})
    lines = df.instructions(text)
    assert lines[-2] == 'ARG FLEET_SOURCE_HASH='
    assert lines[-1] == 'LABEL fleet.service="api" fleet.user="u1" fleet.source_hash="${FLEET_SOURCE_HASH}"'
    assert sum(1 for line in lines if line.startswith('LABEL')) == 1


def test_same_input_same_text():
    one = python_dockerfile('img', ['requirements.txt'], 'python app.py', 8000, labels={'b': '2', 'a': '1'})
    two = python_dockerfile('img', ['requirements.txt'], 'python app.py', 8000, labels={'a': '1', 'b': '2'})
    assert one == two


@pytest.mark.parametrize('kwargs, match', [
    (dict(command=''), 'command is empty'),
    (dict(command='python "unclosed'), 'cannot be split'),
    (dict(command=42), 'string or a list'),
    (dict(port=0), 'not a TCP port'),
    (dict(port=70000), 'not a TCP port'),
    (dict(port=True), 'not a TCP port'),
    (dict(python_image='python 3.11'), 'image reference'),
    (dict(python_image=''), 'image reference'),
    (dict(requirements_files=['../secrets.txt']), 'inside the build context'),
    (dict(requirements_files=['/etc/passwd']), 'inside the build context'),
    (dict(wheels_dir='..'), 'inside the build context'),
    (dict(health_path='/a b'), 'health_path'),
    (dict(labels={'bad key': 'x'}), 'not a plain label'),
    (dict(labels={'k': '$(evil)'}), 'not a plain label'),
])
def test_bad_input_is_one_clear_error(kwargs, match):
    args = dict(python_image='python:3.11-slim', requirements_files=['requirements.txt'], command='python app.py',
                port=8000)
    args.update(kwargs)
    with pytest.raises(DockerfileError, match=match):
        python_dockerfile(**args)
