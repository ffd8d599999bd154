# SPDX-License-Identifier: GPL-3.0-or-later
"""The controller's certificate store: install checks the pair, failures are counted (real keys, no CA)."""
import datetime
import os
import stat
import subprocess

import pytest

from ansible_collections.projectdeployer.fleet.plugins.module_utils._tls import store

NOW = datetime.datetime(2026, 12, 6, 10, 0, tzinfo=datetime.timezone.utc)


def make_pair(directory, name, key_name=None):
    key = os.path.join(directory, key_name or name + '.key')
    crt = os.path.join(directory, name + '.crt')
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
                    '-keyout', key, '-out', crt, '-days', '9', '-subj', '/CN=%s' % name,
                    '-addext', 'subjectAltName=DNS:%s' % name], check=True, capture_output=True)
    return key, crt


def test_install_puts_key_and_chain_in_one_0600_file(tmp_path):
    directory = str(tmp_path / 'tls')
    os.makedirs(directory, 0o700)
    key, crt = store.new_paths(directory, 'api.example.com')
    made_key, made_crt = make_pair(str(tmp_path), 'api.example.com')
    os.rename(made_key, key)
    os.rename(made_crt, crt)
    info = store.install(directory, 'api.example.com', 'self-signed', NOW)
    assert info['names'] == ['api.example.com']
    pem = store.pem_path(directory, 'api.example.com')
    with open(pem) as handle:
        text = handle.read()
    assert text.index('PRIVATE KEY') < text.index('BEGIN CERTIFICATE')
    assert stat.S_IMODE(os.stat(pem).st_mode) == 0o600
    assert not os.path.exists(key) and not os.path.exists(crt)
    assert store.read_current(directory, 'api.example.com')['serial'] == info['serial']
    state = store.read_state(directory, 'api.example.com')
    assert state['failures'] == 0 and state['mode'] == 'self-signed'


def test_install_refuses_a_certificate_of_another_key(tmp_path):
    directory = str(tmp_path)
    key, crt = store.new_paths(directory, 'a.example.com')
    os.rename(make_pair(directory, 'other')[0], key)
    os.rename(make_pair(directory, 'a.example.com')[1], crt)
    with pytest.raises(store.StoreError, match='not for the new key'):
        store.install(directory, 'a.example.com', 'letsencrypt', NOW)
    assert not os.path.exists(store.pem_path(directory, 'a.example.com'))


def test_failures_are_counted_and_leftovers_removed(tmp_path):
    directory = str(tmp_path)
    key, dummy = store.new_paths(directory, 'a.example.com')
    open(key, 'w').close()
    store.record_failure(directory, 'a.example.com', 'letsencrypt', NOW, 'connection refused')
    state = store.record_failure(directory, 'a.example.com', 'letsencrypt', NOW, 'rateLimited')
    assert state['failures'] == 2
    assert store.read_state(directory, 'a.example.com')['last_attempt'] == NOW
    assert store.read_state(directory, 'a.example.com')['last_error'] == 'rateLimited'
    assert not os.path.exists(key)
