//! The command line, parsed strictly: an unknown argument is an error, never a
//! server started with settings nobody chose.

use std::path::PathBuf;

pub const USAGE: &str = "\
usage:
  inkstone-server [--config FILE]                     serve (settings: docs/server.md)
  inkstone-server set-catalog FILE.json [--config FILE]  replace the catalog
  inkstone-server gen-receipt-key FILE                 write a new receipt key (mode 0600)
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
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CliError {
    #[error("unknown argument `{0}`")]
    Unknown(String),
    #[error("`{0}` needs a value")]
    MissingValue(&'static str),
    #[error("`{0}` given twice")]
    Repeated(&'static str),
}

/// Parses the arguments after the program name.
pub fn parse(args: &[String]) -> Result<Command, CliError> {
    let mut config: Option<PathBuf> = None;
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
            other if other.starts_with('-') => return Err(CliError::Unknown(other.into())),
            other => positional.push(other),
        }
    }
    match positional.as_slice() {
        [] => Ok(Command::Serve { config }),
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

    proptest::proptest! {
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
