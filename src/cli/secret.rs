//! Secrets come from the environment, from stdin when it is not a terminal,
//! or from a no-echo prompt; never from an argument.

use std::io::{IsTerminal, Read};

use super::Failure;
use crate::domain::Secret;

pub const SECRET_ENV: &str = "CASBAH_SECRET";

pub fn read_secret(prompt: &str) -> Result<Secret, Failure> {
    if let Ok(value) = std::env::var(SECRET_ENV)
        && !value.trim().is_empty()
    {
        return Ok(Secret::new(value.trim()));
    }
    let stdin = std::io::stdin();
    let value = if stdin.is_terminal() {
        rpassword::prompt_password(prompt)
            .map_err(|e| Failure::Failed(format!("cannot read the secret: {e}")))?
    } else {
        let mut buf = String::new();
        stdin
            .lock()
            .read_to_string(&mut buf)
            .map_err(|e| Failure::Failed(format!("cannot read the secret from stdin: {e}")))?;
        buf
    };
    let value = value.trim();
    if value.is_empty() {
        return Err(Failure::Usage(format!(
            "no secret given; set {SECRET_ENV}, pipe it on stdin, or type it at the prompt"
        )));
    }
    Ok(Secret::new(value))
}
