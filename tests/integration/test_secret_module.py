# SPDX-License-Identifier: GPL-3.0-or-later
"""projectdeployer.fleet.secret by FQCN: check mode, real run, idempotency; derived formats; never shown."""
import json
import os
import re
import secrets
import stat

from helpers import run_playbook, task_results

ALNUM40 = re.compile(r'^[A-Za-z0-9]{40}$')


def run_secrets(tmp_path, *tasks):
    """Run the secret tasks ``(args, check_mode)`` in order in one playbook; their results (ok or failed)."""
    play = tmp_path / ('play-%s.yml' % secrets.token_hex(4))
    play.write_text(json.dumps([{'hosts': 'localhost', 'gather_facts': False, 'tasks': [
        {'name': 'secret %d' % index, 'projectdeployer.fleet.secret': args, 'check_mode': check, 'ignore_errors': True}
        for index, (args, check) in enumerate(tasks)]}]))
    proc = run_playbook(str(play), json_output=True)
    assert proc.returncode == 0, proc.stderr + proc.stdout[-3000:]
    return [task_results(proc, 'secret %d' % index)['localhost'] for index in range(len(tasks))]


def run_secret(tmp_path, args, check=False):
    return run_secrets(tmp_path, (args, check))[0]


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_generate_check_real_idempotent(tmp_path):
    path = tmp_path / 'local' / 'secrets' / 'postgres_password'
    args = {'path': str(path)}

    checked = run_secret(tmp_path, args, check=True)
    assert checked['changed'] is True and checked['created'] is True
    assert not path.exists() and not path.parent.exists()

    first, again_checked, again = run_secrets(tmp_path, (args, False), (args, True), (args, False))
    assert first['changed'] is True and first['created'] is True and first['path'] == str(path)
    content = path.read_text()
    assert ALNUM40.match(content), 'not 40 letters/digits'
    assert mode_of(path) == 0o600 and mode_of(path.parent) == 0o700
    assert [name for name in os.listdir(path.parent) if name.startswith('.secret.')] == []
    for result in (again_checked, again):
        assert result['changed'] is False and result['created'] is False

    # a loosened mode is put back, the secret kept; too short a length is refused;
    # absent in check mode keeps the file
    path.chmod(0o644)
    fixed, too_short, absent_checked = run_secrets(
        tmp_path, (args, False), ({'path': str(tmp_path / 'short'), 'length': 8}, False),
        (dict(args, state='absent'), True))
    assert fixed['changed'] is True and fixed['created'] is False
    assert mode_of(path) == 0o600 and path.read_text() == content
    assert too_short.get('failed') is True and 'too short' in too_short['msg']
    assert not (tmp_path / 'short').exists()
    assert absent_checked['changed'] is True and path.exists()

    # absent: it goes, then nothing is left to do
    gone, gone_again = run_secrets(tmp_path, (dict(args, state='absent'), False), (dict(args, state='absent'), False))
    assert gone['changed'] is True and gone_again['changed'] is False
    assert not path.exists()


def test_derived_formats(tmp_path):
    directory = tmp_path / 'secrets'
    source = directory / 'redis_password'
    redis_conf = {'path': str(directory / 'redis.conf'), 'source': str(source), 'format': 'redis_conf'}
    pgpass = {'path': str(directory / 'pgpass'), 'source': str(source), 'format': 'pgpass'}
    run_secret(tmp_path, {'path': str(source)})
    password = source.read_text()

    checked = run_secrets(tmp_path, (redis_conf, True), (pgpass, True))
    assert [r['changed'] for r in checked] == [True, True]
    assert not (directory / 'redis.conf').exists() and not (directory / 'pgpass').exists()

    results = run_secrets(tmp_path, (redis_conf, False), (pgpass, False), (redis_conf, True), (pgpass, True),
                          (redis_conf, False), (pgpass, False))
    assert [(r['changed'], r['created']) for r in results] == [(True, False)] * 2 + [(False, False)] * 4
    assert (directory / 'redis.conf').read_text() == 'requirepass %s\nprotected-mode no\n' % password
    assert (directory / 'pgpass').read_text() == '*:*:*:*:%s\n' % password
    assert mode_of(directory / 'redis.conf') == 0o600 and mode_of(directory / 'pgpass') == 0o600

    # a rotated source is followed; a missing source is an error
    source.write_text('R' * 40)
    rotated, missing = run_secrets(
        tmp_path, (pgpass, False), (dict(redis_conf, path=str(directory / 'x.conf'), source=str(directory / 'nothere')),
                                    False))
    assert rotated['changed'] is True
    assert (directory / 'pgpass').read_text() == '*:*:*:*:%s\n' % ('R' * 40)
    assert missing.get('failed') is True and 'does not exist' in missing['msg']
    assert not (directory / 'x.conf').exists()


PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: password
      projectdeployer.fleet.secret:
        path: "{{ dir }}/redis_password"
      register: generated

    - name: redis configuration
      projectdeployer.fleet.secret:
        path: "{{ dir }}/redis.conf"
        source: "{{ dir }}/redis_password"
        format: redis_conf

    - name: pgpass
      projectdeployer.fleet.secret:
        path: "{{ dir }}/pgpass"
        source: "{{ dir }}/redis_password"
        format: pgpass

    - name: what was registered
      ansible.builtin.debug:
        var: generated
"""


def test_secret_never_shown_even_with_vvv(tmp_path):
    play = tmp_path / 'play.yml'
    play.write_text(PLAY)
    directory = tmp_path / 'secrets'
    outputs = []
    # first run generates, second run finds it; the default and the json callback, both at -vvv
    for json_output in (False, True):
        proc = run_playbook(str(play), '-vvv', '-e', 'dir=%s' % directory, json_output=json_output)
        assert proc.returncode == 0, proc.stderr + proc.stdout[-3000:]
        outputs.append(proc.stdout + proc.stderr)
    password = (directory / 'redis_password').read_text()
    assert ALNUM40.match(password)
    assert 'requirepass' in (directory / 'redis.conf').read_text()
    for output in outputs:
        assert 'redis_password' in output  # the path is shown, the content never
        assert password not in output
