# SPDX-License-Identifier: GPL-3.0-or-later
"""The fixed catalogue of the simulated account: regions, sizes, images and the account itself.

Values follow the real API (slugs, prices with 672 hours a month, the region features and the
/20 default VPC ranges DigitalOcean hands out per region). Every size is served from every
available region except that the dedicated-CPU sizes (c-, g-, m-) are missing in blr1 and syd1,
so a "size not available in this region" error can be provoked.
"""

# slug, name, available, default VPC range
REGIONS = [
    ('nyc1', 'New York 1', True, '10.116.0.0/20'),
    ('nyc2', 'New York 2', False, '10.100.0.0/20'),
    ('nyc3', 'New York 3', True, '10.108.0.0/20'),
    ('sfo2', 'San Francisco 2', True, '10.120.0.0/20'),
    ('sfo3', 'San Francisco 3', True, '10.124.0.0/20'),
    ('ams3', 'Amsterdam 3', True, '10.110.0.0/20'),
    ('sgp1', 'Singapore 1', True, '10.104.0.0/20'),
    ('lon1', 'London 1', True, '10.106.0.0/20'),
    ('fra1', 'Frankfurt 1', True, '10.114.0.0/20'),
    ('tor1', 'Toronto 1', True, '10.118.0.0/20'),
    ('blr1', 'Bangalore 1', True, '10.122.0.0/20'),
    ('syd1', 'Sydney 1', True, '10.126.0.0/20'),
]
REGION_FEATURES = ['private_networking', 'backups', 'ipv6', 'metadata', 'install_agent', 'storage',
                   'image_transfer']
NO_DEDICATED_CPU = ('blr1', 'syd1')

# slug, memory MiB, vcpus, disk GiB, transfer TB, price_monthly USD, description
SIZES = [
    ('s-1vcpu-512mb-10gb', 512, 1, 10, 0.5, 4.0, 'Basic'),
    ('s-1vcpu-1gb', 1024, 1, 25, 1.0, 6.0, 'Basic'),
    ('s-1vcpu-2gb', 2048, 1, 50, 2.0, 12.0, 'Basic'),
    ('s-2vcpu-2gb', 2048, 2, 60, 3.0, 18.0, 'Basic'),
    ('s-2vcpu-4gb', 4096, 2, 80, 4.0, 24.0, 'Basic'),
    ('s-4vcpu-8gb', 8192, 4, 160, 5.0, 48.0, 'Basic'),
    ('s-8vcpu-16gb', 16384, 8, 320, 6.0, 96.0, 'Basic'),
    ('c-2', 4096, 2, 25, 4.0, 42.0, 'CPU-Optimized'),
    ('c-4', 8192, 4, 50, 5.0, 84.0, 'CPU-Optimized'),
    ('g-2vcpu-8gb', 8192, 2, 25, 4.0, 63.0, 'General Purpose'),
    ('m-2vcpu-16gb', 16384, 2, 50, 4.0, 84.0, 'Memory-Optimized'),
]

# id, slug, name, distribution, type, min_disk_size, size_gigabytes, created_at
IMAGES = [
    (169000101, 'ubuntu-24-04-x64', '24.04 (LTS) x64', 'Ubuntu', 'base', 7, 2.49, '2024-04-25T15:33:06Z'),
    (169000102, 'ubuntu-22-04-x64', '22.04 (LTS) x64', 'Ubuntu', 'base', 7, 2.36, '2022-04-21T18:02:03Z'),
    (169000103, 'debian-12-x64', '12 x64', 'Debian', 'base', 7, 0.98, '2023-06-12T09:21:47Z'),
    (169000104, 'debian-11-x64', '11 x64', 'Debian', 'base', 7, 0.95, '2021-08-17T14:11:32Z'),
    (169000105, 'docker-20-04', 'Docker on Ubuntu 22.04', 'Ubuntu', 'snapshot', 25, 4.24,
     '2023-02-07T19:51:54Z'),
]

ACCOUNT = {
    'droplet_limit': 25,
    'floating_ip_limit': 3,
    'volume_limit': 100,
    'email': 'fleet-sim@example.com',
    'name': 'Fleet Simulator',
    'uuid': '5a1f1ee7000000000000000000000000f1ee75a1',
    'email_verified': True,
    'status': 'active',
    'status_message': '',
    'team': {'uuid': '7ea9f1ee70000000000000000000000000f1ee70', 'name': 'My Team'},
}


def region_slugs(available_only=True):
    return [r[0] for r in REGIONS if r[2] or not available_only]


def region_exists(slug):
    return any(r[0] == slug for r in REGIONS)


def region_available(slug):
    return any(r[0] == slug and r[2] for r in REGIONS)


def default_vpc_range(slug):
    for r in REGIONS:
        if r[0] == slug:
            return r[3]
    raise KeyError(slug)


def size_regions(slug):
    dedicated = not slug.startswith('s-')
    return [r for r in region_slugs() if not (dedicated and r in NO_DEDICATED_CPU)]


def find_size(slug):
    for s in SIZES:
        if s[0] == slug:
            return s
    return None


def size_json(slug):
    s = find_size(slug)
    if s is None:
        raise KeyError(slug)
    return {
        'slug': s[0],
        'memory': s[1],
        'vcpus': s[2],
        'disk': s[3],
        'transfer': s[4],
        'price_monthly': s[5],
        'price_hourly': round(s[5] / 672.0, 5),
        'regions': size_regions(s[0]),
        'available': True,
        'description': s[6],
        'disk_info': [{'type': 'local', 'size': {'amount': s[3], 'unit': 'gib'}}],
    }


def sizes_json():
    return [size_json(s[0]) for s in SIZES]


def region_json(slug):
    for r in REGIONS:
        if r[0] == slug:
            return {
                'name': r[1],
                'slug': r[0],
                'features': list(REGION_FEATURES),
                'available': r[2],
                'sizes': [s[0] for s in SIZES if r[2] and r[0] in size_regions(s[0])],
            }
    raise KeyError(slug)


def regions_json():
    return [region_json(r[0]) for r in REGIONS]


def find_image(ref):
    """The image row for a slug or an id (int or digit string), else None."""
    for img in IMAGES:
        if ref == img[1] or (isinstance(ref, int) and not isinstance(ref, bool) and ref == img[0]) \
                or (isinstance(ref, str) and ref.isdigit() and int(ref) == img[0]):
            return img
    return None


def image_json(ref):
    img = find_image(ref)
    if img is None:
        raise KeyError(ref)
    return {
        'id': img[0],
        'name': img[2],
        'distribution': img[3],
        'slug': img[1],
        'public': True,
        'regions': region_slugs(),
        'created_at': img[7],
        'type': img[4],
        'min_disk_size': img[5],
        'size_gigabytes': img[6],
        'description': '%s %s' % (img[3], img[2]),
        'tags': [],
        'status': 'available',
        'error_message': '',
    }


def images_json(kind=None):
    out = []
    for img in IMAGES:
        distribution = img[4] == 'base'
        if kind == 'distribution' and not distribution:
            continue
        if kind == 'application' and distribution:
            continue
        out.append(image_json(img[1]))
    return out
