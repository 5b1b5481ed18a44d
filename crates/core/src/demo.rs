//! Demo data from the seed report: only ever seeded when the app runs in demo
//! mode (the shell decides); a release start never calls this.

use chrono::{DateTime, Duration, TimeZone, Utc};

use inkstone_domain::Credits;

use crate::error::CoreResult;
use crate::ledger::{self, begin_write, Grant, GrantKind, Reason};
use crate::profiles::{create_profile, find_by_username};
use crate::time::to_ms;
use crate::Database;

pub const DEMO_USER: (&str, &str) = ("test_user", "test123456");
pub const DEMO_ADMIN: (&str, &str) = ("admin", "admin123456");

/// The seed report's end of the admin's membership: 2026-12-31 23:59:59 China time.
pub fn seed_report_member_until() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 31, 15, 59, 59)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// The demo admin is a member until the seed report's date or for a year from the demo's
/// first start, whichever is later: a demo started in 2028 still shows a member.
pub fn demo_admin_member_until(first_start: DateTime<Utc>) -> DateTime<Utc> {
    seed_report_member_until().max(first_start + Duration::days(365))
}

/// Creates `test_user` (100 credits) and `admin` (1000 credits, member until
/// [`demo_admin_member_until`]) unless they exist. The credits arrive as BONUS rows so the
/// ledger explains every credit of the balance.
pub async fn seed_demo(db: &Database, now: DateTime<Utc>) -> CoreResult<()> {
    for ((username, password), credits, admin) in
        [(DEMO_USER, 100, false), (DEMO_ADMIN, 1000, true)]
    {
        if find_by_username(db, username).await?.is_some() {
            continue;
        }
        let profile = create_profile(db, username, password, admin, now).await?;
        let grant = Grant {
            kind: GrantKind::Bonus,
            credits: Credits::new(credits),
            description: String::new(),
            order_no: None,
            expires_at: None,
        };
        let mut tx = begin_write(db).await?;
        ledger::add_credits_in(&mut tx, profile.id, &grant, Some(Reason::DemoStart), now).await?;
        tx.commit().await?;
        if admin {
            let mut tx = begin_write(db).await?;
            sqlx::query("UPDATE profiles SET member_until_ms = ? WHERE id = ?")
                .bind(to_ms(demo_admin_member_until(now)))
                .bind(profile.id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_admin_is_a_member_until_the_report_date_or_a_year_from_the_first_start() {
        let early = Utc.with_ymd_and_hms(2025, 3, 1, 0, 0, 0).unwrap();
        assert_eq!(demo_admin_member_until(early), seed_report_member_until());
        let late = Utc.with_ymd_and_hms(2028, 6, 1, 0, 0, 0).unwrap();
        assert_eq!(demo_admin_member_until(late), late + Duration::days(365));
    }
}
