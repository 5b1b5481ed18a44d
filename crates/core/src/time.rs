//! Times are stored as Unix milliseconds; the clock is always passed in.
//!
//! Business functions take `now`; the services above them (the studio runner, the shop,
//! the desktop) read it from a [`Clock`] they are given, so a test fixes or advances time
//! instead of depending on the day it runs.

use std::fmt;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, TimeZone, Utc};

pub(crate) fn to_ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn from_ms(ms: i64) -> DateTime<Utc> {
    // Out-of-range values cannot come from to_ms; clamp rather than panic on a hand-edited file.
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Where "now" comes from: the system clock in the app, a fixed or manual one in tests.
#[derive(Clone)]
pub struct Clock(Source);

#[derive(Clone)]
enum Source {
    System,
    Manual(Arc<Mutex<DateTime<Utc>>>),
}

impl Clock {
    /// The real time.
    pub fn system() -> Self {
        Clock(Source::System)
    }

    /// A clock that stays at `at` until [`Clock::set`] or [`Clock::advance`] moves it.
    /// Clones share the time, so a test can move the clock a service holds.
    pub fn manual(at: DateTime<Utc>) -> Self {
        Clock(Source::Manual(Arc::new(Mutex::new(at))))
    }

    pub fn now(&self) -> DateTime<Utc> {
        match &self.0 {
            Source::System => Utc::now(),
            Source::Manual(t) => match t.lock() {
                Ok(t) => *t,
                Err(poisoned) => *poisoned.into_inner(),
            },
        }
    }

    /// Moves a manual clock to `at`; the system clock ignores it.
    pub fn set(&self, at: DateTime<Utc>) {
        if let Source::Manual(t) = &self.0 {
            match t.lock() {
                Ok(mut t) => *t = at,
                Err(poisoned) => *poisoned.into_inner() = at,
            }
        }
    }

    /// Moves a manual clock forward by `by`; the system clock ignores it.
    pub fn advance(&self, by: Duration) {
        self.set(self.now() + by);
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::system()
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Source::System => f.write_str("Clock::system"),
            Source::Manual(_) => write!(f, "Clock::manual({})", self.now()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told_and_its_clones_follow() {
        let start = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
        let clock = Clock::manual(start);
        let held = clock.clone();
        assert_eq!(held.now(), start);
        clock.advance(Duration::days(2));
        assert_eq!(held.now(), start + Duration::days(2));
        let system = Clock::system();
        system.set(start);
        assert!(system.now() > start - Duration::days(365 * 100));
        assert_ne!(system.now(), start);
    }
}
