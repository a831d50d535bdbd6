"""The DuckDB contender of bench/activity: read_json over the gz log files + GROUP BY.

Reads every *.json.gz under DIR with read_json (an explicit schema of the fields counted, so
DuckDB neither infers a schema nor materialises requestParameters/responseElements), unnests
each file's Records array and counts the dimensions of `orgwatch activity --report json` in
one pass with GROUPING SETS (DuckDB's default threads: all cores, though its JSON reader
keeps about one busy on these files). Prints {"events": N} as JSON. Threads: DuckDB's default (all cores).
"""
import json
import sys

import duckdb

RECORD = (
    "STRUCT(eventSource VARCHAR, eventName VARCHAR, awsRegion VARCHAR, "
    "sourceIPAddress VARCHAR, recipientAccountId VARCHAR, errorCode VARCHAR, "
    "userIdentity STRUCT(type VARCHAR, userName VARCHAR, arn VARCHAR, principalId VARCHAR))"
)


def main(root):
    con = duckdb.connect()
    glob = root.rstrip("/") + "/**/*.json.gz"
    q = f"""
    WITH r AS (
        SELECT unnest(Records) AS r
        FROM read_json('{glob}', format='auto', compression='gzip',
                       columns={{'Records': '{RECORD}[]'}})
    ), g AS (
        SELECT r.eventSource AS service, r.eventName AS api,
               coalesce(r.userIdentity.type, 'Unknown') AS ptype,
               coalesce(r.userIdentity.userName, r.userIdentity.arn,
                        r.userIdentity.principalId) AS principal,
               r.sourceIPAddress AS ip, r.recipientAccountId AS account,
               r.awsRegion AS region, r.errorCode AS error, count(*) AS n
        FROM r
        GROUP BY GROUPING SETS ((), (service), (service, api), (ptype), (principal), (ip),
                                (account), (region), (error))
    )
    SELECT n FROM g
    WHERE service IS NULL AND api IS NULL AND ptype IS NULL AND principal IS NULL
      AND ip IS NULL AND account IS NULL AND region IS NULL AND error IS NULL
    ORDER BY n DESC LIMIT 1
    """
    (events,) = con.execute(q).fetchone()
    print(json.dumps({"events": events}))


if __name__ == "__main__":
    main(sys.argv[1])
