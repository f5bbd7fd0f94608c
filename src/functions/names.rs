//! The file names discovery hands to the functions module: a leaf, so
//! that discovery depends on nothing else of it.

/// SAM templates discovery reads.
pub fn is_sam_template(name: &str) -> bool {
    matches!(name, "template.yaml" | "template.yml" | "template.json")
}

/// A Serverless Framework service file that is a program (`serverless.ts`,
/// `.js`): never run, only the state `serverless package` leaves is read.
pub fn is_serverless_program(name: &str) -> bool {
    matches!(
        name,
        "serverless.ts" | "serverless.js" | "serverless.cjs" | "serverless.mjs"
    )
}

/// A Serverless Framework service file (data or program).
pub fn is_serverless_service(name: &str) -> bool {
    matches!(
        name,
        "serverless.yml" | "serverless.yaml" | "serverless.json"
    ) || is_serverless_program(name)
}

/// True for a file name discovery hands to the functions module:
/// `template.yaml` (`.yml`, `.json`), `serverless.yml` (`.yaml`, `.json`,
/// `.ts`, `.js`), a CDK `*.template.json`, a Terraform `*.tf`.
pub fn is_infrastructure_name(name: &str) -> bool {
    is_sam_template(name)
        || is_serverless_service(name)
        || name.ends_with(".template.json")
        || (name.ends_with(".tf") && name.len() > 3)
}
