//! `casbah sandbox serve`.

use super::args::SandboxArgs;
use super::{Failure, Outcome};
use crate::sandbox::{self, FaultSpec, Sandbox, SandboxConfig, SandboxConnection};

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
    // The first lines are read by scripts and tests; keep their shape.
    println!("listening on {}", sandbox.base_url());
    println!("tenant id: {}", sandbox.tenant_id);
    println!("client id: {}", sandbox.client_id);
    // The sandbox's own throwaway credential, printed so it can be piped to `connectors add`.
    println!("client secret: {}", sandbox.client_secret.expose());
    // Keys span lines: they go to files, removed when the sandbox stops.
    let keys = tempfile::Builder::new()
        .prefix("casbah-sandbox-keys-")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
        .tempdir()
        .map_err(|e| {
            Failure::Failed(format!(
                "cannot create a folder for the sandbox's keys: {e}"
            ))
        })?;
    println!();
    println!(
        "Connect every app it serves with these (the secrets are the sandbox's own; key files stay in {} until it stops):",
        keys.path().display()
    );
    for connection in sandbox.connections() {
        if let Some(note) = connection.note {
            println!("  # {note}");
        }
        println!("  {}", command(&connection, keys.path())?);
    }
    // Its own GeoIP databases place the addresses it hands out.
    let (country, asn) = sandbox::geoip::write_databases(keys.path())
        .map_err(|e| Failure::Failed(format!("cannot write the sandbox's GeoIP databases: {e}")))?;
    println!("  # country and ISP of its addresses");
    println!("  casbah settings set geoip.country {}", country.display());
    println!("  casbah settings set geoip.asn {}", asn.display());
    println!("serving; Ctrl-C stops it");
    wait_for_shutdown().await;
    Ok(())
}

/// The `connectors add` command for a connection: the secret in the environment, or a
/// key that spans lines in a file of its own.
fn command(c: &SandboxConnection, keys: &std::path::Path) -> Result<String, Failure> {
    let i = &c.instance;
    let mut words = vec![format!(
        "casbah connectors add {} --name {}",
        i.app.slug(),
        i.name
    )];
    words.extend(i.fields.iter().map(|(k, v)| format!("--{k} {v}")));
    if let Some(endpoint) = &i.endpoint {
        words.push(format!("--endpoint {endpoint}"));
    }
    let multiline = i
        .app
        .info()
        .method_for(i.fields.keys().map(String::as_str))
        .ok()
        .and_then(|m| m.secret_field())
        .is_some_and(|f| f.multiline);
    match &c.secret {
        None => {}
        Some(secret) if multiline => {
            use std::os::unix::fs::OpenOptionsExt;
            let path = keys.join(format!("{}-{}.key", i.app.slug(), i.name));
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
                .and_then(|mut f| std::io::Write::write_all(&mut f, secret.expose().as_bytes()))
                .map_err(|e| Failure::Failed(format!("cannot write {}: {e}", path.display())))?;
            words.push(format!("--secret-file {}", path.display()));
        }
        Some(secret) => words.insert(0, format!("CASBAH_SECRET='{}'", secret.expose())),
    }
    Ok(words.join(" "))
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
