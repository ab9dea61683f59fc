//! `casbah sandbox serve`.

use super::args::SandboxArgs;
use super::{Failure, Outcome};
use crate::sandbox::{self, FaultSpec, Sandbox, SandboxConfig};

pub fn config(a: &SandboxArgs) -> Result<SandboxConfig, Failure> {
    let faults = match &a.faults {
        Some(spec) => {
            FaultSpec::parse(spec).map_err(|e| Failure::Usage(format!("--faults: {e}")))?
        }
        None => FaultSpec::default(),
    };
    Ok(SandboxConfig {
        listen: a.listen,
        seed: a.seed,
        users: a.users,
        live_rate: a.rate,
        faults,
        ..SandboxConfig::default()
    })
}

pub async fn start(config: SandboxConfig) -> Result<Sandbox, Failure> {
    sandbox::start(config)
        .await
        .map_err(|e| Failure::Failed(format!("cannot start the sandbox: {e}")))
}

pub async fn serve(a: SandboxArgs) -> Outcome {
    let sandbox = start(config(&a)?).await?;
    // The first line is read by scripts and tests; keep its shape.
    println!("listening on {}", sandbox.base_url());
    println!("tenant id: {}", sandbox.tenant_id);
    println!("client id: {}", sandbox.client_id);
    // The sandbox's own throwaway credential, printed so it can be piped to `connectors add`.
    println!("client secret: {}", sandbox.client_secret.expose());
    wait_for_shutdown().await;
    Ok(())
}

/// Ctrl-C or SIGTERM.
pub async fn wait_for_shutdown() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async {
            match term.as_mut() {
                Some(t) => { t.recv().await; }
                None => std::future::pending::<()>().await,
            }
        } => {}
    }
}
