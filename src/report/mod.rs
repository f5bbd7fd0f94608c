//! Reports: each module formats a finished result and does nothing else.

pub mod cyclonedx;
pub mod inventory;
pub mod json;
pub mod markdown;
pub mod model;
pub mod sarif;
pub mod table;
