//! Secrets come from a file named by `--secret-file`, the environment, stdin
//! when it is not a terminal, or a no-echo prompt; never from an argument.

use std::io::{IsTerminal, Read};
use std::path::Path;

use super::Failure;
use crate::domain::Secret;
use crate::domain::catalog::CredentialField;

pub const SECRET_ENV: &str = "CASBAH_SECRET";

/// The value of `field`, from the first of `file`, `CASBAH_SECRET`, stdin
/// and a prompt that has one. A multi-line value is never prompted for.
pub fn read_secret(field: &CredentialField, file: Option<&Path>) -> Result<Secret, Failure> {
    read_labelled(
        &field.label,
        field.multiline,
        (file, "--secret-file"),
        SECRET_ENV,
    )
}

/// A secret named `label`, from the first of `file` (given by `flag`), the variable
/// `env`, stdin and a prompt (when it fits on one line).
pub fn read_labelled(
    label: &str,
    multiline: bool,
    (file, flag): (Option<&Path>, &str),
    env: &str,
) -> Result<Secret, Failure> {
    let prompt = label;
    let label = label.to_lowercase();
    let value = if let Some(path) = file {
        std::fs::read_to_string(path).map_err(|e| {
            Failure::Failed(format!(
                "cannot read the {label} from {}: {e}",
                path.display()
            ))
        })?
    } else if let Ok(value) = std::env::var(env)
        && !value.trim().is_empty()
    {
        value
    } else if !std::io::stdin().is_terminal() {
        let mut buf = String::new();
        std::io::stdin()
            .lock()
            .read_to_string(&mut buf)
            .map_err(|e| Failure::Failed(format!("cannot read the {label} from stdin: {e}")))?;
        buf
    } else if multiline {
        return Err(Failure::Usage(format!(
            "the {label} spans several lines; pass {flag} PATH, pipe it on stdin, or set {env}"
        )));
    } else {
        rpassword::prompt_password(format!("{prompt}: "))
            .map_err(|e| Failure::Failed(format!("cannot read the {label}: {e}")))?
    };
    let value = value.trim();
    if value.is_empty() {
        return Err(Failure::Usage(format!(
            "no {label} given; pass {flag} PATH, set {env}, pipe it on stdin, or type it at the prompt"
        )));
    }
    Ok(Secret::new(value))
}
