//! One copy of each short text that listens repeat.

use rustc_hash::FxHashSet;
use spotify_history_core::PlayDetails;
use std::sync::Arc;

/// The platforms, countries and reasons to start and end that a parser's listens carry, one
/// shared copy of each: a history repeats a few dozen of them a million times. The database
/// side then binds every listen's texts without copying them, and reads a handful of strings
/// it has in its processor cache instead of a million the parser's thread just wrote (~5% of
/// the writer's time).
#[derive(Debug, Default)]
pub(crate) struct SharedTexts(FxHashSet<Arc<str>>);

impl SharedTexts {
    /// Distinct texts kept at most: real histories have hundreds of platforms at most.
    const MAX: usize = 10_000;

    /// Replaces each text of `details` with its shared copy.
    pub(crate) fn share(&mut self, details: &mut PlayDetails) {
        for text in details.texts_mut().into_iter().flatten() {
            match self.0.get(text) {
                Some(shared) => *text = Arc::clone(shared),
                None if self.0.len() < Self::MAX => {
                    self.0.insert(Arc::clone(text));
                }
                None => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_texts_end_up_as_one_copy() {
        let details = |platform: &str| PlayDetails {
            platform: Some(platform.into()),
            reason_end: Some("trackdone".into()),
            ..PlayDetails::default()
        };
        let mut texts = SharedTexts::default();
        let (mut first, mut second) = (details("android"), details("android"));
        texts.share(&mut first);
        texts.share(&mut second);
        assert_eq!(first, details("android"));
        assert!(Arc::ptr_eq(
            first.platform.as_ref().unwrap(),
            second.platform.as_ref().unwrap()
        ));
        assert!(Arc::ptr_eq(
            first.reason_end.as_ref().unwrap(),
            second.reason_end.as_ref().unwrap()
        ));
        let mut other = details("ios");
        texts.share(&mut other);
        assert_eq!(other.platform.as_deref(), Some("ios"));
    }
}
