//! Headless subcommands; human output by default, `--json` for scripts.

pub fn main() -> std::process::ExitCode {
    std::process::ExitCode::SUCCESS
}
