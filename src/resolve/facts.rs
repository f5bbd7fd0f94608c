//! What a resolution states in the reports (kept apart from the resolver
//! so that the parse and report models do not depend on it).

/// What a resolution of one source states in the report.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ResolutionFacts {
    /// The cutoff (RFC 3339).
    pub cutoff: String,
    /// `sha256:` digest of the registry metadata used, as visible at the
    /// cutoff.
    pub digest: String,
    /// Packages in the resolved tree.
    pub packages: usize,
    /// Declared dependencies left unresolved.
    pub unresolved: Vec<String>,
}
