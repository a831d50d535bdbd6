"""Seeds moto_server for bench/collect: an organisation of N member accounts, each with the
same content in each of the given regions (KMS keys, secrets, a certificate, Security Hub
findings, a web ACL). Usage: collect_seed.py MOTO_URL ACCOUNTS REGION[,REGION...]
Prints the member account ids, one a line."""
import sys

import boto3

url, count, regions = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(",")
kw = dict(endpoint_url=url, aws_access_key_id="test", aws_secret_access_key="test")
org = boto3.client("organizations", region_name="us-east-1", **kw)
org.create_organization(FeatureSet="ALL")
sts = boto3.client("sts", region_name="us-east-1", **kw)
ids = []
for i in range(count):
    status = org.create_account(Email=f"m{i}@example.com", AccountName=f"member-{i}")
    ids.append(status["CreateAccountStatus"]["AccountId"])
for account in ids:
    c = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/OrgwatchReadOnly", RoleSessionName="seed")["Credentials"]
    creds = dict(endpoint_url=url, aws_access_key_id=c["AccessKeyId"],
                 aws_secret_access_key=c["SecretAccessKey"], aws_session_token=c["SessionToken"])
    for region in regions:
        kms = boto3.client("kms", region_name=region, **creds)
        for k in range(3):
            kms.create_key(Description=f"key {k}")
        sm = boto3.client("secretsmanager", region_name=region, **creds)
        for s in range(2):
            sm.create_secret(Name=f"app/secret-{s}", SecretString="x")
        boto3.client("acm", region_name=region, **creds).request_certificate(DomainName=f"{account}.example.com")
        hub = boto3.client("securityhub", region_name=region, **creds)
        hub.batch_import_findings(Findings=[{
            "SchemaVersion": "2018-10-08", "Id": f"{account}-{region}-{n}",
            "ProductArn": f"arn:aws:securityhub:{region}::product/aws/securityhub",
            "GeneratorId": "bench", "AwsAccountId": account, "Types": ["Software and Configuration Checks"],
            "CreatedAt": "2026-12-03T10:00:00Z", "UpdatedAt": "2026-12-03T10:00:00Z",
            "Severity": {"Label": "HIGH"}, "Title": "bench", "Description": "bench",
            "ProductName": "Security Hub", "RecordState": "ACTIVE", "Workflow": {"Status": "NEW"},
            "Resources": [{"Type": "AwsS3Bucket", "Id": f"arn:aws:s3:::b{n}"}],
        } for n in range(5)])
        boto3.client("wafv2", region_name=region, **creds).create_web_acl(
            Name="bench", Scope="REGIONAL", DefaultAction={"Allow": {}}, Rules=[],
            VisibilityConfig={"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True, "MetricName": "bench"})
print("\n".join(ids))
