# SPDX-License-Identifier: GPL-3.0-or-later
"""Custom Dockerfiles: the seed's numbered lines, a path inside the context, the appended fleet labels."""
import os
import re
from collections import OrderedDict

import pytest

from ansible_collections.projectdeployer.fleet.plugins.module_utils._build.dockerfile import (
    DockerfileError, python_dockerfile)
from ansible_collections.projectdeployer.fleet.plugins.module_utils._build.dockerfile_custom import (
    dockerfile_from_content, dockerfile_in_context, fleet_label_lines, with_fleet_labels)

LABELS = {'fleet.user': 'u1', 'fleet.service': 'api'}
LABEL_LINE = 'LABEL fleet.service="api" fleet.user="u1" fleet.source_hash="${FLEET_SOURCE_HASH}"'


# --- dockerfile_content ---------------------------------------------------------------------------

def test_content_in_numeric_order():
    content = OrderedDict([('10', 'CMD ["python", "app.py"]'), ('2', 'WORKDIR /app'), ('1', 'FROM python:3.11-slim'),
                           ('9', 'COPY . /app')])
    assert dockerfile_from_content(content) == (
        'FROM python:3.11-slim\nWORKDIR /app\nCOPY . /app\nCMD ["python", "app.py"]\n')


def test_content_keys_as_ints_and_strings_and_gaps():
    text = dockerfile_from_content({3: 'RUN true', '1': 'FROM alpine:3.19', ' 2 ': ''})
    assert text == 'FROM alpine:3.19\n\nRUN true\n'


def test_content_value_with_newlines_is_kept():
    text = dockerfile_from_content({'1': 'FROM debian:12', '2': 'RUN apt-get update \\\r\n && apt-get install -y curl'})
    assert text == 'FROM debian:12\nRUN apt-get update \\\n && apt-get install -y curl\n'


def test_content_none_value_is_a_blank_line():
    assert dockerfile_from_content({'1': 'FROM a', '2': None, '3': 'RUN b'}) == 'FROM a\n\nRUN b\n'


@pytest.mark.parametrize('content, match', [
    ({}, 'mapping of line numbers'),
    ([('1', 'FROM a')], 'mapping of line numbers'),
    ('FROM a', 'mapping of line numbers'),
    ({'one': 'FROM a'}, "key 'one' is not a line number"),
    ({'1.5': 'FROM a'}, 'is not a line number'),
    ({'-1': 'FROM a'}, 'is not a line number'),
    ({True: 'FROM a'}, 'is not a line number'),
    ({'1': 'FROM a', 1: 'RUN b'}, 'has line 1 twice'),
    ({'1': 'FROM a', '01': 'RUN b'}, 'has line 1 twice'),
    ({'1': 'FROM a', '2': ['RUN', 'b']}, 'line 2 must be a string, got list'),
    ({'1': 'FROM a', '2': 80}, 'line 2 must be a string, got int'),
    ({'1': 'WORKDIR /app', '2': 'RUN true'}, 'no FROM line'),
])
def test_bad_content_is_one_clear_error(content, match):
    with pytest.raises(DockerfileError, match=re.escape(match)):
        dockerfile_from_content(content)


# --- dockerfile path ------------------------------------------------------------------------------

@pytest.fixture
def context(tmp_path):
    ctx = tmp_path / 'ctx'
    (ctx / 'docker').mkdir(parents=True)
    (ctx / 'Dockerfile').write_text('FROM a\n')
    (ctx / 'docker' / 'Dockerfile.prod').write_text('FROM b\n')
    (tmp_path / 'outside').write_text('FROM evil\n')
    return ctx


def test_path_inside_the_context(context):
    real = os.path.realpath(str(context))
    assert dockerfile_in_context(str(context), 'Dockerfile') == os.path.join(real, 'Dockerfile')
    assert dockerfile_in_context(str(context), 'docker/Dockerfile.prod') == os.path.join(real, 'docker',
                                                                                         'Dockerfile.prod')
    assert dockerfile_in_context(str(context), './docker/../Dockerfile') == os.path.join(real, 'Dockerfile')
    assert dockerfile_in_context(str(context), os.path.join(str(context), 'Dockerfile')) == os.path.join(
        real, 'Dockerfile'), 'an absolute path inside the context is fine'


@pytest.mark.parametrize('path', ['../outside', 'docker/../../outside', '/etc/passwd', '.', 'docker/..'])
def test_path_outside_the_context_is_refused(context, path):
    with pytest.raises(DockerfileError, match=r'is outside the build context .*: give a path inside it'):
        dockerfile_in_context(str(context), path)


def test_symlink_out_of_the_context_is_refused(context):
    os.symlink(str(context.parent / 'outside'), str(context / 'Dockerfile.link'))
    with pytest.raises(DockerfileError, match='outside the build context'):
        dockerfile_in_context(str(context), 'Dockerfile.link')
    os.symlink('Dockerfile', str(context / 'Dockerfile.same'))
    real = os.path.realpath(str(context))
    assert dockerfile_in_context(str(context), 'Dockerfile.same') == os.path.join(real, 'Dockerfile')


def test_sibling_directory_with_the_same_prefix_is_outside(tmp_path):
    (tmp_path / 'app').mkdir()
    (tmp_path / 'app-other').mkdir()
    with pytest.raises(DockerfileError, match='outside the build context'):
        dockerfile_in_context(str(tmp_path / 'app'), '../app-other/Dockerfile')


@pytest.mark.parametrize('path, match', [
    ('', 'dockerfile must be a path inside the build context'),
    ('   ', 'dockerfile must be a path inside the build context'),
    (None, 'dockerfile must be a path inside the build context'),
    ('Docker\0file', 'NUL'),
])
def test_bad_dockerfile_value(context, path, match):
    with pytest.raises(DockerfileError, match=match):
        dockerfile_in_context(str(context), path)


def test_no_context_dir():
    with pytest.raises(DockerfileError, match='build context directory is not set'):
        dockerfile_in_context('', 'Dockerfile')


# --- fleet labels ---------------------------------------------------------------------------------

def test_label_lines_match_the_generated_python_dockerfile():
    python = python_dockerfile('python:3.11-slim', [], 'python app.py', None, labels=LABELS)
    assert python.rstrip('\n').splitlines()[-2:] == fleet_label_lines(LABELS)
    assert fleet_label_lines(LABELS) == ['ARG FLEET_SOURCE_HASH=', LABEL_LINE]
    assert fleet_label_lines(None) == ['ARG FLEET_SOURCE_HASH=', 'LABEL fleet.source_hash="${FLEET_SOURCE_HASH}"']


def test_labels_appended_to_the_final_stage():
    text = 'FROM node:18 AS build\nRUN npm ci\n\nFROM nginx:stable\nCOPY --from=build /app/build /usr/share/nginx/html\n\n\n'
    out = with_fleet_labels(text, LABELS)
    lines = out.splitlines()
    assert out.endswith('\n') and lines[-2:] == ['ARG FLEET_SOURCE_HASH=', LABEL_LINE]
    last_from = max(i for i, line in enumerate(lines) if line.startswith('FROM'))
    assert last_from < lines.index('ARG FLEET_SOURCE_HASH=')
    assert out.startswith(text.rstrip('\n') + '\n'), 'the user text is kept as it was'


def test_labels_after_content_rendering():
    text = with_fleet_labels(dockerfile_from_content({'1': 'FROM python:3.11-slim', '2': 'CMD ["python"]'}), {})
    assert text == ('FROM python:3.11-slim\nCMD ["python"]\n\n# Added by projectdeployer.fleet: the fleet labels.\n'
                    'ARG FLEET_SOURCE_HASH=\nLABEL fleet.source_hash="${FLEET_SOURCE_HASH}"\n')


def test_crlf_dockerfile():
    out = with_fleet_labels('FROM a\r\nRUN b\r\n', LABELS)
    assert '\r' not in out and out.startswith('FROM a\nRUN b\n')


def test_a_dangling_continuation_is_refused():
    with pytest.raises(DockerfileError, match=r'ends with a line continuation \(\\\)'):
        with_fleet_labels('FROM a\nRUN apt-get update && \\\n', LABELS)


def test_escape_directive_is_respected():
    windows = '# escape=`\nFROM mcr.microsoft.com/windows/servercore\nWORKDIR C:\\app\\\n'
    assert with_fleet_labels(windows, LABELS).splitlines()[-1] == LABEL_LINE
    with pytest.raises(DockerfileError, match=r'continuation \(`\)'):
        with_fleet_labels('# escape=`\nFROM a\nRUN dir `\n', LABELS)


def test_a_last_comment_ending_in_a_backslash_is_fine():
    assert with_fleet_labels('FROM a\n# see C:\\\n', LABELS).splitlines()[-1] == LABEL_LINE


@pytest.mark.parametrize('text, labels, match', [
    ('RUN true\n', LABELS, 'has no FROM line'),
    ('', LABELS, 'has no FROM line'),
    (None, LABELS, 'has no FROM line'),
    ('FROM a\n', {'bad key': 'x'}, 'not a plain label'),
    ('FROM a\n', {'k': 'a$b'}, 'not a plain label'),
    ('FROM a\n', {'k': 'a\nb'}, 'not a plain label'),
    ('FROM a\n', {'fleet.source_hash': 'x'}, 'set by the build from the argument FLEET_SOURCE_HASH'),
])
def test_bad_label_input(text, labels, match):
    with pytest.raises(DockerfileError, match=match):
        with_fleet_labels(text, labels)
