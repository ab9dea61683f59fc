fn main() -> std::process::ExitCode {
    casbah::cli::main()
}
