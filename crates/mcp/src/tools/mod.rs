//! The tool definitions, by family.

pub(crate) mod history;
pub(crate) mod ops;
pub(crate) mod spotify;
