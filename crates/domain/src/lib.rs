//! The domain in types, at the bottom of the crate graph: money, ids and the generation tools,
//! spelled once for the desktop, the studio, the shop and the payment endpoint.
//!
//! Invariants:
//! * money ([`Credits`], [`Fen`]) has no `+`/`-` operators: arithmetic goes through checked
//!   methods that return a typed [`MoneyError`] instead of wrapping, and [`Fen`] and
//!   [`Credits::checked_spend`] never go below zero;
//! * the exchange rule (1 CNY = 10 credits, so 1 credit = 10 fen) is [`FEN_PER_CREDIT`], here
//!   and nowhere else;
//! * an [`OrderNo`] exists only if it passed [`OrderNo::parse`] (order numbers arrive from
//!   outside: notifications, URLs);
//! * every [`Tool`] has one stored/wire name and one zh-CN and one English label; the UI reads
//!   them from a file generated from this crate (`ui/src/i18n/tools.generated.ts`).
//!
//! Money crosses JSON and SQL as a plain integer (`serde(transparent)`), so nothing on the wire
//! changes.
//!
//! ```
//! use inkstone_domain::{Credits, Fen, OrderNo, Tool};
//! let balance = Credits::new(25);
//! assert_eq!(balance.checked_spend(Credits::new(10)), Ok(Credits::new(15)));
//! assert!(balance.checked_spend(Credits::new(30)).is_err()); // never below zero
//! assert_eq!(Fen::new(1_000).unwrap().to_credits(), Ok(Credits::new(100)));
//! assert!("IK20261125120000ABCDEFGHJK".parse::<OrderNo>().is_ok());
//! assert!("IK1\n".parse::<OrderNo>().is_err());
//! assert_eq!("article".parse::<Tool>(), Ok(Tool::Article));
//! assert_eq!(Tool::Article.label_zh(), "AI写作");
//! ```
#![forbid(unsafe_code)]

/// sqlx `Type`/`Encode`/`Decode` for a domain type stored as `$inner` (the same SQL type),
/// checked on the way in by `$from`, so a row cannot smuggle in what parsing would refuse.
#[cfg(feature = "sqlx")]
macro_rules! sqlx_via {
    ($ty:ty, $inner:ty, $from:expr, $to:expr) => {
        impl<DB: sqlx::Database> sqlx::Type<DB> for $ty
        where
            $inner: sqlx::Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <$inner as sqlx::Type<DB>>::type_info()
            }
            fn compatible(ty: &DB::TypeInfo) -> bool {
                <$inner as sqlx::Type<DB>>::compatible(ty)
            }
        }
        impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for $ty
        where
            $inner: sqlx::Decode<'r, DB>,
        {
            fn decode(
                value: <DB as sqlx::Database>::ValueRef<'r>,
            ) -> Result<Self, sqlx::error::BoxDynError> {
                let inner = <$inner as sqlx::Decode<'r, DB>>::decode(value)?;
                Ok(($from)(inner)?)
            }
        }
        impl<'q, DB: sqlx::Database> sqlx::Encode<'q, DB> for $ty
        where
            $inner: sqlx::Encode<'q, DB>,
        {
            fn encode_by_ref(
                &self,
                buf: &mut <DB as sqlx::Database>::ArgumentBuffer<'q>,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                let inner: $inner = ($to)(self);
                <$inner as sqlx::Encode<'q, DB>>::encode(inner, buf)
            }
        }
    };
}

mod ids;
mod money;
pub mod order_no;
mod tool;

pub use ids::{GenerationId, ProfileId};
pub use money::{Credits, Fen, MoneyError, FEN_PER_CREDIT};
pub use order_no::{OrderNo, OrderNoError};
pub use tool::{Tool, UnknownTool};
