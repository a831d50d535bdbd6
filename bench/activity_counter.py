"""The plain-Python contender of bench/activity: gzip + json + collections.Counter.

Counts the same dimensions as `orgwatch activity --no-store --report json` (service, API,
principal type, principal-ish, source IP, account, region, error code) over every
*.json.gz under DIR, one file at a time on one core, and prints {"events": N} as JSON.
"""
import collections
import gzip
import json
import os
import sys


def main(root):
    c = {k: collections.Counter() for k in
         ("service", "api", "ptype", "principal", "ip", "account", "region", "error")}
    events = 0
    for d, _, names in os.walk(root):
        for n in names:
            if not n.endswith(".json.gz"):
                continue
            with gzip.open(os.path.join(d, n), "rb") as f:
                doc = json.load(f)
            for r in doc.get("Records", ()):
                events += 1
                ui = r.get("userIdentity") or {}
                src = r.get("eventSource")
                c["service"][src] += 1
                c["api"][(src, r.get("eventName"))] += 1
                c["ptype"][ui.get("type", "Unknown")] += 1
                c["principal"][ui.get("userName") or ui.get("arn") or ui.get("principalId")] += 1
                c["ip"][r.get("sourceIPAddress")] += 1
                c["account"][r.get("recipientAccountId")] += 1
                c["region"][r.get("awsRegion")] += 1
                if r.get("errorCode"):
                    c["error"][r["errorCode"]] += 1
    print(json.dumps({"events": events, "distinct_apis": len(c["api"])}))


if __name__ == "__main__":
    main(sys.argv[1])
