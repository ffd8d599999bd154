# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What Cloudflare should point at after a deploy: pure data from the plan and the servers.

A domain whose servers are in one zone gets plain DNS records (one per server); a domain served from several zones
gets a load balancer with a pool per zone. Only the servers where the deploy passed count: a zone whose servers
failed is left out of the load balancer (the others keep serving) and named in ``failed_zones``; a domain with no
server that passed is left as it is.
"""

from __future__ import annotations

NO_ZONE = 'local'   # a server without a DigitalOcean zone (an inventory of plain hosts)


def server_view(name, host_vars):
    """One server as the Cloudflare step needs it, from its hostvars after the deploy role ran there (its
    ``deploy_served`` services, ``deploy_passed`` at the role's end); None for one the run left out (surplus, or
    in a zone the run's ``fleet_zones`` does not list)."""
    if host_vars.get('fleet_droplet_surplus') or host_vars.get('deploy_left_out'):
        return None
    address = host_vars.get('fleet_public_ip') or host_vars.get('ansible_host') or name
    return {'name': name, 'zone': host_vars.get('fleet_zone') or NO_ZONE, 'address': address,
            'services': list(host_vars.get('deploy_served') or []), 'passed': bool(host_vars.get('deploy_passed'))}


def _zones(service, servers):
    """``({zone: [addresses that passed]}, {zone: [servers that failed]})`` of the servers running ``service``."""
    good, bad = {}, {}
    for server in sorted((s for s in servers if s and service in s['services']), key=lambda s: s['name']):
        if server['passed']:
            good.setdefault(server['zone'], []).append(server['address'])
        else:
            bad.setdefault(server['zone'], []).append(server['name'])
    return good, bad


def _ordered(found, preferred):
    """The zones of ``found`` in the order of ``preferred`` (fleet_zones), then the others by name."""
    return [z for z in preferred if z in found] + sorted(z for z in found if z not in preferred)


def cloudflare_targets(rows, servers, zones=(), proxied_modes=('cloudflare',), tls_modes=('letsencrypt', 'self-signed')):
    """``{'balanced': [...], 'records': [...], 'failed': [...]}`` for the plan rows with a domain.

    ``balanced``: ``{service, hostname, tls, regions: {zone: [addresses]}}`` for a domain served from several zones,
    or from any zone when the run is multi-zone (``zones``, fleet_zones: the load balancer stays while a zone
    comes or goes), zones in the order of ``zones``; ``records``: ``{service, name, content, proxied}`` for a domain
    served from one zone; ``failed``: ``{service, hostname, zone, servers}`` for each zone where a server of the
    domain did not pass (left out of the load balancer while another zone works).
    """
    out = {'balanced': [], 'records': [], 'failed': []}
    for row in sorted(rows, key=lambda r: r['service']):
        if not row.get('domain'):
            continue
        good, bad = _zones(row['service'], servers)
        spread = bool(zones) and list(row.get('zones') or []) == list(zones)   # the service runs in every zone
        zones_here = _ordered(set(good) | set(bad), list(zones))
        for zone in sorted(bad):
            out['failed'].append({'service': row['service'], 'hostname': row['domain'], 'zone': zone,
                                  'servers': bad[zone]})
        if not good:
            continue
        if len(zones_here) > 1 or spread:
            regions = dict((zone, good[zone]) for zone in zones_here if zone in good and zone not in bad)
            if not regions:   # every zone has a failed server: keep those that have servers that passed
                regions = dict((zone, good[zone]) for zone in zones_here if zone in good)
            out['balanced'].append({'service': row['service'], 'hostname': row['domain'], 'regions': regions,
                                    'tls': row.get('ssl_mode') in tls_modes})
        else:
            out['records'].append({'service': row['service'], 'name': row['domain'], 'content': good[zones_here[0]],
                                   'proxied': row.get('ssl_mode') in proxied_modes})
    return out


def failure_lines(failed, targets):
    """One line per failed zone, saying what the load balancer or the records point at instead."""
    lines = []
    for entry in failed:
        lb = [t for t in targets['balanced'] if t['hostname'] == entry['hostname']]
        rec = [t for t in targets['records'] if t['name'] == entry['hostname']]
        if lb:
            serving = 'the load balancer of %s points at %s' % (entry['hostname'], ', '.join(sorted(lb[0]['regions'])))
        elif rec:
            serving = '%s points at %s' % (entry['hostname'], ', '.join(rec[0]['content']))
        else:
            serving = '%s is left as it was (no server of it passed)' % entry['hostname']
        lines.append('zone %s failed for %s (%s): %s; fix: see the failed task of those servers above, then deploy '
                     'again' % (entry['zone'], entry['service'], ', '.join(entry['servers']), serving))
    return lines
