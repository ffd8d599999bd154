# SPDX-License-Identifier: GPL-3.0-or-later
"""projectdeployer.fleet.cloudflare_dns through the real cloudflare SDK against the Cloudflare simulator
(tests/world/cf_sim, in this process): ownership, adopt, conflicts, check and diff modes, a re-run that writes
nothing."""
import os
import sys
import threading

import pytest
import requests
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.projectdeployer.fleet.plugins.modules import cloudflare_dns as mod

WORLD_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))),
                         'world')
if WORLD_DIR not in sys.path:
    sys.path.append(WORLD_DIR)

import cf_sim  # noqa: E402


class Exit(Exception):
    pass


@pytest.fixture(scope='module')
def sim(tmp_path_factory):
    server, state, info = cf_sim.make_server(str(tmp_path_factory.mktemp('cf_sim')), zones=['example.test'])
    thread = threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.1}, daemon=True)
    thread.start()
    yield dict(info, state=state)
    server.shutdown()
    server.server_close()


def run(monkeypatch, sim, check=False, diff=False, **args):
    def done(self, **result):
        raise Exit(result)

    def failed(self, msg, **result):
        raise Exit(dict(result, msg=msg, failed=True))
    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', done)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', failed)
    monkeypatch.delenv('CLOUDFLARE_API_TOKEN', raising=False)
    base = dict(owner='u1/myapp/prod', zone='example.test', cloudflare_api_token=sim['token'], cloudflare_endpoint=sim['url'],
                cloudflare_ca_bundle=sim['ca'], cloudflare_max_retries=0, _ansible_check_mode=check,
                _ansible_diff=diff)
    with patch_module_args(dict(base, **args)):
        with pytest.raises(Exit) as answer:
            mod.main()
    return answer.value.args[0]


def snapshot(sim):
    return requests.get(sim['url'].replace('/client/v4', '/_sim/state'), verify=sim['ca'], timeout=10,
                        headers={'Authorization': 'Bearer ' + sim['token']}).json()


def records(sim, name):
    return sorted((r['type'], r['content'], r['comment']) for r in snapshot(sim)['records'] if r['name'] == name)


API = [{'name': 'api', 'content': ['203.0.113.7', '203.0.113.8'], 'proxied': True}]


def test_check_create_rerun_and_shrink(monkeypatch, sim):
    writes = snapshot(sim)['writes']
    checked = run(monkeypatch, sim, check=True, diff=True, records=API)
    assert checked['changed'] and len(checked['created']) == 2 and snapshot(sim)['writes'] == writes
    assert checked['zone']['name'] == 'example.test' and len(checked['diff']['after']['records']) == 2
    made = run(monkeypatch, sim, records=API)
    assert made['changed'] and [r['content'] for r in made['created']] == ['203.0.113.7', '203.0.113.8']
    mark = 'managed by projectdeployer.fleet: u1/myapp/prod'
    assert records(sim, 'api.example.test') == [('A', '203.0.113.7', mark), ('A', '203.0.113.8', mark)]
    writes = snapshot(sim)['writes']
    again = run(monkeypatch, sim, records=API)
    assert not again['changed'] and snapshot(sim)['writes'] == writes          # a re-run writes nothing
    # one server fewer: its record goes, the other stays; proxied off: updated in place
    shrunk = run(monkeypatch, sim, records=[{'name': 'api.example.test', 'content': '203.0.113.7'}])
    assert [r['content'] for r in shrunk['deleted']] == ['203.0.113.8']
    assert [r['content'] for r in shrunk['updated']] == ['203.0.113.7']
    gone = run(monkeypatch, sim, records=[{'name': 'api', 'content': '203.0.113.7'}], state='absent')
    assert gone['changed'] and records(sim, 'api.example.test') == []


def test_records_of_others_are_never_touched_unless_adopted(monkeypatch, sim):
    zone = snapshot(sim)['zones'][0]['id']
    headers = {'Authorization': 'Bearer ' + sim['token']}
    theirs = requests.post(sim['url'] + '/zones/%s/dns_records' % zone, verify=sim['ca'], headers=headers, timeout=10,
                           json={'type': 'A', 'name': 'www', 'content': '198.51.100.1', 'ttl': 1}).json()['result']
    # in the way: one clear error, nothing changed
    writes = snapshot(sim)['writes']
    refused = run(monkeypatch, sim, records=[{'name': 'www', 'content': '203.0.113.7'}])
    assert refused['failed'] and 'A www.example.test 198.51.100.1 was not made by the collection' in refused['msg']
    assert 'fix: delete it in Cloudflare, or set adopt: true' in refused['msg'] and snapshot(sim)['writes'] == writes
    # a CNAME where their A stands: the same
    refused = run(monkeypatch, sim, records=[{'name': 'www', 'type': 'CNAME', 'content': 'lb.example.test'}])
    assert refused['failed'] and 'stands in the way of CNAME lb.example.test' in refused['msg']
    # what it already says is kept as it is, and state=absent does not delete it
    kept = run(monkeypatch, sim, records=[{'name': 'www', 'content': '198.51.100.1'}])
    assert not kept['changed'] and kept['kept'] == [{'name': 'www.example.test', 'type': 'A', 'content': '198.51.100.1'}]
    kept = run(monkeypatch, sim, records=[{'name': 'www', 'content': '198.51.100.1'}], state='absent')
    assert not kept['changed'] and records(sim, 'www.example.test') == [('A', '198.51.100.1', None)]
    # adopted: replaced
    adopted = run(monkeypatch, sim, records=[{'name': 'www', 'content': '203.0.113.7'}], adopt=True)
    assert adopted['changed'] and [r['content'] for r in adopted['deleted']] == [theirs['content']]
    assert records(sim, 'www.example.test') == [('A', '203.0.113.7', 'managed by projectdeployer.fleet: u1/myapp/prod')]
    run(monkeypatch, sim, records=[{'name': 'www', 'content': '203.0.113.7'}], state='absent')


def test_bad_input_is_one_line_with_the_fix(monkeypatch, sim):
    out = run(monkeypatch, sim, records=[{'name': 'api.nowhere.test', 'content': '203.0.113.7'}], zone=None)
    assert out['failed'] and out['msg'].startswith('Cloudflare: api.nowhere.test is in no zone of this account; fix:')
    out = run(monkeypatch, sim, records=[{'name': 'txt', 'type': 'TXT', 'content': 'x', 'proxied': True}])
    assert out['failed'] and 'cannot be proxied; fix:' in out['msg']
    out = run(monkeypatch, sim, records=[{'name': 'api', 'content': '203.0.113.7'}], zone=None)
    assert out['failed'] and out['msg'] == 'records: api is not a fully qualified name; fix: give the zone option, or the full name'
    out = run(monkeypatch, sim, records=API, cloudflare_api_token='wrong')
    assert out['failed'] and 'HTTP 401' in out['msg'] and 'fix: check the token' in out['msg']
    out = run(monkeypatch, sim, records=API, cloudflare_api_token=None)
    assert out['failed'] and out['msg'].startswith('no Cloudflare API token; fix: set CLOUDFLARE_API_TOKEN')
    out = run(monkeypatch, sim, records=[{'name': 'api'}])
    assert out['failed'] and out['msg'] == 'records: A api has no content; fix: give its content (an address, a name or a text)'


def test_a_challenge_record_is_waited_for_on_the_authoritative_server_then_taken_away(monkeypatch, sim):
    from cf_sim.authority import TinyAuthority
    authority = TinyAuthority()
    sim['state'].authoritative = authority.management
    challenge = [{'name': '_acme-challenge.api', 'type': 'TXT', 'content': 'token-1', 'ttl': 60}]
    try:
        made = run(monkeypatch, sim, records=challenge, wait=True, name_servers=['127.0.0.1:%d' % authority.port])
        assert made['changed'] and made['waited'] >= 0
        assert authority.records == {'_acme-challenge.api.example.test': ['token-1']} and authority.asked >= 1
        gone = run(monkeypatch, sim, records=challenge, state='absent')
        assert [r['content'] for r in gone['deleted']] == ['token-1'] and authority.records == {}
        # nobody publishes it now: the wait is bounded and says what is missing where, with the fix
        sim['state'].authoritative = None
        out = run(monkeypatch, sim, records=challenge, wait=True, wait_timeout=1,
                  name_servers=['127.0.0.1:%d' % authority.port])
        assert out['failed'] and out['msg'].startswith(
            'the TXT record not answered after 1 s: _acme-challenge.api.example.test at 127.0.0.1; fix:')
        run(monkeypatch, sim, records=challenge, state='absent')
    finally:
        sim['state'].authoritative = None
        authority.close()


def test_absent_without_content_takes_every_own_record_of_the_name(monkeypatch, sim):
    run(monkeypatch, sim, records=[{'name': 'multi', 'content': ['192.0.2.1', '192.0.2.2']}])
    gone = run(monkeypatch, sim, records=[{'name': 'multi'}], state='absent')
    assert sorted(r['content'] for r in gone['deleted']) == ['192.0.2.1', '192.0.2.2']
    assert records(sim, 'multi.example.test') == []
    assert not run(monkeypatch, sim, records=[{'name': 'multi'}], state='absent')['changed']
