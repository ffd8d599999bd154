# SPDX-License-Identifier: GPL-3.0-or-later
"""The example scheduled job: count the rows of postgres table items, print one line, exit 0."""
import datetime
import sys

import connections


def main():
    params = connections.postgres_params()
    conn = connections.postgres_connect()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT to_regclass('items') IS NOT NULL")
            exists = cur.fetchone()[0]
            count = 0
            if exists:
                cur.execute("SELECT count(*) FROM items")
                count = cur.fetchone()[0]
    finally:
        conn.close()
    print("report %s: items=%d db=%s@%s:%s" % (datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                                               count, params["dbname"], params["host"], params["port"]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
