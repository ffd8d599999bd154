# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""DigitalOcean regions to Cloudflare's load balancing regions, for geo steering (``region_pools``).

Sources: the cities of DigitalOcean's datacenters (docs.digitalocean.com, "Regional Availability": nyc New York,
sfo San Francisco, ams Amsterdam, sgp Singapore, lon London, fra Frankfurt, tor Toronto, blr Bangalore, syd
Sydney, atl Atlanta) and Cloudflare's region codes with the countries and states in each (developers.cloudflare.com,
Load Balancing, "Region mapping API": WNAM Western North America, ENAM Eastern North America, WEU Western Europe,
EEU Eastern Europe, NSAM/SSAM South America, OC Oceania, ME Middle East, NAF/SAF Africa, SAS Southern Asia, SEAS
South East Asia, NEAS North East Asia). Toronto (Ontario) and New York and Atlanta are in ENAM, California in WNAM,
the UK, the Netherlands and Germany in WEU, Singapore in SEAS, India in SAS, Australia in OC.
"""

from __future__ import annotations

DO_TO_CLOUDFLARE = {
    'nyc1': 'ENAM', 'nyc2': 'ENAM', 'nyc3': 'ENAM', 'tor1': 'ENAM', 'atl1': 'ENAM',
    'sfo1': 'WNAM', 'sfo2': 'WNAM', 'sfo3': 'WNAM',
    'ams2': 'WEU', 'ams3': 'WEU', 'lon1': 'WEU', 'fra1': 'WEU',
    'sgp1': 'SEAS', 'blr1': 'SAS', 'syd1': 'OC',
}


def cloudflare_region(do_region):
    """The Cloudflare region of a DigitalOcean region slug; ValueError with the fix for an unknown one."""
    try:
        return DO_TO_CLOUDFLARE[do_region]
    except KeyError:
        raise ValueError('zone %r is not a DigitalOcean region the collection knows; fix: use one of %s'
                         % (do_region, ', '.join(sorted(DO_TO_CLOUDFLARE)))) from None
