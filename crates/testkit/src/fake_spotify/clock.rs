//! Simulated time: tokens expire and plays become visible by this clock, not the wall clock.

use jiff::{SignedDuration, Timestamp};
use std::time::Instant;

/// The fake's notion of "now". Frozen by default so tests are deterministic; it can be set to
/// follow the wall clock (for manual runs of the `fake-spotify` binary).
#[derive(Debug, Clone)]
pub(crate) struct Clock {
    at: Timestamp,
    /// When set, `now()` moves on with real time elapsed since this instant.
    running_since: Option<Instant>,
}

impl Clock {
    /// A frozen clock at the wall-clock time, truncated to whole seconds.
    pub(crate) fn frozen_at_wall_time() -> Clock {
        let now = Timestamp::now();
        Clock {
            at: Timestamp::from_second(now.as_second()).expect("current time is in range"),
            running_since: None,
        }
    }

    pub(crate) fn now(&self) -> Timestamp {
        match self.running_since {
            Some(since) => self.at + SignedDuration::try_from(since.elapsed()).unwrap_or_default(),
            None => self.at,
        }
    }

    pub(crate) fn set(&mut self, at: Timestamp) {
        self.at = at;
        if self.running_since.is_some() {
            self.running_since = Some(Instant::now());
        }
    }

    pub(crate) fn advance(&mut self, by: SignedDuration) {
        let now = self.now();
        self.set(now + by);
    }

    pub(crate) fn run(&mut self) {
        let now = self.now();
        self.at = now;
        self.running_since = Some(Instant::now());
    }
}
