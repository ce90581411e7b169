fn main() -> std::process::ExitCode {
    fraclab::cli::main()
}
