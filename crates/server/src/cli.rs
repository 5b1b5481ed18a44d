//! The command line, parsed strictly: an unknown argument is an error, never a
//! server started with settings nobody chose.

use std::path::PathBuf;

use inkstone_domain::Fen;

pub const USAGE: &str = "\
usage:
  inkstone-server [--config FILE]                     serve (settings: docs/server.md)
  inkstone-server set-catalog FILE.json [--config FILE]  replace the catalog
  inkstone-server gen-receipt-key FILE                 write a new receipt key (mode 0600)
  inkstone-server reconcile --date YYYY-MM-DD [--config FILE]
                                    the day's WeChat Pay / Alipay bills against the orders:
                                    settles paid-but-unrecorded orders, prints mismatches
                                    (exit 3 when there are any, 1 when a bill
                                    could not be had or trusted)
  inkstone-server refund ORDER_NO [--fen N] --reason TEXT [--config FILE]
                                    money back to the payer (all of it without --fen);
                                    run again to resume or check a refund in progress
  inkstone-server --help                               this text

Settings come from the TOML file, then INKSTONE_SERVER_* environment variables.";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Help,
    Serve {
        config: Option<PathBuf>,
    },
    SetCatalog {
        file: PathBuf,
        config: Option<PathBuf>,
    },
    GenReceiptKey {
        file: PathBuf,
    },
    Reconcile {
        date: chrono::NaiveDate,
        config: Option<PathBuf>,
    },
    Refund {
        order_no: inkstone_domain::OrderNo,
        /// `None`: what is left of the order.
        fen: Option<Fen>,
        reason: String,
        config: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CliError {
    #[error("unknown argument `{0}`")]
    Unknown(String),
    #[error("`{0}` needs a value")]
    MissingValue(&'static str),
    #[error("`{0}` given twice")]
    Repeated(&'static str),
    #[error("`{0}` has an invalid value")]
    Invalid(&'static str),
    #[error("`--fen` {0}")]
    Fen(#[from] FenArgError),
}

/// Why the amount of `--fen` was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FenArgError {
    /// Occurs when the value is not a whole number (`1.5`, `abc`, `1e3`).
    #[error("must be a whole number of fen (1 yuan = 100 fen)")]
    NotANumber,
    /// Occurs when the value is 0 or negative: a refund moves money back, or nothing.
    #[error("must be more than 0")]
    NotPositive,
    /// Occurs when the value is over 100,000,000 yuan, more than any order.
    #[error("is more than 100,000,000 yuan")]
    TooLarge,
}

/// The largest refund the command takes: 100,000,000 yuan, the providers' ceiling too.
const MAX_REFUND_FEN: i64 = 10_000_000_000;

/// `--fen N`, parsed into [`Fen`] here at the edge: a positive whole number of fen.
pub fn parse_fen(text: &str) -> Result<Fen, FenArgError> {
    let n: i64 = text.parse().map_err(|_| FenArgError::NotANumber)?;
    let fen = Fen::new(n).map_err(|_| FenArgError::NotPositive)?;
    if !fen.is_positive() {
        return Err(FenArgError::NotPositive);
    }
    if n > MAX_REFUND_FEN {
        return Err(FenArgError::TooLarge);
    }
    Ok(fen)
}

/// The longest refund reason: WeChat Pay takes 80 characters.
pub const MAX_REASON_CHARS: usize = 80;

/// Parses the arguments after the program name.
pub fn parse(args: &[String]) -> Result<Command, CliError> {
    let mut config: Option<PathBuf> = None;
    let (mut date, mut fen, mut reason): (Option<&str>, Option<&str>, Option<&str>) =
        (None, None, None);
    let mut positional: Vec<&str> = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--help" | "-h" | "help" => return Ok(Command::Help),
            "--config" => {
                let v = it.next().ok_or(CliError::MissingValue("--config"))?;
                if config.replace(PathBuf::from(v)).is_some() {
                    return Err(CliError::Repeated("--config"));
                }
            }
            flag @ ("--date" | "--fen" | "--reason") => {
                let (name, slot) = match flag {
                    "--date" => ("--date", &mut date),
                    "--fen" => ("--fen", &mut fen),
                    _ => ("--reason", &mut reason),
                };
                let v = it.next().ok_or(CliError::MissingValue(name))?;
                if slot.replace(v.as_str()).is_some() {
                    return Err(CliError::Repeated(name));
                }
            }
            other if other.starts_with('-') => return Err(CliError::Unknown(other.into())),
            other => positional.push(other),
        }
    }
    // Each flag belongs to one command; anywhere else it is an unknown argument.
    let refuse = |flags: &[(&'static str, bool)]| -> Result<(), CliError> {
        match flags.iter().find(|(_, given)| *given) {
            Some((name, _)) => Err(CliError::Unknown((*name).into())),
            None => Ok(()),
        }
    };
    match positional.first() {
        Some(&"reconcile") => refuse(&[("--fen", fen.is_some()), ("--reason", reason.is_some())])?,
        Some(&"refund") => refuse(&[("--date", date.is_some())])?,
        _ => refuse(&[
            ("--date", date.is_some()),
            ("--fen", fen.is_some()),
            ("--reason", reason.is_some()),
        ])?,
    }
    match positional.as_slice() {
        [] => Ok(Command::Serve { config }),
        ["reconcile"] => {
            let date = date.ok_or(CliError::MissingValue("--date"))?;
            Ok(Command::Reconcile {
                date: crate::reconcile::parse_date(date).ok_or(CliError::Invalid("--date"))?,
                config,
            })
        }
        ["refund", order_no] => {
            let order_no = inkstone_domain::OrderNo::parse(order_no)
                .map_err(|_| CliError::Invalid("ORDER_NO"))?;
            let fen = fen.map(parse_fen).transpose()?;
            let reason = reason.ok_or(CliError::MissingValue("--reason"))?.trim();
            if reason.is_empty()
                || reason.chars().count() > MAX_REASON_CHARS
                || reason.chars().any(char::is_control)
            {
                return Err(CliError::Invalid("--reason"));
            }
            Ok(Command::Refund {
                order_no,
                fen,
                reason: reason.to_string(),
                config,
            })
        }
        ["refund"] => Err(CliError::MissingValue("refund")),
        ["set-catalog", file] => Ok(Command::SetCatalog {
            file: PathBuf::from(file),
            config,
        }),
        ["set-catalog"] => Err(CliError::MissingValue("set-catalog")),
        ["gen-receipt-key", file] if config.is_none() => Ok(Command::GenReceiptKey {
            file: PathBuf::from(file),
        }),
        ["gen-receipt-key"] => Err(CliError::MissingValue("gen-receipt-key")),
        [first, ..] => Err(CliError::Unknown((*first).to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Command, CliError> {
        parse(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn help_is_help_and_unknown_arguments_are_refused() {
        assert_eq!(p(&["--help"]), Ok(Command::Help));
        assert_eq!(p(&["-h"]), Ok(Command::Help));
        assert_eq!(p(&["--config", "x.toml", "--help"]), Ok(Command::Help));
        assert_eq!(p(&[]), Ok(Command::Serve { config: None }));
        assert_eq!(
            p(&["--config", "/etc/inkstone/server.toml"]),
            Ok(Command::Serve {
                config: Some("/etc/inkstone/server.toml".into())
            })
        );
        assert_eq!(
            p(&["set-catalog", "c.json", "--config", "s.toml"]),
            Ok(Command::SetCatalog {
                file: "c.json".into(),
                config: Some("s.toml".into())
            })
        );
        assert_eq!(
            p(&["gen-receipt-key", "/k"]),
            Ok(Command::GenReceiptKey { file: "/k".into() })
        );
        assert_eq!(
            p(&["--sandbox"]),
            Err(CliError::Unknown("--sandbox".into()))
        );
        assert_eq!(p(&["serve"]), Err(CliError::Unknown("serve".into())));
        assert_eq!(p(&["--config"]), Err(CliError::MissingValue("--config")));
        assert_eq!(
            p(&["--config", "a", "--config", "b"]),
            Err(CliError::Repeated("--config"))
        );
        assert_eq!(
            p(&["set-catalog"]),
            Err(CliError::MissingValue("set-catalog"))
        );
        assert!(p(&["set-catalog", "a", "b"]).is_err());
    }

    #[test]
    fn reconcile_and_refund_take_their_own_flags_only() {
        assert_eq!(
            p(&["reconcile", "--date", "2026-11-25", "--config", "s.toml"]),
            Ok(Command::Reconcile {
                date: chrono::NaiveDate::from_ymd_opt(2026, 11, 25).unwrap(),
                config: Some("s.toml".into())
            })
        );
        assert_eq!(p(&["reconcile"]), Err(CliError::MissingValue("--date")));
        assert_eq!(
            p(&["reconcile", "--date", "2026-02-30"]),
            Err(CliError::Invalid("--date"))
        );
        assert_eq!(
            p(&["--date", "2026-11-25"]),
            Err(CliError::Unknown("--date".into()))
        );
        assert_eq!(
            p(&["reconcile", "--date", "2026-11-25", "--fen", "1"]),
            Err(CliError::Unknown("--fen".into()))
        );
        assert_eq!(
            p(&[
                "refund",
                "IK20261125120000ABCDEFGHJK",
                "--fen",
                "300",
                "--reason",
                "duplicate purchase"
            ]),
            Ok(Command::Refund {
                order_no: "IK20261125120000ABCDEFGHJK".parse().unwrap(),
                fen: Some(Fen::new(300).unwrap()),
                reason: "duplicate purchase".into(),
                config: None
            })
        );
        assert_eq!(
            p(&["refund", "IK20261125120000ABCDEFGHJK", "--reason", "退款"]),
            Ok(Command::Refund {
                order_no: "IK20261125120000ABCDEFGHJK".parse().unwrap(),
                fen: None,
                reason: "退款".into(),
                config: None
            })
        );
        for bad in [
            vec!["refund", "IK20261125120000ABCDEFGHJK"],
            vec!["refund", "IK1", "--reason", "x"],
            vec!["refund", "IK20261125120000ABCDEFGHJK", "--reason", " "],
            vec!["refund", "IK20261125120000ABCDEFGHJK", "--reason", "a\nb"],
            vec![
                "refund",
                "IK20261125120000ABCDEFGHJK",
                "--reason",
                "x",
                "--date",
                "2026-11-25",
            ],
            vec![
                "refund",
                "IK20261125120000ABCDEFGHJK",
                "--reason",
                "x",
                "--reason",
                "y",
            ],
        ] {
            assert!(p(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn fen_is_a_positive_whole_number_parsed_at_the_edge() {
        let refund = |fen: &str| {
            p(&[
                "refund",
                "IK20261125120000ABCDEFGHJK",
                "--reason",
                "x",
                "--fen",
                fen,
            ])
        };
        for (text, error) in [
            ("0", FenArgError::NotPositive),
            ("-5", FenArgError::NotPositive),
            ("-0", FenArgError::NotPositive),
            ("1.5", FenArgError::NotANumber),
            ("abc", FenArgError::NotANumber),
            ("", FenArgError::NotANumber),
            ("1e3", FenArgError::NotANumber),
            ("99999999999999999999", FenArgError::NotANumber),
            ("10000000001", FenArgError::TooLarge),
        ] {
            assert_eq!(refund(text), Err(CliError::Fen(error)), "{text:?}");
        }
        for (text, fen) in [("1", 1), ("+7", 7), ("10000000000", 10_000_000_000)] {
            assert!(
                matches!(refund(text), Ok(Command::Refund { fen: Some(f), .. }) if f == fen),
                "{text:?}"
            );
        }
    }

    proptest::proptest! {
        /// Any `--fen` text: a positive amount within the bound or a typed refusal.
        #[test]
        fn any_fen_text_is_an_amount_or_refused(text in "\\PC{0,24}|[-+0-9.]{0,14}") {
            match parse_fen(&text) {
                Ok(fen) => proptest::prop_assert!((1..=MAX_REFUND_FEN).contains(&fen.get())),
                Err(_) => proptest::prop_assert!(text.parse::<i64>().map_or(true, |n| !(1..=MAX_REFUND_FEN).contains(&n))),
            }
        }


        /// Any arguments: a command or a typed error, never a panic; nothing unknown is
        /// taken for "serve".
        #[test]
        fn any_arguments_parse_or_are_refused(args in proptest::collection::vec(".{0,12}", 0..5)) {
            if let Ok(Command::Serve { .. }) = parse(&args) {
                proptest::prop_assert!(args.iter().all(|a| a == "--config") || args.len() == 2);
            }
        }
    }
}
