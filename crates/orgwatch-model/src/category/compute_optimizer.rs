//! `compute_optimizer`: EC2, EBS and Lambda right-sizing recommendations.

use crate::lenient::record;

record! {
    /// One Compute Optimizer recommendation.
    pub struct ComputeOptimizerRecommendation {
        account_id: Option<String>,
        resource_type: Option<String>,
        resource_arn: Option<String>,
        resource_name: Option<String>,
        finding: Option<String>,
        current_instance_type: Option<String>,
        recommended_instance_type: Option<String>,
        current_memory_size: Option<f64>,
        recommended_memory_size: Option<f64>,
        current_volume_type: Option<String>,
        recommended_volume_type: Option<String>,
        current_volume_size: Option<f64>,
        recommended_volume_size: Option<f64>,
        savings_opportunity_percentage: Option<f64>,
        estimated_monthly_savings_usd: Option<f64>,
        performance_risk: Option<f64>,
        cpu_utilization_max: Option<f64>,
        memory_utilization_avg: Option<f64>,
        migration_effort: Option<String>,
    }
}
