//! Launch options from the command line and the environment.
//!
//! * `--data-dir <path>` or `INKSTONE_DATA_DIR`: where the database and logs live (tests give
//!   every run its own folder). Default: the OS app data folder.
//! * `--demo` or `INKSTONE_DEMO=1`: seed the demo users. Only honoured in debug builds, so a
//!   release build never contains demo accounts.
//!
//! Unknown arguments are ignored: WebKitWebDriver and the OS may add their own.

use std::path::PathBuf;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LaunchOptions {
    /// The folder for the database and logs; `None` means the OS default.
    pub data_dir: Option<PathBuf>,
    /// Whether demo mode was asked for (see [`LaunchOptions::demo_enabled`]).
    pub demo_requested: bool,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OptionsError {
    /// Occurs when `--data-dir` is the last argument.
    #[error("--data-dir needs a folder path")]
    MissingDataDir,
    /// Occurs when the data folder given is an empty string.
    #[error("the data folder path is empty")]
    EmptyDataDir,
}

impl LaunchOptions {
    /// Reads options from `args` (without the program name) and the `env` lookup.
    /// Command-line arguments win over the environment.
    pub fn parse<I, E>(args: I, env: E) -> Result<Self, OptionsError>
    where
        I: IntoIterator<Item = String>,
        E: Fn(&str) -> Option<String>,
    {
        let mut options = LaunchOptions {
            data_dir: None,
            demo_requested: matches!(env("INKSTONE_DEMO").as_deref(), Some("1" | "true")),
        };
        if let Some(dir) = env("INKSTONE_DATA_DIR") {
            options.data_dir = Some(non_empty(dir)?);
        }
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            if arg == "--demo" {
                options.demo_requested = true;
            } else if arg == "--data-dir" {
                let dir = args.next().ok_or(OptionsError::MissingDataDir)?;
                options.data_dir = Some(non_empty(dir)?);
            } else if let Some(dir) = arg.strip_prefix("--data-dir=") {
                options.data_dir = Some(non_empty(dir.to_owned())?);
            }
        }
        Ok(options)
    }

    /// Reads options from this process's arguments and environment.
    pub fn from_process() -> Result<Self, OptionsError> {
        Self::parse(std::env::args().skip(1), |key| std::env::var(key).ok())
    }

    /// Demo mode: asked for, and this is not a release build.
    pub fn demo_enabled(&self) -> bool {
        self.demo_requested && cfg!(debug_assertions)
    }
}

fn non_empty(dir: String) -> Result<PathBuf, OptionsError> {
    if dir.trim().is_empty() {
        Err(OptionsError::EmptyDataDir)
    } else {
        Ok(PathBuf::from(dir))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str], env: &[(&str, &str)]) -> Result<LaunchOptions, OptionsError> {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        LaunchOptions::parse(args.iter().map(|a| a.to_string()), |key| {
            env.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn defaults_to_os_folder_and_no_demo() {
        assert_eq!(parse(&[], &[]), Ok(LaunchOptions::default()));
    }

    #[test]
    fn reads_data_dir_in_both_spellings_and_from_env() {
        let want = Some(PathBuf::from("/tmp/x"));
        assert_eq!(
            parse(&["--data-dir", "/tmp/x"], &[]).unwrap().data_dir,
            want
        );
        assert_eq!(parse(&["--data-dir=/tmp/x"], &[]).unwrap().data_dir, want);
        assert_eq!(
            parse(&[], &[("INKSTONE_DATA_DIR", "/tmp/x")])
                .unwrap()
                .data_dir,
            want
        );
    }

    #[test]
    fn command_line_wins_over_environment() {
        let options = parse(
            &["--data-dir", "/tmp/cli"],
            &[("INKSTONE_DATA_DIR", "/tmp/env")],
        )
        .unwrap();
        assert_eq!(options.data_dir, Some(PathBuf::from("/tmp/cli")));
    }

    #[test]
    fn rejects_missing_or_empty_data_dir() {
        assert_eq!(
            parse(&["--data-dir"], &[]),
            Err(OptionsError::MissingDataDir)
        );
        assert_eq!(
            parse(&["--data-dir="], &[]),
            Err(OptionsError::EmptyDataDir)
        );
        assert_eq!(
            parse(&[], &[("INKSTONE_DATA_DIR", " ")]),
            Err(OptionsError::EmptyDataDir)
        );
    }

    #[test]
    fn demo_from_flag_or_env_and_ignores_unknown_arguments() {
        assert!(
            parse(&["--automation", "--demo"], &[])
                .unwrap()
                .demo_requested
        );
        assert!(
            parse(&[], &[("INKSTONE_DEMO", "1")])
                .unwrap()
                .demo_requested
        );
        assert!(
            !parse(&[], &[("INKSTONE_DEMO", "0")])
                .unwrap()
                .demo_requested
        );
    }

    #[test]
    fn demo_is_never_enabled_in_release_builds() {
        let options = parse(&["--demo"], &[]).unwrap();
        assert_eq!(options.demo_enabled(), cfg!(debug_assertions));
    }
}
