//! Operations tools: the state of collection and imports.

use crate::ToolDef;

pub(crate) fn tools() -> Vec<ToolDef> {
    Vec::new()
}
