//! The CloudTrail side of the demo's services: for each Cost Explorer service name the
//! generator spends on, the `eventSource` its calls are logged under and a few of its APIs.

/// One API of a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Api {
    /// `eventSource`, e.g. `s3.amazonaws.com`.
    pub source: &'static str,
    /// `eventName`, e.g. `GetObject`.
    pub name: &'static str,
    /// `readOnly`.
    pub read_only: bool,
}

/// A service's CloudTrail source and APIs.
#[derive(Debug, Clone, Copy)]
pub struct Service {
    /// `eventSource`.
    pub source: &'static str,
    /// Logged in `us-east-1` whatever region the caller works in (IAM, Route 53, …).
    pub global: bool,
    /// Reading APIs (what dashboards, agents and people call most).
    pub reads: &'static [&'static str],
    /// Changing APIs (deployments, jobs).
    pub writes: &'static [&'static str],
}

impl Service {
    /// Its reading APIs.
    pub fn read_apis(&self) -> impl Iterator<Item = Api> + '_ {
        self.reads.iter().map(|name| Api {
            source: self.source,
            name,
            read_only: true,
        })
    }

    /// Its changing APIs.
    pub fn write_apis(&self) -> impl Iterator<Item = Api> + '_ {
        self.writes.iter().map(|name| Api {
            source: self.source,
            name,
            read_only: false,
        })
    }
}

const fn s(
    source: &'static str,
    global: bool,
    reads: &'static [&'static str],
    writes: &'static [&'static str],
) -> Service {
    Service {
        source,
        global,
        reads,
        writes,
    }
}

/// Console sign-ins (logged in `us-east-1`), as `ConsoleLogin` with its outcome.
pub const SIGNIN: Service = s("signin.amazonaws.com", true, &[], &["ConsoleLogin"]);

/// Whether `api` is a console sign-in (its record carries the outcome, not an error code).
pub fn is_sign_in(api: &Api) -> bool {
    api.source == SIGNIN.source && api.name == "ConsoleLogin"
}

/// The Security Token Service, which every principal calls now and then.
pub const STS: Service = s(
    "sts.amazonaws.com",
    false,
    &["GetCallerIdentity"],
    &["AssumeRole"],
);

/// The CloudTrail service of a Cost Explorer service name (the generator's `SERVICES`).
pub fn service(cost_name: &str) -> Option<Service> {
    Some(match cost_name {
        "Amazon Elastic Compute Cloud - Compute" => s(
            "ec2.amazonaws.com",
            false,
            &["DescribeInstances", "DescribeInstanceStatus"],
            &["RunInstances", "CreateTags"],
        ),
        "Amazon Relational Database Service" => s(
            "rds.amazonaws.com",
            false,
            &["DescribeDBInstances", "DescribeDBClusters"],
            &["CreateDBSnapshot"],
        ),
        "EC2 - Other" => s(
            "ec2.amazonaws.com",
            false,
            &["DescribeVolumes", "DescribeSnapshots"],
            &["CreateSnapshot"],
        ),
        "Amazon Simple Storage Service" => s(
            "s3.amazonaws.com",
            false,
            &["GetObject", "ListObjects", "GetBucketPolicy"],
            &["PutObject"],
        ),
        "Elastic Load Balancing" => s(
            "elasticloadbalancing.amazonaws.com",
            false,
            &["DescribeLoadBalancers", "DescribeTargetHealth"],
            &["RegisterTargets"],
        ),
        "AmazonCloudWatch" => s(
            "monitoring.amazonaws.com",
            false,
            &["GetMetricData", "DescribeAlarms"],
            &["PutMetricData"],
        ),
        "Amazon GuardDuty" => s(
            "guardduty.amazonaws.com",
            false,
            &["ListFindings", "GetFindings"],
            &["ArchiveFindings"],
        ),
        "AWS Security Hub" => s(
            "securityhub.amazonaws.com",
            false,
            &["GetFindings"],
            &["BatchImportFindings", "BatchUpdateFindings"],
        ),
        "AWS Key Management Service" => s(
            "kms.amazonaws.com",
            false,
            &["Decrypt", "DescribeKey"],
            &["GenerateDataKey"],
        ),
        "Amazon Inspector" => s(
            "inspector2.amazonaws.com",
            false,
            &["ListFindings", "ListCoverage"],
            &[],
        ),
        "AWS Config" => s(
            "config.amazonaws.com",
            false,
            &["DescribeConfigRules", "DescribeComplianceByConfigRule"],
            &["PutEvaluations"],
        ),
        "AWS CloudTrail" => s(
            "cloudtrail.amazonaws.com",
            false,
            &["DescribeTrails", "LookupEvents"],
            &[],
        ),
        "AWS Lambda" => s(
            "lambda.amazonaws.com",
            false,
            &["ListFunctions20150331", "GetFunction20150331v2"],
            &["UpdateFunctionCode20150331v2"],
        ),
        "Amazon Virtual Private Cloud" => s(
            "ec2.amazonaws.com",
            false,
            &["DescribeVpcs", "DescribeSecurityGroups", "DescribeSubnets"],
            &["AuthorizeSecurityGroupIngress"],
        ),
        "Amazon Route 53" => s(
            "route53.amazonaws.com",
            true,
            &["ListHostedZones", "ListResourceRecordSets"],
            &["ChangeResourceRecordSets"],
        ),
        "AWS Network Firewall" => s(
            "network-firewall.amazonaws.com",
            false,
            &["DescribeFirewall", "DescribeRuleGroup"],
            &["UpdateRuleGroup"],
        ),
        "Amazon SageMaker" => s(
            "sagemaker.amazonaws.com",
            false,
            &["ListTrainingJobs", "DescribeEndpoint"],
            &["CreateTrainingJob"],
        ),
        "Amazon DynamoDB" => s(
            "dynamodb.amazonaws.com",
            false,
            &["DescribeTable", "ListTables"],
            &["UpdateTable"],
        ),
        "Amazon CloudFront" => s(
            "cloudfront.amazonaws.com",
            true,
            &["ListDistributions", "GetDistribution"],
            &["CreateInvalidation"],
        ),
        "Amazon ElastiCache" => s(
            "elasticache.amazonaws.com",
            false,
            &["DescribeCacheClusters", "DescribeReplicationGroups"],
            &[],
        ),
        "Amazon OpenSearch Service" => s(
            "es.amazonaws.com",
            false,
            &["DescribeDomain", "ListDomainNames"],
            &[],
        ),
        "Amazon Elastic Container Service for Kubernetes" => s(
            "eks.amazonaws.com",
            false,
            &["DescribeCluster", "ListNodegroups"],
            &["UpdateNodegroupConfig"],
        ),
        "Amazon Elastic Container Service" => s(
            "ecs.amazonaws.com",
            false,
            &["DescribeServices", "ListTasks"],
            &["UpdateService"],
        ),
        "Amazon Simple Queue Service" => s(
            "sqs.amazonaws.com",
            false,
            &["GetQueueAttributes", "ListQueues"],
            &["SetQueueAttributes"],
        ),
        "Amazon Simple Notification Service" => s(
            "sns.amazonaws.com",
            false,
            &["ListTopics", "GetTopicAttributes"],
            &["Publish"],
        ),
        "AWS Secrets Manager" => s(
            "secretsmanager.amazonaws.com",
            false,
            &["GetSecretValue", "DescribeSecret"],
            &["PutSecretValue"],
        ),
        "AWS WAF" => s(
            "wafv2.amazonaws.com",
            false,
            &["GetWebACL", "ListWebACLs"],
            &["UpdateWebACL"],
        ),
        "Amazon Kinesis" => s(
            "kinesis.amazonaws.com",
            false,
            &["DescribeStream", "ListShards"],
            &["PutRecords"],
        ),
        "AWS Glue" => s(
            "glue.amazonaws.com",
            false,
            &["GetTables", "GetJobRuns"],
            &["StartJobRun"],
        ),
        "AWS Backup" => s(
            "backup.amazonaws.com",
            false,
            &["ListBackupJobs", "ListRecoveryPointsByBackupVault"],
            &["StartBackupJob"],
        ),
        _ => return None,
    })
}
