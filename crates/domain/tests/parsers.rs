//! The domain's parsers of outside text (tool names from the page and the database, order
//! numbers from URLs and providers, amounts in JSON): any input parses or is refused, without
//! a panic, and what parses is what was given.

use inkstone_domain::{Credits, Fen, OrderNo, Tool};
use proptest::prelude::*;

proptest! {
    #[test]
    fn any_text_is_a_tool_or_refused(s in "\\PC{0,40}") {
        match s.parse::<Tool>() {
            Ok(tool) => prop_assert_eq!(tool.as_str(), s.as_str()),
            Err(e) => prop_assert!(e.0.chars().count() <= 64),
        }
    }

    #[test]
    fn mutated_tool_names_are_refused_unless_they_name_a_tool(
        at in 0usize..Tool::ALL.len(),
        pos in 0usize..16,
        c in any::<char>(),
    ) {
        let name = Tool::ALL[at].as_str();
        let mut chars: Vec<char> = name.chars().collect();
        let pos = pos % chars.len();
        chars[pos] = c;
        let mutated: String = chars.into_iter().collect();
        let known = Tool::ALL.iter().any(|t| t.as_str() == mutated);
        prop_assert_eq!(mutated.parse::<Tool>().is_ok(), known);
        let json = serde_json::to_string(&mutated).unwrap();
        prop_assert_eq!(serde_json::from_str::<Tool>(&json).is_ok(), known);
    }

    #[test]
    fn any_json_is_money_or_refused(s in "\\PC{0,24}") {
        let credits = serde_json::from_str::<Credits>(&s);
        let fen = serde_json::from_str::<Fen>(&s);
        let plain = serde_json::from_str::<i64>(&s);
        prop_assert_eq!(credits.ok().map(Credits::get), plain.as_ref().ok().copied());
        prop_assert_eq!(fen.ok().map(Fen::get), plain.ok().filter(|n| *n >= 0));
    }

    #[test]
    fn any_json_string_is_an_order_number_or_refused(s in "\\PC{0,40}") {
        let json = serde_json::to_string(&s).unwrap();
        let parsed = serde_json::from_str::<OrderNo>(&json);
        prop_assert_eq!(parsed.is_ok(), OrderNo::parse(&s).is_ok());
        if let Ok(no) = parsed {
            prop_assert_eq!(no.as_str(), s.as_str());
            prop_assert_eq!(serde_json::to_string(&no).unwrap(), json);
        }
    }
}
