//! Reports: each module formats a finished result and does nothing else.

pub mod inventory;
