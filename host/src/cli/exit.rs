//! The exit codes of `order-host`: one table, printed by `--help`, listed
//! in the README, and used to end the process.

use std::process::ExitCode;

use order_host::config::ConfigError;
use order_host::lockfile::LockHeld;
use order_host::{ServiceError, StoreOpenError, load};

/// Every exit code and what it means, in order.
pub const CODES: [(u8, &str); 6] = [
    (0, "success"),
    (
        1,
        "refused or failed (the error chain on stderr; also: a read command on a store that does not exist)",
    ),
    (2, "usage (bad flags or settings)"),
    (
        3,
        "`load` left work unfinished (run the same command again)",
    ),
    (
        4,
        "the store file is corrupt or not an event store (it is left untouched)",
    ),
    (
        5,
        "the store is in use by another process (the message names its pid)",
    ),
];

/// The exit codes as `--help` lists them.
pub fn help() -> String {
    let mut text = String::from("Exit codes:\n");
    for (code, meaning) in CODES {
        text.push_str(&format!("  {code}  {meaning}\n"));
    }
    text
}

/// Says what went wrong on stderr and returns the code that says which
/// kind of failure it was.
pub fn report(error: &anyhow::Error) -> ExitCode {
    let code = if error.downcast_ref::<load::Incomplete>().is_some() {
        3
    } else if error.downcast_ref::<ConfigError>().is_some() {
        2
    } else if matches!(
        error.downcast_ref::<StoreOpenError>(),
        Some(StoreOpenError::Corrupt { .. })
    ) {
        4
    } else if error.downcast_ref::<LockHeld>().is_some() {
        5
    } else {
        1
    };
    // A refusal by the domain and an unfinished load say it in one line;
    // anything else shows its whole chain of causes.
    let short = code == 3
        || (code == 1
            && matches!(
                error.downcast_ref::<ServiceError>(),
                Some(ServiceError::Domain(_))
            ));
    if short {
        eprintln!("error: {error}");
    } else {
        eprintln!("error: {error:#}");
    }
    ExitCode::from(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_exit_code_is_in_the_help_and_the_readme() {
        let help = super::super::args::after_help();
        let readme = include_str!("../../../README.md");
        for (code, meaning) in CODES {
            assert!(
                help.contains(&format!("  {code}  {meaning}")),
                "{code} is not in --help"
            );
            assert!(
                readme.contains(&format!("| {code} | {meaning} |")),
                "exit code {code} (`{meaning}`) is not in the README's table"
            );
        }
    }

    #[test]
    fn each_kind_of_failure_has_its_code() {
        let usage = anyhow::Error::new(ConfigError("bad".to_owned()));
        assert_eq!(report(&usage), ExitCode::from(2));
        let unfinished = anyhow::Error::new(load::Incomplete {
            unfinished: 1,
            sagas: 0,
            errors: 0,
        });
        assert_eq!(report(&unfinished), ExitCode::from(3));
        let other = anyhow::anyhow!("something else");
        assert_eq!(report(&other), ExitCode::from(1));
    }
}
