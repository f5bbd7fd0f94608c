//! Reports: each module formats a finished result and does nothing else.

pub mod inventory;
pub mod json;
pub mod model;
pub mod table;
