//! The local database's row ids, typed so a profile id cannot be passed as a generation id.

use serde::{Deserialize, Serialize};

macro_rules! row_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(i64);

        impl $name {
            pub const fn new(id: i64) -> Self {
                $name(id)
            }

            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl From<$name> for i64 {
            fn from(id: $name) -> i64 {
                id.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        #[cfg(feature = "sqlx")]
        sqlx_via!($name, i64, |v| Ok::<_, std::convert::Infallible>($name(v)), |id: &$name| id.0);
    };
}

row_id!(
    /// A writer's profile (`profiles.id`).
    ProfileId
);
row_id!(
    /// One generation run (`generations.id`).
    ///
    /// The point of the two types: a profile id is refused where a generation id is due.
    /// ```compile_fail
    /// use inkstone_domain::{GenerationId, ProfileId};
    /// fn stop(_: GenerationId) {}
    /// stop(ProfileId::new(1));
    /// ```
    GenerationId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_travel_as_plain_numbers() {
        assert_eq!(serde_json::to_string(&ProfileId::new(7)).unwrap(), "7");
        assert_eq!(
            serde_json::from_str::<GenerationId>("9").unwrap(),
            GenerationId::new(9)
        );
        assert_eq!(i64::from(ProfileId::new(3)), 3);
    }
}
