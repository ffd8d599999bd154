# SPDX-License-Identifier: GPL-3.0-or-later
"""The host firewall's rules as text (_firewall/rules): what a tenant gets, and the batch that gets it there."""
import pytest

from ansible_collections.projectdeployer.fleet.plugins.module_utils._firewall import rules as r

T = 'u1_myapp_prod'
CHAIN = r.tenant_chain(T)
TAG = '-m comment --comment "fleet u1_myapp_prod"'

# a live table as iptables-save prints it: Docker's chains, the test world's, another tenant's
LIVE_OTHER = '''*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER-USER - [0:0]
:FLEET-PORTS-IN - [0:0]
:FLEET-PORTS-FWD - [0:0]
:{other} - [0:0]
:OPERATOR - [0:0]
-A INPUT -j FLEET-PORTS-IN
-A INPUT -j OPERATOR
-A DOCKER-USER -j FLEET-PORTS-FWD
-A DOCKER-USER -j RETURN
-A FLEET-PORTS-IN -p tcp -m multiport --dports 8001,18001 -m comment --comment "fleet u2_shop_prod" -j {other}
-A FLEET-PORTS-FWD -o br-222222222222 -m conntrack --ctstate DNAT --ctdir ORIGINAL -m comment --comment "fleet u2_shop_prod" -j {other}
-A {other} -i lo -m comment --comment "fleet u2_shop_prod" -j RETURN
-A {other} -m comment --comment "fleet u2_shop_prod" -j DROP
-A OPERATOR -p tcp --dport 22 -j ACCEPT
COMMIT
'''.format(other=r.tenant_chain('u2_shop_prod'))

EMPTY = '''*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:DOCKER-USER - [0:0]
-A DOCKER-USER -j RETURN
COMMIT
'''


def wanted(ports=(8120, 18120), bridges=('br-111111111111', 'br-eeeeeeeeeeee'), peers=()):
    return r.tenant_rules(T, ports, bridges, peers)


def apply(chains, batch):
    """What iptables-restore --noflush would leave: a small interpreter of the batch's commands."""
    chains = {name: list(rules) for name, rules in chains.items()}
    for line in batch.splitlines():
        if line in ('*filter', 'COMMIT'):
            continue
        op, rest = line[:2], line[3:]
        if op == '-N':
            assert rest not in chains, line
            chains[rest] = []
        elif op == '-X':
            assert chains.pop(rest) == [], line
            assert not any(rule.endswith('-j ' + rest) for rules in chains.values() for rule in rules), line
        elif op == '-F':
            chains[rest] = []
        else:
            name, dummy, rule = rest.partition(' ')
            if op == '-A':
                chains[name].append(rule)
            elif op == '-D':
                chains[name].remove(rule)
            elif op == '-I':
                pos, dummy, rule = rule.partition(' ')
                chains[name].insert(int(pos) - 1, rule)
            else:
                raise AssertionError(line)
        if op in ('-A', '-I'):
            target = rule.rsplit('-j ', 1)[1]
            assert target in chains or target in ('RETURN', 'DROP', 'ACCEPT'), line
    return chains


def test_chain_name_fits_and_is_stable():
    assert CHAIN == r.tenant_chain(T) and CHAIN.startswith('FLEET-T-') and len(CHAIN) <= 28
    assert r.tenant_chain('u1_myapp_stage') != CHAIN


def test_a_tenant_gets_dispatch_and_its_own_source_policy():
    rules = wanted(peers=[{'address': '10.110.0.6', 'ports': [8120, 18120]}])
    assert rules[r.INPUT_CHAIN] == ['-p tcp -m multiport --dports 8120,18120 %s -j %s' % (TAG, CHAIN)]
    assert rules[r.FORWARD_CHAIN] == [
        '-o br-111111111111 -m conntrack --ctstate DNAT --ctdir ORIGINAL %s -j %s' % (TAG, CHAIN),
        '-d 10.110.0.6/32 -p tcp -m multiport --dports 8120,18120 %s -j %s' % (TAG, CHAIN)]
    assert rules[CHAIN] == [
        '-i lo %s -j RETURN' % TAG,
        '-i br-111111111111 %s -j RETURN' % TAG,
        '-i br-eeeeeeeeeeee %s -j RETURN' % TAG,
        '-i docker0 %s -j DROP' % TAG,      # the default bridge
        '-i br+ %s -j DROP' % TAG,          # every other tenant; before the peers, so no container spoofs one
        '-s 10.110.0.6/32 %s -j RETURN' % TAG,
        '%s -j DROP' % TAG]


def test_many_ports_are_split_for_multiport_and_sorted_once():
    ports = list(range(8000, 8020)) + [8000, 8001]
    rules = wanted(ports=ports)
    assert len(rules[r.INPUT_CHAIN]) == 2
    assert rules[r.INPUT_CHAIN][0].count(',') == r.MULTIPORT_MAX - 1
    assert '--dports 8015,8016,8017,8018,8019 ' in rules[r.INPUT_CHAIN][1]


def test_no_port_no_peer_needs_no_rule():
    assert wanted(ports=()) == {}
    # a server with no port of its own still guards the tenant's ports on its peers
    only_peer = wanted(ports=(), peers=[{'address': '10.0.0.9', 'ports': [8001]}])
    assert only_peer[r.INPUT_CHAIN] == [] and len(only_peer[r.FORWARD_CHAIN]) == 1


@pytest.mark.parametrize('kwargs, needle', [
    ({'ports': ['http']}, "ports: 'http' is not a TCP port"),
    ({'ports': [70000]}, "ports: '70000' is not a TCP port"),
    ({'peers': [{'address': 'db.example', 'ports': [1]}]}, "peers: 'db.example' is not an IPv4 address"),
    ({'peers': [{'address': '10.0.0.1', 'ports': [0]}]}, "peers[].ports: '0' is not a TCP port"),
    ({'bridges': ()}, 'networks: the tenant network is needed'),
    ({'bridges': ('br-x; rm -rf /',)}, 'is not a network interface name'),
])
def test_bad_arguments_are_one_line_with_the_fix(kwargs, needle):
    with pytest.raises(r.FirewallError) as info:
        wanted(**kwargs)
    assert needle in str(info.value)


def test_parse_save_reads_chains_and_rules():
    chains = r.parse_save(LIVE_OTHER)
    assert chains['INPUT'] == ['-j FLEET-PORTS-IN', '-j OPERATOR']
    assert chains['FLEET-PORTS-IN'][0].endswith(r.tenant_chain('u2_shop_prod'))
    assert r.parse_save('-N A\n-A A -j DROP\n') == {'A': ['-j DROP']}


def test_first_tenant_creates_the_chains_and_jumps_first():
    chains = r.parse_save(EMPTY)
    batch = r.restore_batch(chains, T, r.fit_to_table(wanted(), chains))
    after = apply(chains, batch)
    assert after['INPUT'][0] == '-j FLEET-PORTS-IN'
    assert after['DOCKER-USER'] == ['-j FLEET-PORTS-FWD', '-j RETURN']
    assert r.current_rules(after, T) == wanted()
    # a second run with the same rules writes nothing
    assert r.restore_batch(after, T, wanted()) == ''


def test_another_tenants_and_the_operators_rules_are_untouched():
    chains = r.parse_save(LIVE_OTHER)
    after = apply(chains, r.restore_batch(chains, T, wanted()))
    for name in ('OPERATOR', r.tenant_chain('u2_shop_prod')):
        assert after[name] == chains[name]
    for name in (r.INPUT_CHAIN, r.FORWARD_CHAIN):
        assert set(chains[name]) <= set(after[name])
    assert after['INPUT'] == chains['INPUT']  # the jump is not added twice


def test_a_change_rewrites_only_the_tenants_rules_in_one_batch():
    chains = apply(r.parse_save(LIVE_OTHER), r.restore_batch(r.parse_save(LIVE_OTHER), T, wanted()))
    new = wanted(ports=(8120, 18120, 8357, 18357), peers=[{'address': '10.110.0.7', 'ports': [8400]}])
    batch = r.restore_batch(chains, T, new)
    assert batch.startswith('*filter\n') and batch.endswith('COMMIT\n')
    after = apply(chains, batch)
    assert r.current_rules(after, T) == new
    assert r.current_rules(after, 'u2_shop_prod') == r.current_rules(chains, 'u2_shop_prod')
    assert r.restore_batch(after, T, new) == ''


def test_order_in_the_dispatch_chains_does_not_count_but_in_the_tenant_chain_it_does():
    rules = wanted(peers=[{'address': '10.0.0.2', 'ports': [1]}, {'address': '10.0.0.3', 'ports': [2]}])
    shuffled = dict(rules, **{r.FORWARD_CHAIN: list(reversed(rules[r.FORWARD_CHAIN]))})
    assert r.same(shuffled, rules)
    swapped = dict(rules, **{CHAIN: list(reversed(rules[CHAIN]))})
    assert not r.same(swapped, rules)


def test_removing_the_last_tenant_removes_the_chains_and_jumps():
    chains = r.parse_save(EMPTY)
    chains = apply(chains, r.restore_batch(chains, T, wanted()))
    after = apply(chains, r.restore_batch(chains, T, {}))
    assert after == r.parse_save(EMPTY)
    assert r.restore_batch(after, T, {}) == ''


def test_removing_one_of_two_tenants_keeps_the_dispatch_chains():
    chains = r.parse_save(LIVE_OTHER)
    chains = apply(chains, r.restore_batch(chains, T, wanted()))
    after = apply(chains, r.restore_batch(chains, T, {}))
    assert after == r.parse_save(LIVE_OTHER)


def test_rules_lost_in_part_are_put_back():
    chains = r.parse_save(EMPTY)
    chains = apply(chains, r.restore_batch(chains, T, wanted()))
    chains[CHAIN] = chains[CHAIN][:2]   # someone deleted rules by hand
    chains['INPUT'] = []                # and the jump
    after = apply(chains, r.restore_batch(chains, T, wanted()))
    assert r.current_rules(after, T) == wanted() and after['INPUT'] == ['-j FLEET-PORTS-IN']


def test_without_docker_user_only_input_rules_are_kept():
    chains = r.parse_save('*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n')
    fitted = r.fit_to_table(wanted(), chains)
    assert r.FORWARD_CHAIN not in fitted
    after = apply(chains, r.restore_batch(chains, T, fitted))
    assert r.FORWARD_CHAIN not in after and after['INPUT'] == ['-j FLEET-PORTS-IN']


def test_show_lists_dispatch_first_then_the_tenant_chain():
    lines = r.show(wanted())
    assert lines[0].startswith('-A FLEET-PORTS-FWD ') and lines[-1] == '-A %s %s -j DROP' % (CHAIN, TAG)
