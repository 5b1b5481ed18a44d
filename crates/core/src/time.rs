//! Times are stored as Unix milliseconds; the clock is always passed in.

use chrono::{DateTime, TimeZone, Utc};

pub(crate) fn to_ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn from_ms(ms: i64) -> DateTime<Utc> {
    // Out-of-range values cannot come from to_ms; clamp rather than panic on a hand-edited file.
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}
