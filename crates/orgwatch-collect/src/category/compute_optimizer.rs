//! `compute_optimizer`: the region's EC2 instance, EBS volume and Lambda function
//! right-sizing recommendations, each with its first (best-ranked) option, as the sender
//! reads them. An account not opted in to Compute Optimizer answers OptInRequiredException:
//! `not enabled`.

use crate::aws_call;
use crate::call::{next_token, CallError};
use aws_sdk_computeoptimizer::types::{
    InstanceRecommendation, LambdaFunctionMetricName, LambdaFunctionMetricStatistic,
    LambdaFunctionRecommendation, MetricName, MetricStatistic, SavingsOpportunity,
    VolumeRecommendation,
};
use orgwatch_model::category::compute_optimizer::ComputeOptimizerRecommendation;

/// One resource type's recommendations, or why there are none.
pub type Listing = Result<Vec<ComputeOptimizerRecommendation>, CallError>;

/// Reads the three kinds of recommendation (every page), each on its own.
pub async fn collect(client: &aws_sdk_computeoptimizer::Client) -> Vec<Listing> {
    let (instances, volumes, functions) =
        tokio::join!(instances(client), volumes(client), functions(client));
    vec![instances, volumes, functions]
}

async fn instances(client: &aws_sdk_computeoptimizer::Client) -> Listing {
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page = aws_call!(
            "compute-optimizer:GetEC2InstanceRecommendations",
            client
                .get_ec2_instance_recommendations()
                .set_next_token(next.take())
        )?;
        out.extend(page.instance_recommendations().iter().map(instance));
        next = next_token(page.next_token());
        if next.is_none() {
            return Ok(out);
        }
    }
}

async fn volumes(client: &aws_sdk_computeoptimizer::Client) -> Listing {
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page = aws_call!(
            "compute-optimizer:GetEBSVolumeRecommendations",
            client
                .get_ebs_volume_recommendations()
                .set_next_token(next.take())
        )?;
        out.extend(page.volume_recommendations().iter().map(volume));
        next = next_token(page.next_token());
        if next.is_none() {
            return Ok(out);
        }
    }
}

async fn functions(client: &aws_sdk_computeoptimizer::Client) -> Listing {
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page = aws_call!(
            "compute-optimizer:GetLambdaFunctionRecommendations",
            client
                .get_lambda_function_recommendations()
                .set_next_token(next.take())
        )?;
        out.extend(page.lambda_function_recommendations().iter().map(function));
        next = next_token(page.next_token());
        if next.is_none() {
            return Ok(out);
        }
    }
}

/// The percentage and the monthly amount of an option's savings.
fn savings(s: Option<&SavingsOpportunity>) -> (Option<f64>, Option<f64>) {
    (
        s.map(SavingsOpportunity::savings_opportunity_percentage),
        s.and_then(|s| s.estimated_monthly_savings())
            .map(|e| e.value()),
    )
}

/// The last segment of an ARN (`.../vol-0abc` -> `vol-0abc`, `...:function:api` -> `api`).
fn arn_name(arn: Option<&str>) -> Option<String> {
    arn.and_then(|a| a.rsplit(['/', ':']).next())
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
}

/// The mean of the values, `None` when there is none.
fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0u32), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / f64::from(n))
}

/// The largest of the values, `None` when there is none.
fn max(values: impl Iterator<Item = f64>) -> Option<f64> {
    values.fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))))
}

fn instance(r: &InstanceRecommendation) -> ComputeOptimizerRecommendation {
    let best = r.recommendation_options().iter().min_by_key(|o| o.rank());
    let (pct, usd) = savings(best.and_then(|o| o.savings_opportunity()));
    let metric = |name: MetricName| {
        r.utilization_metrics()
            .iter()
            .filter(move |m| {
                m.name() == Some(&name) && m.statistic() == Some(&MetricStatistic::Maximum)
            })
            .map(|m| m.value())
    };
    ComputeOptimizerRecommendation {
        account_id: r.account_id().map(str::to_owned),
        resource_type: Some("EC2".to_owned()),
        resource_arn: r.instance_arn().map(str::to_owned),
        resource_name: r
            .instance_name()
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .or_else(|| arn_name(r.instance_arn())),
        finding: r.finding().map(|f| f.as_str().to_owned()),
        current_instance_type: r.current_instance_type().map(str::to_owned),
        recommended_instance_type: best.and_then(|o| o.instance_type()).map(str::to_owned),
        savings_opportunity_percentage: pct,
        estimated_monthly_savings_usd: usd,
        performance_risk: best.map(|o| o.performance_risk()),
        cpu_utilization_max: max(metric(MetricName::Cpu)),
        memory_utilization_avg: mean(metric(MetricName::Memory)),
        ..ComputeOptimizerRecommendation::default()
    }
}

fn volume(r: &VolumeRecommendation) -> ComputeOptimizerRecommendation {
    let best = r
        .volume_recommendation_options()
        .iter()
        .min_by_key(|o| o.rank());
    let (pct, usd) = savings(best.and_then(|o| o.savings_opportunity()));
    let current = r.current_configuration();
    let recommended = best.and_then(|o| o.configuration());
    ComputeOptimizerRecommendation {
        account_id: r.account_id().map(str::to_owned),
        resource_type: Some("EBS".to_owned()),
        resource_arn: r.volume_arn().map(str::to_owned),
        resource_name: arn_name(r.volume_arn()),
        finding: r.finding().map(|f| f.as_str().to_owned()),
        current_volume_type: current.and_then(|c| c.volume_type()).map(str::to_owned),
        recommended_volume_type: recommended.and_then(|c| c.volume_type()).map(str::to_owned),
        current_volume_size: current.map(|c| f64::from(c.volume_size())),
        recommended_volume_size: recommended.map(|c| f64::from(c.volume_size())),
        savings_opportunity_percentage: pct,
        estimated_monthly_savings_usd: usd,
        performance_risk: best.map(|o| o.performance_risk()),
        ..ComputeOptimizerRecommendation::default()
    }
}

fn function(r: &LambdaFunctionRecommendation) -> ComputeOptimizerRecommendation {
    let best = r
        .memory_size_recommendation_options()
        .iter()
        .min_by_key(|o| o.rank());
    let (pct, usd) = savings(best.and_then(|o| o.savings_opportunity()));
    let memory = r
        .utilization_metrics()
        .iter()
        .filter(|m| {
            m.name() == Some(&LambdaFunctionMetricName::Memory)
                && m.statistic() == Some(&LambdaFunctionMetricStatistic::Maximum)
        })
        .map(|m| m.value());
    ComputeOptimizerRecommendation {
        account_id: r.account_id().map(str::to_owned),
        resource_type: Some("Lambda".to_owned()),
        resource_arn: r.function_arn().map(str::to_owned),
        resource_name: arn_name(r.function_arn()),
        finding: r.finding().map(|f| f.as_str().to_owned()),
        current_memory_size: Some(f64::from(r.current_memory_size())),
        recommended_memory_size: best.map(|o| f64::from(o.memory_size())),
        savings_opportunity_percentage: pct,
        estimated_monthly_savings_usd: usd,
        memory_utilization_avg: mean(memory),
        ..ComputeOptimizerRecommendation::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_computeoptimizer::types::{
        EstimatedMonthlySavings, Finding, InstanceRecommendationOption, UtilizationMetric,
        VolumeConfiguration, VolumeRecommendationOption,
    };

    fn saving(pct: f64, usd: f64) -> SavingsOpportunity {
        SavingsOpportunity::builder()
            .savings_opportunity_percentage(pct)
            .estimated_monthly_savings(EstimatedMonthlySavings::builder().value(usd).build())
            .build()
    }

    fn metric(name: MetricName, value: f64) -> UtilizationMetric {
        UtilizationMetric::builder()
            .name(name)
            .statistic(MetricStatistic::Maximum)
            .value(value)
            .build()
    }

    #[test]
    fn an_instance_takes_its_best_ranked_option_and_the_senders_utilisation_figures() {
        let option = |rank, kind: &str, pct| {
            InstanceRecommendationOption::builder()
                .rank(rank)
                .instance_type(kind)
                .performance_risk(1.0)
                .savings_opportunity(saving(pct, pct * 2.0))
                .build()
        };
        let r = InstanceRecommendation::builder()
            .instance_arn("arn:aws:ec2:us-east-1:210987654321:instance/i-0abc")
            .account_id("210987654321")
            .current_instance_type("m5.xlarge")
            .finding(Finding::OverProvisioned)
            // Listed worst first: the option of rank 1 is the one taken.
            .recommendation_options(option(2, "t3.large", 30.0))
            .recommendation_options(option(1, "m5.large", 45.5))
            .utilization_metrics(metric(MetricName::Cpu, 12.0))
            .utilization_metrics(metric(MetricName::Cpu, 31.0))
            .utilization_metrics(metric(MetricName::Memory, 40.0))
            .utilization_metrics(metric(MetricName::Memory, 60.0))
            .build();
        let got = instance(&r);
        assert_eq!(got.resource_name.as_deref(), Some("i-0abc"));
        assert_eq!(got.finding.as_deref(), Some("Overprovisioned"));
        assert_eq!(got.recommended_instance_type.as_deref(), Some("m5.large"));
        assert_eq!(
            (
                got.savings_opportunity_percentage,
                got.estimated_monthly_savings_usd
            ),
            (Some(45.5), Some(91.0))
        );
        assert_eq!(got.cpu_utilization_max, Some(31.0));
        assert_eq!(got.memory_utilization_avg, Some(50.0));
        assert_eq!(got.migration_effort, None);
    }

    #[test]
    fn a_volume_compares_its_current_and_recommended_configuration() {
        let config = |kind: &str, size| {
            VolumeConfiguration::builder()
                .volume_type(kind)
                .volume_size(size)
                .build()
        };
        let r = VolumeRecommendation::builder()
            .volume_arn("arn:aws:ec2:us-east-1:210987654321:volume/vol-0def")
            .current_configuration(config("gp2", 500))
            .volume_recommendation_options(
                VolumeRecommendationOption::builder()
                    .rank(1)
                    .configuration(config("gp3", 500))
                    .savings_opportunity(saving(20.0, 10.0))
                    .build(),
            )
            .build();
        let got = volume(&r);
        assert_eq!(got.resource_name.as_deref(), Some("vol-0def"));
        assert_eq!(
            (
                got.current_volume_type.as_deref(),
                got.recommended_volume_type.as_deref()
            ),
            (Some("gp2"), Some("gp3"))
        );
        assert_eq!(got.recommended_volume_size, Some(500.0));
        // No option: nothing recommended, not zero.
        let bare = volume(&VolumeRecommendation::builder().build());
        assert_eq!(
            (
                bare.recommended_volume_size,
                bare.savings_opportunity_percentage
            ),
            (None, None)
        );
    }

    #[test]
    fn a_function_is_named_after_its_arn() {
        assert_eq!(
            arn_name(Some("arn:aws:lambda:us-east-1:210987654321:function:api")).as_deref(),
            Some("api")
        );
        let got = function(
            &LambdaFunctionRecommendation::builder()
                .function_arn("arn:aws:lambda:us-east-1:210987654321:function:api")
                .current_memory_size(1024)
                .build(),
        );
        assert_eq!(
            (got.current_memory_size, got.recommended_memory_size),
            (Some(1024.0), None)
        );
    }
}
