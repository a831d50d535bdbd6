//! `security.certificate_manager`: every ACM certificate of the region, of every key type
//! (ListCertificates alone lists RSA-2048 ones only), with DescribeCertificate.

use super::Collected;
use crate::aws_call;
use crate::call::{is_not_found, CallError};
use aws_sdk_acm::types::{Filters, KeyAlgorithm};
use orgwatch_model::category::security::Certificate;

/// Reads the region's certificates.
pub async fn collect(
    client: &aws_sdk_acm::Client,
) -> Result<Collected<Vec<Certificate>>, CallError> {
    let every_key_type = Filters::builder()
        .set_key_types(Some(
            KeyAlgorithm::values()
                .iter()
                .map(|k| KeyAlgorithm::from(*k))
                .collect(),
        ))
        .build();
    let mut arns = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page = aws_call!(
            "acm:ListCertificates",
            client
                .list_certificates()
                .includes(every_key_type.clone())
                .set_next_token(next.take())
        )?;
        arns.extend(
            page.certificate_summary_list()
                .iter()
                .filter_map(|c| c.certificate_arn().map(str::to_owned)),
        );
        next = page.next_token().map(str::to_owned);
        if next.is_none() {
            break;
        }
    }
    let mut out = Vec::with_capacity(arns.len());
    for arn in arns {
        let described = match aws_call!(
            "acm:DescribeCertificate",
            client.describe_certificate().certificate_arn(&arn)
        ) {
            Ok(d) => d,
            Err(e) if is_not_found(&e) => continue,
            Err(e) => return Err(e),
        };
        let Some(c) = described.certificate() else {
            continue;
        };
        let names =
            |v: Vec<String>| serde_json::Value::Array(v.into_iter().map(Into::into).collect());
        out.push(Certificate {
            arn: c.certificate_arn().map(str::to_owned),
            domain_name: c.domain_name().map(str::to_owned),
            subject_alternative_names: c.subject_alternative_names().to_vec(),
            status: c.status().map(|s| s.as_str().to_owned()),
            cert_type: c.r#type().map(|t| t.as_str().to_owned()),
            key_algorithm: c.key_algorithm().map(|k| k.as_str().to_owned()),
            signature_algorithm: c.signature_algorithm().map(str::to_owned),
            created_at: crate::sdk_time::opt(c.created_at()),
            issued_at: crate::sdk_time::opt(c.issued_at()),
            not_before: crate::sdk_time::opt(c.not_before()),
            not_after: crate::sdk_time::opt(c.not_after()),
            renewal_eligibility: c.renewal_eligibility().map(|r| r.as_str().to_owned()),
            key_usages: names(
                c.key_usages()
                    .iter()
                    .filter_map(|k| k.name().map(|n| n.as_str().to_owned()))
                    .collect(),
            ),
            extended_key_usages: names(
                c.extended_key_usages()
                    .iter()
                    .filter_map(|k| k.name().map(|n| n.as_str().to_owned()))
                    .collect(),
            ),
        });
    }
    Ok(Collected::clean(out))
}
