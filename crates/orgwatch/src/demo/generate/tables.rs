//! The static data the organisation is drawn from: account templates, services, platforms and
//! their applications, WAF rules, Config rules, Security Hub controls, CVEs, GuardDuty finding
//! types, Trusted Advisor checks, Health events, support cases and collector errors.

use super::org::Kind;
use orgwatch_model::Category;

// ---------------------------------------------------------------------------- accounts

/// One of the first accounts: its name, its place in the organisation and what it runs.
pub(super) struct Template {
    pub(super) name: &'static str,
    pub(super) ou: &'static str,
    pub(super) environment: &'static str,
    pub(super) kind: Kind,
    pub(super) products: &'static str,
    pub(super) category: &'static str,
}

/// A [`Template`], short so that [`TEMPLATES`] reads as a table.
const fn t(
    name: &'static str,
    ou: &'static str,
    environment: &'static str,
    kind: Kind,
    products: &'static str,
    category: &'static str,
) -> Template {
    Template {
        name,
        ou,
        environment,
        kind,
        products,
        category,
    }
}

pub(super) const PROD: &str = "PRODUCTION";
const W_PROD: &str = "Workloads/Prod";
const W_NONPROD: &str = "Workloads/NonProd";

/// The first 25 accounts; larger organisations repeat them with a numeric suffix. Interleaved
/// so that a small organisation still has prod, non-prod, security and sandbox accounts.
#[rustfmt::skip]
pub(super) const TEMPLATES: [Template; 25] = [
    t("payments-prod", W_PROD, PROD, Kind::Workload, "Payments Gateway, Fraud Detection", "Internet"),
    t("security-tooling", "Security", PROD, Kind::Security, "Security Tooling", "Intranet"),
    t("orders-prod", W_PROD, PROD, Kind::Workload, "Orders Platform", "Internet"),
    t("payments-staging", W_NONPROD, "STAGING", Kind::Workload, "Payments Gateway", "Both"),
    t("network-hub", "Infrastructure", PROD, Kind::Infrastructure, "Network Core", "Both"),
    t("orders-dev", W_NONPROD, "DEVELOPMENT", Kind::Workload, "Orders Platform", "Intranet"),
    t("identity-prod", W_PROD, PROD, Kind::Workload, "Customer Identity", "Internet"),
    t("log-archive", "Security", PROD, Kind::Security, "Log Archive", "Intranet"),
    t("identity-uat", W_NONPROD, "UAT", Kind::Workload, "Customer Identity", "Both"),
    t("analytics-prod", W_PROD, PROD, Kind::Workload, "Analytics Lake, Reporting", "Intranet"),
    t("sandbox-data-science", "Sandbox", "DEVELOPMENT", Kind::Sandbox, "Experiments", "Intranet"),
    t("orders-test", W_NONPROD, "TEST", Kind::Workload, "Orders Platform", "Intranet"),
    t("shared-services", "Infrastructure", PROD, Kind::Infrastructure, "Shared Services, CI/CD", "Intranet"),
    t("search-prod", W_PROD, PROD, Kind::Workload, "Product Search", "Internet"),
    t("analytics-test", W_NONPROD, "TEST", Kind::Workload, "Analytics Lake", "Intranet"),
    t("mobile-api-prod", W_PROD, PROD, Kind::Workload, "Mobile Backend, Notifications", "Internet"),
    t("search-staging", W_NONPROD, "STAGING", Kind::Workload, "Product Search", "Both"),
    t("payments-uat", W_NONPROD, "UAT", Kind::Workload, "Payments Gateway, Fraud Detection", "Both"),
    t("sandbox-platform", "Sandbox", "DEVELOPMENT", Kind::Sandbox, "Experiments", "Intranet"),
    t("notifications-prod", W_PROD, PROD, Kind::Workload, "Notifications", "Internet"),
    t("mobile-api-dev", W_NONPROD, "DEVELOPMENT", Kind::Workload, "Mobile Backend", "Intranet"),
    t("data-lake-prod", W_PROD, PROD, Kind::Workload, "Analytics Lake", "Intranet"),
    t("audit", "Security", PROD, Kind::Security, "Security Tooling, Compliance Reporting", "Intranet"),
    t("notifications-dev", W_NONPROD, "DEVELOPMENT", Kind::Workload, "Notifications", "Intranet"),
    t("sandbox-ml", "Sandbox", "DEVELOPMENT", Kind::Sandbox, "Experiments, ML Research", "Intranet"),
];

/// AWS services with their typical share of an account's bill.
pub(super) const SERVICES: [(&str, f64); 30] = [
    ("Amazon Elastic Compute Cloud - Compute", 30.0),
    ("Amazon Relational Database Service", 14.0),
    ("EC2 - Other", 7.0),
    ("Amazon Simple Storage Service", 5.0),
    ("Elastic Load Balancing", 3.0),
    ("AmazonCloudWatch", 2.5),
    ("Amazon GuardDuty", 1.2),
    ("AWS Security Hub", 0.8),
    ("AWS Key Management Service", 0.4),
    ("Amazon Inspector", 0.6),
    ("AWS Config", 1.0),
    ("AWS CloudTrail", 0.5),
    ("AWS Lambda", 2.0),
    ("Amazon Virtual Private Cloud", 3.0),
    ("Amazon Route 53", 0.5),
    ("AWS Network Firewall", 4.0),
    ("Amazon SageMaker", 8.0),
    ("Amazon DynamoDB", 4.0),
    ("Amazon CloudFront", 3.0),
    ("Amazon ElastiCache", 4.0),
    ("Amazon OpenSearch Service", 5.0),
    ("Amazon Elastic Container Service for Kubernetes", 3.0),
    ("Amazon Elastic Container Service", 2.0),
    ("Amazon Simple Queue Service", 0.5),
    ("Amazon Simple Notification Service", 0.3),
    ("AWS Secrets Manager", 0.2),
    ("AWS WAF", 0.6),
    ("Amazon Kinesis", 2.0),
    ("AWS Glue", 2.0),
    ("AWS Backup", 1.5),
];

// ---------------------------------------------------------------------------- instances

pub(super) struct Platform {
    pub(super) name: &'static str,
    pub(super) kind: &'static str,
    pub(super) version: &'static str,
    pub(super) windows: bool,
}

pub(super) const PLATFORMS: [(Platform, f64); 4] = [
    (
        Platform {
            name: "Amazon Linux",
            kind: "Linux",
            version: "2023",
            windows: false,
        },
        5.0,
    ),
    (
        Platform {
            name: "Amazon Linux",
            kind: "Linux",
            version: "2",
            windows: false,
        },
        2.0,
    ),
    (
        Platform {
            name: "Ubuntu",
            kind: "Linux",
            version: "22.04",
            windows: false,
        },
        2.0,
    ),
    (
        Platform {
            name: "Microsoft Windows Server 2022 Datacenter",
            kind: "Windows",
            version: "10.0.20348",
            windows: true,
        },
        1.5,
    ),
];

/// (type, on-demand $/hour)
pub(super) const PROD_TYPES: [(&str, f64); 8] = [
    ("m5.large", 0.096),
    ("m5.xlarge", 0.192),
    ("m5.2xlarge", 0.384),
    ("c6i.xlarge", 0.17),
    ("r6i.large", 0.126),
    ("m7g.large", 0.0816),
    ("m7g.xlarge", 0.1632),
    ("c7g.large", 0.0725),
];
const NONPROD_TYPES: [(&str, f64); 4] = [
    ("t3.small", 0.0208),
    ("t3.medium", 0.0416),
    ("t3.large", 0.0832),
    ("m5.large", 0.096),
];

/// The instance types (and their $/hour) of a production or a non-production account.
pub(super) fn instance_types(prod: bool) -> &'static [(&'static str, f64)] {
    if prod {
        &PROD_TYPES
    } else {
        &NONPROD_TYPES
    }
}

/// (name, publisher, application_type)
pub(super) const LINUX_APPS: [(&str, &str, &str); 16] = [
    ("nginx", "Amazon Linux", "System Environment/Daemons"),
    ("httpd", "Amazon Linux", "System Environment/Daemons"),
    ("docker", "Amazon Linux", "System Environment/Base"),
    ("containerd", "Amazon Linux", "System Environment/Base"),
    (
        "java-17-amazon-corretto",
        "Amazon.com",
        "Development/Languages",
    ),
    ("nodejs", "Amazon Linux", "Development/Languages"),
    ("python3", "Amazon Linux", "Development/Languages"),
    ("postgresql15", "Amazon Linux", "Applications/Databases"),
    ("redis6", "Amazon Linux", "Applications/Databases"),
    (
        "amazon-cloudwatch-agent",
        "Amazon.com",
        "System Environment/Daemons",
    ),
    ("git", "Amazon Linux", "Development/Tools"),
    ("php8.2", "Amazon Linux", "Development/Languages"),
    ("tomcat9", "Amazon Linux", "System Environment/Daemons"),
    ("haproxy", "Amazon Linux", "System Environment/Daemons"),
    (
        "datadog-agent",
        "Datadog, Inc.",
        "System Environment/Daemons",
    ),
    (
        "falcon-sensor",
        "CrowdStrike, Inc.",
        "System Environment/Daemons",
    ),
];
pub(super) const WINDOWS_APPS: [(&str, &str, &str); 9] = [
    ("Microsoft Edge", "Microsoft Corporation", ""),
    ("Microsoft .NET Framework 4.8", "Microsoft Corporation", ""),
    ("Microsoft SQL Server 2019", "Microsoft Corporation", ""),
    (
        "AWS Tools for Windows",
        "Amazon Web Services Developer Relations",
        "",
    ),
    ("Notepad++ (64-bit x64)", "Notepad++ Team", ""),
    ("7-Zip 23.01 (x64)", "Igor Pavlov", ""),
    ("Google Chrome", "Google LLC", ""),
    (
        "Microsoft Visual C++ 2019 X64 Minimum Runtime",
        "Microsoft Corporation",
        "",
    ),
    ("Amazon CloudWatch Agent", "Amazon.com, Inc.", ""),
];

pub(super) const IAM_USERS: [&str; 5] = [
    "ci-deployer",
    "terraform",
    "backup-operator",
    "reporting-bot",
    "legacy-admin",
];

// ---------------------------------------------------------------------------- WAF and Config

pub(super) struct RuleTemplate {
    pub(super) name: &'static str,
    pub(super) statement: &'static str,
    pub(super) capacity: i64,
    pub(super) action: &'static str,
}

pub(super) const WAF_RULES: [RuleTemplate; 14] = [
    RuleTemplate {
        name: "AWS-AWSManagedRulesCommonRuleSet",
        statement: "ManagedRuleGroupStatement",
        capacity: 700,
        action: "",
    },
    RuleTemplate {
        name: "AWS-AWSManagedRulesKnownBadInputsRuleSet",
        statement: "ManagedRuleGroupStatement",
        capacity: 200,
        action: "",
    },
    RuleTemplate {
        name: "AWS-AWSManagedRulesSQLiRuleSet",
        statement: "ManagedRuleGroupStatement",
        capacity: 200,
        action: "",
    },
    RuleTemplate {
        name: "AWS-AWSManagedRulesAmazonIpReputationList",
        statement: "ManagedRuleGroupStatement",
        capacity: 25,
        action: "",
    },
    RuleTemplate {
        name: "AWS-AWSManagedRulesBotControlRuleSet",
        statement: "ManagedRuleGroupStatement",
        capacity: 50,
        action: "",
    },
    RuleTemplate {
        name: "F5-OWASP_Managed",
        statement: "ManagedRuleGroupStatement",
        capacity: 1000,
        action: "",
    },
    RuleTemplate {
        name: "RateLimit-2000",
        statement: "RateBasedStatement",
        capacity: 2,
        action: "Block",
    },
    RuleTemplate {
        name: "GeoBlock-HighRisk",
        statement: "GeoMatchStatement",
        capacity: 1,
        action: "Block",
    },
    RuleTemplate {
        name: "AllowOfficeIPs",
        statement: "IPSetReferenceStatement",
        capacity: 1,
        action: "Allow",
    },
    RuleTemplate {
        name: "XssBodyInspection",
        statement: "XssMatchStatement",
        capacity: 40,
        action: "Block",
    },
    RuleTemplate {
        name: "SqliQueryString",
        statement: "SqliMatchStatement",
        capacity: 20,
        action: "Block",
    },
    RuleTemplate {
        name: "BlockAdminPath",
        statement: "ByteMatchStatement",
        capacity: 9,
        action: "Block",
    },
    RuleTemplate {
        name: "RequireApiKeyHeader",
        statement: "ByteMatchStatement",
        capacity: 9,
        action: "Block",
    },
    RuleTemplate {
        name: "BlockBadUserAgents",
        statement: "RegexPatternSetReferenceStatement",
        capacity: 25,
        action: "Count",
    },
];

#[derive(Clone, Copy)]
pub(super) enum Target {
    Buckets,
    Volumes,
    SecurityGroups,
    Account,
    Instances,
    Databases,
    Vpcs,
    Functions,
    Users,
    Keys,
}

/// (rule, what it evaluates, resource type, annotation)
pub(super) const CONFIG_RULES: [(&str, Target, &str, Option<&str>); 18] = [
    (
        "s3-bucket-public-read-prohibited",
        Target::Buckets,
        "AWS::S3::Bucket",
        None,
    ),
    (
        "encrypted-volumes",
        Target::Volumes,
        "AWS::EC2::Volume",
        None,
    ),
    (
        "restricted-ssh",
        Target::SecurityGroups,
        "AWS::EC2::SecurityGroup",
        None,
    ),
    (
        "iam-password-policy",
        Target::Account,
        "AWS::::Account",
        Some("The password policy does not require a minimum length of 14 characters."),
    ),
    (
        "s3-bucket-ssl-requests-only",
        Target::Buckets,
        "AWS::S3::Bucket",
        None,
    ),
    (
        "s3-bucket-logging-enabled",
        Target::Buckets,
        "AWS::S3::Bucket",
        None,
    ),
    (
        "vpc-sg-open-only-to-authorized-ports",
        Target::SecurityGroups,
        "AWS::EC2::SecurityGroup",
        None,
    ),
    (
        "root-account-mfa-enabled",
        Target::Account,
        "AWS::::Account",
        None,
    ),
    (
        "cloudtrail-enabled",
        Target::Account,
        "AWS::::Account",
        None,
    ),
    (
        "ec2-instance-managed-by-systems-manager",
        Target::Instances,
        "AWS::EC2::Instance",
        None,
    ),
    (
        "ec2-imdsv2-check",
        Target::Instances,
        "AWS::EC2::Instance",
        Some("HttpTokens is set to optional."),
    ),
    (
        "rds-storage-encrypted",
        Target::Databases,
        "AWS::RDS::DBInstance",
        None,
    ),
    (
        "rds-instance-public-access-check",
        Target::Databases,
        "AWS::RDS::DBInstance",
        None,
    ),
    ("vpc-flow-logs-enabled", Target::Vpcs, "AWS::EC2::VPC", None),
    (
        "lambda-function-public-access-prohibited",
        Target::Functions,
        "AWS::Lambda::Function",
        None,
    ),
    (
        "access-keys-rotated",
        Target::Users,
        "AWS::IAM::User",
        Some("Access key is older than 90 days."),
    ),
    (
        "iam-user-mfa-enabled",
        Target::Users,
        "AWS::IAM::User",
        None,
    ),
    (
        "cmk-backing-key-rotation-enabled",
        Target::Keys,
        "AWS::KMS::Key",
        None,
    ),
];

// ---------------------------------------------------------------------------- findings

/// A Security Hub control: id, title, severity, and what it checks.
pub(super) type Control = (&'static str, &'static str, &'static str, Target);

/// Security Hub controls and their weights: CRITICAL ones are the rarest.
#[rustfmt::skip]
pub(super) const CONTROLS: [(Control, f64); 20] = [
    (("IAM.6", "Hardware MFA should be enabled for the root user", "CRITICAL", Target::Account), 0.6),
    (("IAM.4", "IAM root user access key should not exist", "CRITICAL", Target::Account), 0.4),
    (("EC2.19", "Security groups should not allow unrestricted access to ports with high risk", "CRITICAL", Target::SecurityGroups), 0.8),
    (("RDS.2", "RDS DB Instances should prohibit public access, as determined by the PubliclyAccessible configuration", "CRITICAL", Target::Databases), 0.5),
    (("S3.8", "S3 general purpose buckets should block public access", "HIGH", Target::Buckets), 1.5),
    (("EC2.8", "EC2 instances should use Instance Metadata Service Version 2 (IMDSv2)", "HIGH", Target::Instances), 2.0),
    (("EC2.18", "Security groups should only allow unrestricted incoming traffic for authorized ports", "HIGH", Target::SecurityGroups), 1.5),
    (("CloudTrail.1", "CloudTrail should be enabled and configured with at least one multi-Region trail that includes read and write management events", "HIGH", Target::Account), 0.8),
    (("EC2.9", "Amazon EC2 instances should not have a public IPv4 address", "HIGH", Target::Instances), 1.5),
    (("EC2.2", "VPC default security groups should not allow inbound or outbound traffic", "HIGH", Target::SecurityGroups), 1.5),
    (("S3.5", "S3 general purpose buckets should require requests to use SSL", "MEDIUM", Target::Buckets), 2.5),
    (("KMS.4", "AWS KMS key rotation should be enabled", "MEDIUM", Target::Keys), 2.0),
    (("Lambda.2", "Lambda functions should use supported runtimes", "MEDIUM", Target::Functions), 2.0),
    (("SSM.1", "Amazon EC2 instances should be managed by AWS Systems Manager", "MEDIUM", Target::Instances), 2.0),
    (("EC2.6", "VPC flow logging should be enabled in all VPCs", "MEDIUM", Target::Vpcs), 2.0),
    (("IAM.3", "IAM users' access keys should be rotated every 90 days or less", "MEDIUM", Target::Users), 2.0),
    (("EC2.3", "Attached Amazon EBS volumes should be encrypted at-rest", "MEDIUM", Target::Volumes), 2.0),
    (("CloudTrail.5", "CloudTrail trails should be integrated with Amazon CloudWatch Logs", "LOW", Target::Account), 2.0),
    (("CloudTrail.4", "CloudTrail log file validation should be enabled", "LOW", Target::Account), 1.5),
    (("S3.13", "S3 general purpose buckets should have Lifecycle configurations", "LOW", Target::Buckets), 2.5),
];

/// (title, severity, description)
#[rustfmt::skip]
pub(super) const CVES: [(&str, &str, &str); 14] = [
    ("CVE-2024-3094 - xz-utils", "CRITICAL", "Malicious code was discovered in the upstream tarballs of xz, starting with version 5.6.0."),
    ("CVE-2021-44228 - log4j-core", "CRITICAL", "Apache Log4j2 JNDI features do not protect against attacker controlled LDAP and other JNDI related endpoints."),
    ("CVE-2023-38545 - curl", "CRITICAL", "This flaw makes curl overflow a heap based buffer in the SOCKS5 proxy handshake."),
    ("CVE-2024-6387 - openssh", "HIGH", "A signal handler race condition was found in OpenSSH's server (sshd) that may allow remote code execution."),
    ("CVE-2023-44487 - nghttp2", "HIGH", "The HTTP/2 protocol allows a denial of service because request cancellation can reset many streams quickly."),
    ("CVE-2024-21626 - runc", "HIGH", "runc leaks internal file descriptors, allowing a container escape."),
    ("CVE-2023-4863 - libwebp", "HIGH", "Heap buffer overflow in libwebp allows a remote attacker to perform an out of bounds memory write."),
    ("CVE-2022-0778 - openssl", "HIGH", "The BN_mod_sqrt() function can loop forever for non-prime moduli."),
    ("CVE-2024-2511 - openssl", "MEDIUM", "Unbounded memory growth with session handling in TLSv1.3."),
    ("CVE-2023-48795 - openssh", "MEDIUM", "The SSH transport protocol allows remote attackers to bypass integrity checks (Terrapin)."),
    ("CVE-2024-28182 - nghttp2", "MEDIUM", "nghttp2 keeps reading CONTINUATION frames, allowing a denial of service."),
    ("CVE-2022-40897 - setuptools", "MEDIUM", "Regular expression denial of service in package_index.py."),
    ("CVE-2023-28322 - curl", "LOW", "An information disclosure vulnerability exists in curl when doing HTTP(S) transfers."),
    ("Port 22 is reachable from an Internet Gateway - TCP", "MEDIUM", "On the instance, port range 22 - 22 is reachable from an Internet Gateway."),
];

/// (type, severity label, base numeric severity, title with {instance})
#[rustfmt::skip]
pub(super) const GUARDDUTY_TYPES: [(&str, &str, f64, &str); 9] = [
    ("Recon:EC2/PortProbeUnprotectedPort", "LOW", 2.0, "Unprotected port on EC2 instance {instance} is being probed."),
    ("UnauthorizedAccess:EC2/SSHBruteForce", "LOW", 2.0, "{instance} is being targeted by SSH brute force attacks."),
    ("Policy:IAMUser/RootCredentialUsage", "LOW", 2.0, "API GetCallerIdentity was invoked using root credentials from the network of {instance}."),
    ("UnauthorizedAccess:EC2/MaliciousIPCaller.Custom", "MEDIUM", 5.0, "{instance} is communicating with a disallowed IP address."),
    ("Discovery:S3/AnomalousBehavior", "MEDIUM", 5.0, "An API commonly used to discover S3 resources was invoked anomalously from {instance}."),
    ("CryptoCurrency:EC2/BitcoinTool.B!DNS", "HIGH", 8.0, "{instance} is querying a domain name that is associated with Bitcoin-related activity."),
    ("Backdoor:EC2/C&CActivity.B!DNS", "HIGH", 8.0, "{instance} is querying a domain name associated with a known command and control server."),
    ("UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS", "HIGH", 8.0, "Credentials created for the instance role of {instance} are being used from an external IP address."),
    ("AttackSequence:IAM/CompromisedCredentials", "CRITICAL", 9.0, "A sequence of actions consistent with compromised credentials was observed, starting from {instance}."),
];

// ---------------------------------------------------------------------------- other lists

/// (check, category, severity, recommendation, potential savings per flagged resource)
#[rustfmt::skip]
pub(super) const TA_CHECKS: [(&str, &str, &str, &str, f64); 10] = [
    ("Low Utilization Amazon EC2 Instances", "cost_optimizing", "warning", "<p>Checks the Amazon EC2 instances that were running at any time during the last 14 days and alerts you if the daily CPU utilization was 10% or less.</p>", 35.0),
    ("Underutilized Amazon EBS Volumes", "cost_optimizing", "warning", "<p>Checks Amazon EBS volume configurations and warns when volumes appear to be underused.</p>", 8.0),
    ("Idle Load Balancers", "cost_optimizing", "warning", "<p>Checks your load balancer configuration for load balancers that are not actively used.</p>", 16.0),
    ("Amazon RDS Idle DB Instances", "cost_optimizing", "warning", "<p>Checks the configuration of your Amazon RDS instances for any instances that appear to be idle.</p>", 60.0),
    ("Security Groups - Specific Ports Unrestricted", "security", "warning", "<p>Checks security groups for rules that allow unrestricted access (0.0.0.0/0) to specific ports.</p>", 0.0),
    ("Amazon S3 Bucket Permissions", "security", "error", "<p>Checks buckets in Amazon S3 that have open access permissions or allow access to any authenticated AWS user.</p>", 0.0),
    ("MFA on Root Account", "security", "error", "<p>Checks the root account and warns if multi-factor authentication (MFA) is not enabled.</p>", 0.0),
    ("Amazon EBS Snapshots", "fault_tolerance", "warning", "<p>Checks the age of the snapshots for your Amazon EBS volumes.</p>", 0.0),
    ("Service Limits", "service_limits", "warning", "<p>Checks for usage that is more than 80% of the service limit.</p>", 0.0),
    ("High Utilization Amazon EC2 Instances", "performance", "warning", "<p>Checks the Amazon EC2 instances that were running at any time during the last 14 days and alerts you if the daily CPU utilization was more than 90% on 4 or more days.</p>", 0.0),
];

pub(super) const PUBLIC_EVENTS: [(&str, &str); 6] = [
    ("EC2", "AWS_EC2_OPERATIONAL_ISSUE"),
    ("LAMBDA", "AWS_LAMBDA_OPERATIONAL_ISSUE"),
    ("S3", "AWS_S3_OPERATIONAL_ISSUE"),
    ("RDS", "AWS_RDS_OPERATIONAL_ISSUE"),
    ("CLOUDFRONT", "AWS_CLOUDFRONT_OPERATIONAL_ISSUE"),
    ("DYNAMODB", "AWS_DYNAMODB_OPERATIONAL_ISSUE"),
];

pub(super) const ACCOUNT_EVENTS: [(&str, &str, &str); 5] = [
    (
        "EC2",
        "AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED",
        "scheduledChange",
    ),
    ("RDS", "AWS_RDS_MAINTENANCE_SCHEDULED", "scheduledChange"),
    (
        "LAMBDA",
        "AWS_LAMBDA_RUNTIME_DEPRECATION_NOTICE",
        "accountNotification",
    ),
    ("ACM", "AWS_ACM_RENEWAL_STATE_CHANGE", "accountNotification"),
    ("EBS", "AWS_EBS_VOLUME_LOST", "issue"),
];

/// (subject, service code, category code)
pub(super) const SUPPORT_CASES: [(&str, &str, &str); 5] = [
    (
        "EC2 instance unreachable after patching",
        "amazon-elastic-compute-cloud-linux",
        "instance-issue",
    ),
    (
        "Request service quota increase for Lambda concurrent executions",
        "service-limit-increase",
        "service-limit-increase-lambda",
    ),
    (
        "RDS storage full, database in storage-full state",
        "amazon-relational-database-service-postgresql",
        "general-guidance",
    ),
    (
        "Unexpected charges for NAT Gateway data processing",
        "billing",
        "charges",
    ),
    (
        "CloudFront returning 502 errors from origin",
        "amazon-cloudfront",
        "performance",
    ),
];

// ---------------------------------------------------------------------------- failures

/// (category, message key, error text with {account} and {region} placeholders)
#[rustfmt::skip]
pub(super) const FAILURES: [(Category, &str, &str); 16] = [
    (Category::Security, "guard_duty", "An error occurred (AccessDeniedException) when calling the ListFindings operation: User: arn:aws:sts::{account}:assumed-role/A360-Sender-Role-{region}/A360-Sender is not authorized to perform: guardduty:ListFindings on resource: arn:aws:guardduty:{region}:{account}:detector/* because no identity-based policy allows the guardduty:ListFindings action"),
    (Category::Security, "inspector", "An error occurred (AccessDeniedException) when calling the ListFindings operation: Amazon Inspector is not enabled for account {account} in {region}."),
    (Category::Security, "kms", "An error occurred (ThrottlingException) when calling the GetKeyRotationStatus operation (reached max retries: 2): Rate exceeded"),
    (Category::Security, "security_hub", "An error occurred (InvalidAccessException) when calling the GetFindings operation: Account {account} is not subscribed to AWS Security Hub"),
    (Category::Security, "waf", "An error occurred (WAFInternalErrorException) when calling the ListWebACLs operation (reached max retries: 2): AWS WAF couldn't perform the operation because of a system problem. Retry your request."),
    (Category::Config, "config", "An error occurred (ThrottlingException) when calling the DescribeComplianceByConfigRule operation (reached max retries: 2): Rate exceeded"),
    (Category::Inventory, "inventory", "An error occurred (ThrottlingException) when calling the DescribeInstanceInformation operation (reached max retries: 2): Rate exceeded"),
    (Category::Cost, "cost_analysis", "An error occurred (LimitExceededException) when calling the GetCostAndUsage operation: Rate exceeded"),
    (Category::Service, "services_data", "An error occurred (DataUnavailableException) when calling the GetCostAndUsage operation: Data is not available. Please try to adjust the time period."),
    (Category::TrustedAdvisor, "trusted_advisor", "An error occurred (ThrottlingException) when calling the DescribeTrustedAdvisorCheckResult operation (reached max retries: 2): Rate exceeded"),
    (Category::Health, "health", "An error occurred (ThrottlingException) when calling the DescribeEvents operation (reached max retries: 2): Rate exceeded"),
    (Category::ComputeOptimizer, "compute_optimizer", "An error occurred (OptInRequiredException) when calling the GetEC2InstanceRecommendations operation: The account {account} is not opted in to AWS Compute Optimizer."),
    (Category::ServiceResources, "service_resources", "An error occurred (UnauthorizedOperation) when calling the DescribeVolumes operation: You are not authorized to perform this operation. User: arn:aws:sts::{account}:assumed-role/A360-Sender-Role-{region}/A360-Sender is not authorized to perform: ec2:DescribeVolumes"),
    (Category::ResilienceHub, "resilience_hub", "An error occurred (AccessDeniedException) when calling the ListApps operation: User is not authorized to perform: resiliencehub:ListApps"),
    (Category::RiSpSavings, "ri_sp_savings", "Error getting Savings Plans - An error occurred (AccessDeniedException) when calling the DescribeSavingsPlans operation: User: arn:aws:sts::{account}:assumed-role/A360-Sender-Role-{region}/A360-Sender is not authorized to perform: savingsplans:DescribeSavingsPlans"),
    (Category::SupportTickets, "support_tickets", "An error occurred (SubscriptionRequiredException) when calling the DescribeCases operation: AWS Premium Support Subscription is required to use this service."),
];
