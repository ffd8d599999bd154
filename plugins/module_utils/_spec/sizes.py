# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""DigitalOcean zones and Basic droplet sizes: which (server_cpu, server_memory) exist and what they cost.

Pure, no I/O.  The slugs and field names are those of the DigitalOcean API
(``GET /v2/sizes``: ``slug``, ``vcpus``, ``memory`` in MB, ``disk`` in GB,
``transfer`` in TB, ``price_monthly`` and ``price_hourly`` in USD).  Prices are
the Basic (regular SSD) list prices; the API reference's example still shows
the 2020 price of ``s-1vcpu-1gb`` ($5), the seed and DigitalOcean today $6.
"""

from __future__ import annotations

import difflib

# The seed's zones, in the seed's order, with their cities.
ZONES = {
    'lon1': 'London',
    'nyc1': 'New York',
    'nyc3': 'New York',
    'sfo3': 'San Francisco',
    'sgp1': 'Singapore',
    'fra1': 'Frankfurt',
    'tor1': 'Toronto',
    'ams3': 'Amsterdam',
    'blr1': 'Bangalore',
}

_SIZE_FIELDS = ('slug', 'vcpus', 'memory', 'disk', 'transfer', 'price_monthly', 'price_hourly')
SIZES = tuple(dict(zip(_SIZE_FIELDS, row)) for row in (
    ('s-1vcpu-512mb-10gb', 1, 512, 10, 0.5, 4.0, 0.00595),
    ('s-1vcpu-1gb', 1, 1024, 25, 1.0, 6.0, 0.00893),
    ('s-1vcpu-2gb', 1, 2048, 50, 2.0, 12.0, 0.01786),
    ('s-2vcpu-2gb', 2, 2048, 60, 3.0, 18.0, 0.02679),
    ('s-2vcpu-4gb', 2, 4096, 80, 4.0, 24.0, 0.03571),
    ('s-4vcpu-8gb', 4, 8192, 160, 5.0, 48.0, 0.07143),
    ('s-8vcpu-16gb', 8, 16384, 320, 6.0, 96.0, 0.14286),
))


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def size_for(cpu, memory_mb):
    """The size (a copy of its row) with exactly ``cpu`` vCPUs and ``memory_mb`` MB, or None."""
    if not (_is_int(cpu) and _is_int(memory_mb)):
        return None
    for size in SIZES:
        if size['vcpus'] == cpu and size['memory'] == memory_mb:
            return dict(size)
    return None


def smallest_fitting(cpu, memory_mb):
    """The cheapest size with at least ``cpu`` vCPUs and ``memory_mb`` MB, or None."""
    fits = [s for s in SIZES if s['vcpus'] >= cpu and s['memory'] >= memory_mb]
    return dict(min(fits, key=lambda s: s['price_monthly'])) if fits else None


def valid_pairs():
    """``1/512 ($4), 1/1024 ($6), ...``: every server_cpu/server_memory pair and its monthly price."""
    return ', '.join('%d/%d ($%g)' % (s['vcpus'], s['memory'], s['price_monthly']) for s in SIZES)


def size_error(cpu, memory_mb):
    """None, or one line ``what is wrong; fix: ...`` naming the valid (server_cpu, server_memory) pairs."""
    if size_for(cpu, memory_mb):
        return None
    fix = 'use one of these server_cpu/server_memory pairs: %s' % valid_pairs()
    if _is_int(cpu) and _is_int(memory_mb):
        best = smallest_fitting(cpu, memory_mb)
        if best:
            fix = 'the smallest size that fits is %d/%d (%s, $%g/month); %s' % (
                best['vcpus'], best['memory'], best['slug'], best['price_monthly'], fix)
    return 'no DigitalOcean Basic droplet has %s vCPU and %s MB memory; fix: %s' % (cpu, memory_mb, fix)


def zone_error(zone):
    """None, or one line ``what is wrong; fix: ...`` naming the valid zones."""
    if isinstance(zone, str) and zone in ZONES:
        return None
    close = difflib.get_close_matches(zone, list(ZONES), n=1) if isinstance(zone, str) else []
    hint = "did you mean '%s'? " % close[0] if close else ''
    return '%r is not a DigitalOcean zone of the fleet; fix: %suse one of %s' % (
        zone, hint, ', '.join('%s (%s)' % item for item in ZONES.items()))


def monthly_cost(cpu, memory_mb, count=1):
    """``count`` servers of this size per month, in USD; ValueError if no such size exists."""
    size = size_for(cpu, memory_mb)
    if size is None:
        raise ValueError(size_error(cpu, memory_mb))
    return round(size['price_monthly'] * count, 2)
