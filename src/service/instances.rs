//! Connecting, checking and removing app instances (R-C1…R-C5).

use std::sync::Arc;

use serde::Serialize;

use super::{Event, Local, Result, ServiceError, names};
use crate::connectors::{self, ConnectionCheck, Connector, ConnectorError, DeviceCode};
use crate::domain::instance::validate_components;
use crate::domain::{AppKind, Instance, InstanceId, Secret, now_micros};
use crate::store::{NewInstance, ScanKind, ScanState};

/// What `connect` needs. The secret travels here, never through argv.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
pub struct ConnectRequest {
    pub instance: NewInstance,
    pub secret: Secret,
}

/// An instance with what the Connectors pane and `connectors list` show.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct InstanceSummary {
    pub instance: Instance,
    pub users: u64,
    pub scans: Vec<(ScanKind, ScanState)>,
    /// Each activity stream's own state (R-C4).
    pub streams: Vec<(String, ScanState)>,
}

impl Local {
    /// R-C3: checks the credentials (a token, then the user list) before
    /// anything is saved; on success saves the instance and starts its scans.
    pub async fn connect(&self, req: ConnectRequest) -> Result<Instance> {
        let ConnectRequest {
            instance: mut new,
            secret,
        } = req;
        tidy(&mut new)?;
        // The instance as it will be, to check the credentials before anything is saved.
        // Its id is not known yet, so this connector only checks: records it read would
        // be filed under the wrong instance. The saved instance gets its own connector.
        let probe = new.clone().into_instance(InstanceId(0), now_micros());
        connectors::for_instance(&probe, secret.clone())?
            .check()
            .await?;
        let instance = self
            .db(move |s| s.add_instance(new, &secret, now_micros()))
            .await?;
        self.emit(Event::InstancesChanged);
        self.notify(super::Level::Info, format!("{} connected", instance.name));
        self.wake_scheduler();
        Ok(instance)
    }

    /// GitHub's device flow, first half: a code for the person to enter at
    /// the vendor's verification page.
    pub async fn begin_sign_in(&self, new: &NewInstance) -> Result<DeviceCode> {
        let probe = new.clone().into_instance(InstanceId(0), now_micros());
        Ok(connectors::begin_device_flow(&probe).await?)
    }

    /// Second half: waits, polling as the vendor asks, until the person has
    /// entered the code, and returns the token to `connect` with. Dropping the
    /// future cancels the wait.
    pub async fn finish_sign_in(&self, new: &NewInstance, code: DeviceCode) -> Result<Secret> {
        let probe = new.clone().into_instance(InstanceId(0), now_micros());
        Ok(connectors::finish_device_flow(&probe, &code).await?)
    }

    /// Rotates an instance's secret: the new one is checked with the vendor (R-C3)
    /// before it replaces the old, and the next scans use it.
    pub async fn set_secret(&self, instance: &str, secret: Secret) -> Result<Instance> {
        let instance = self.find_instance(instance).await?;
        connectors::for_instance(&instance, secret.clone())?
            .check()
            .await?;
        let id = instance.id;
        self.db(move |s| s.set_secret(id, &secret)).await?;
        self.forget_clients(id);
        self.emit(Event::InstancesChanged);
        self.notify(
            super::Level::Info,
            format!("{}: new secret checked and saved", instance.name),
        );
        self.wake_scheduler();
        Ok(instance)
    }

    /// Points the saved instance of `req`'s app and name at `req`'s fields, endpoint and
    /// secret, keeping its users, groups, activities and cursors: the instance moved (a
    /// sandbox started again on another port, `casbah demo`'s second run). Checked with
    /// the vendor first (R-C3); a refusal leaves the instance as it was.
    pub async fn reconnect(&self, req: ConnectRequest) -> Result<Instance> {
        let ConnectRequest {
            instance: mut new,
            secret,
        } = req;
        tidy(&mut new)?;
        let saved = self
            .find_instance(&crate::domain::instance::reference(new.app, &new.name))
            .await?;
        let moved = Instance {
            fields: new.fields,
            endpoint: new.endpoint,
            ..saved
        };
        connectors::for_instance(&moved, secret.clone())?
            .check()
            .await?;
        let stored = moved.clone();
        self.db(move |s| s.reconnect_instance(&stored, &secret))
            .await?;
        self.forget_clients(moved.id);
        self.emit(Event::InstancesChanged);
        self.wake_scheduler();
        Ok(moved)
    }

    /// Drops the clients built with an instance's old secret.
    fn forget_clients(&self, id: InstanceId) {
        self.inner
            .connectors
            .lock()
            .expect("connectors lock")
            .remove(&id);
        self.inner.graph.lock().expect("graph lock").remove(&id);
    }

    /// R-C3 again, for an instance already saved.
    pub async fn test(&self, instance: &str) -> Result<ConnectionCheck> {
        let instance = self.find_instance(instance).await?;
        let connector = self.connector(&instance).await?;
        Ok(connector.check().await?)
    }

    pub async fn remove_instance(&self, instance: &str) -> Result<Instance> {
        let instance = self.find_instance(instance).await?;
        let id = instance.id;
        self.db(move |s| s.remove_instance(id)).await?;
        self.forget_clients(id);
        self.emit(Event::InstancesChanged);
        self.emit(Event::GroupsChanged);
        Ok(instance)
    }

    pub async fn instances(&self) -> Result<Vec<InstanceSummary>> {
        self.db(|s| {
            s.instances()?
                .into_iter()
                .map(|instance| {
                    Ok(InstanceSummary {
                        users: s.user_count(instance.id)?,
                        scans: s.scans(instance.id)?,
                        streams: s.streams(instance.id)?,
                        instance,
                    })
                })
                .collect()
        })
        .await
    }

    /// Finds an instance by name (case-insensitive), or by `APP/NAME` where two
    /// apps have an instance of that name (R-C2); or says which names exist.
    pub async fn find_instance(&self, name: &str) -> Result<Instance> {
        let instances = self.db(|s| s.instances()).await?;
        let wanted = name.trim();
        let (app, bare) = match wanted.split_once('/') {
            Some((app, bare)) if AppKind::from_slug(app).is_some() => {
                (AppKind::from_slug(app), bare.trim())
            }
            _ => (None, wanted),
        };
        let mut found: Vec<&Instance> = instances
            .iter()
            .filter(|i| i.name.eq_ignore_ascii_case(bare) && app.is_none_or(|a| i.app == a))
            .collect();
        match found.len() {
            1 => return Ok(found.remove(0).clone()),
            0 => {}
            _ => {
                return Err(ServiceError::Ambiguous {
                    what: "instance name",
                    name: bare.to_owned(),
                    candidates: found
                        .iter()
                        .map(|i| format!("{}/{} ({})", i.app.slug(), i.name, i.app.display_name()))
                        .collect(),
                });
            }
        }
        let suggestions = names::closest(bare, instances.iter().map(|i| i.name.as_str()));
        Err(ServiceError::Unknown {
            what: "instance",
            name: name.to_owned(),
            suggestions,
        })
    }

    /// The instance's connector, built once and kept for its token cache.
    pub(super) async fn connector(&self, instance: &Instance) -> Result<Arc<dyn Connector>> {
        if let Some(c) = self
            .inner
            .connectors
            .lock()
            .expect("connectors lock")
            .get(&instance.id)
        {
            return Ok(Arc::clone(c));
        }
        let id = instance.id;
        let secret = self.db(move |s| s.secret(id)).await?;
        let connector = connectors::for_instance(instance, secret)?;
        let mut cache = self.inner.connectors.lock().expect("connectors lock");
        Ok(Arc::clone(cache.entry(id).or_insert(connector)))
    }
}

/// R-C7: an endpoint replaces the vendor's hosts, so it must be a bare base URL, and
/// plain http only to this machine.
/// Trims what was typed and refuses what cannot be connected, before any request.
fn tidy(new: &mut NewInstance) -> Result<()> {
    new.name = new.name.trim().to_owned();
    for value in new.fields.values_mut() {
        *value = value.trim().to_owned();
    }
    if new.name.is_empty() {
        return Err(ServiceError::Invalid(
            "an instance needs a name; pass --name".into(),
        ));
    }
    if new.app == AppKind::Microsoft365 {
        // R-C5. File monitoring is not a casbah setting yet, so azure-ad-files cannot be chosen.
        validate_components(&new.components, false)
            .map_err(|e| ServiceError::Invalid(e.to_string()))?;
    }
    if let Some(endpoint) = &new.endpoint {
        check_endpoint(endpoint)?;
    }
    Ok(())
}

fn check_endpoint(endpoint: &str) -> Result<()> {
    match connectors::url::base(endpoint) {
        Ok(_) => Ok(()),
        Err(ConnectorError::Unreachable { detail, .. }) => Err(ServiceError::Invalid(format!(
            "--endpoint {endpoint:?}: {detail}; give a base URL such as https://graph.example.com"
        ))),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::check_endpoint;

    // R-C7
    #[test]
    fn endpoint_must_be_a_base_url() {
        assert!(check_endpoint("http://127.0.0.1:8080").is_ok());
        assert!(check_endpoint("https://graph.microsoft.us/").is_ok());
        assert!(check_endpoint("ftp://x").is_err());
        assert!(check_endpoint("not a url").is_err());
        assert!(check_endpoint("http://h/?a=b").is_err());
        assert!(check_endpoint("http://graph.example.com").is_err());
    }
}
