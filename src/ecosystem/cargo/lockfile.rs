//! Parser for the `lockfile` source format (not implemented yet).

use crate::parse::{ParseContext, ParseError, ParsedSource, unsupported};

/// Parses the source into a dependency graph.
pub fn parse(ctx: &ParseContext<'_>) -> Result<ParsedSource, ParseError> {
    unsupported(ctx)
}
