//! R-A1: the country and network operator of an address, from MaxMind-format
//! databases (GeoLite2 or DB-IP Lite, Country and ASN), for records that carry an
//! address but not where it is (Office 365 file activity, most audit events).
//!
//! The databases are the settings `geoip.country` and `geoip.asn`, else the files
//! found beside the database (`GeoLite2-Country.mmdb`, `dbip-asn-lite-2026-12.mmdb`,
//! …). Without them, country and ISP are what vendors send, and casbah says so.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use maxminddb::Reader;

use super::{Local, Result, ServiceError};
use crate::domain::text::sanitize;
use crate::store::{Locate, Place};

pub const COUNTRY_SETTING: &str = "geoip.country";
pub const ASN_SETTING: &str = "geoip.asn";

/// Where the databases in force come from.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GeoIpSources {
    pub country: Option<PathBuf>,
    pub asn: Option<PathBuf>,
}

impl GeoIpSources {
    /// What `connectors list` and `settings list` say when a database is missing.
    pub fn limits(&self) -> Option<String> {
        let missing: Vec<&str> = [(&self.country, "country"), (&self.asn, "ISP")]
            .into_iter()
            .filter(|(p, _)| p.is_none())
            .map(|(_, what)| what)
            .collect();
        (!missing.is_empty()).then(|| {
            format!(
                "{} limited to what vendors send: add a MaxMind-format database (GeoLite2 or DB-IP Lite) with `casbah settings set {COUNTRY_SETTING} PATH` and `casbah settings set {ASN_SETTING} PATH`, or put it beside the database",
                missing.join(" and ")
            )
        })
    }
}

/// Country and ASN databases, read into memory.
pub struct GeoIp {
    country: Option<Reader<Vec<u8>>>,
    asn: Option<Reader<Vec<u8>>>,
}

impl std::fmt::Debug for GeoIp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoIp")
            .field("country", &self.country.is_some())
            .field("asn", &self.asn.is_some())
            .finish()
    }
}

fn reader(bytes: Vec<u8>, what: &str) -> std::result::Result<Reader<Vec<u8>>, String> {
    Reader::from_source(bytes).map_err(|e| {
        format!(
            "{what} is not a MaxMind-format database ({})",
            sanitize(&e.to_string())
        )
    })
}

impl GeoIp {
    /// From the databases' bytes (either may be absent).
    pub fn from_bytes(
        country: Option<Vec<u8>>,
        asn: Option<Vec<u8>>,
    ) -> std::result::Result<GeoIp, String> {
        Ok(GeoIp {
            country: country
                .map(|b| reader(b, "the country database"))
                .transpose()?,
            asn: asn.map(|b| reader(b, "the ASN database")).transpose()?,
        })
    }

    /// Reads the databases `sources` names.
    pub fn open(sources: &GeoIpSources) -> std::result::Result<GeoIp, String> {
        let read = |path: &Option<PathBuf>| {
            path.as_ref()
                .map(|p| std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display())))
                .transpose()
        };
        GeoIp::from_bytes(read(&sources.country)?, read(&sources.asn)?)
    }
}

impl Locate for GeoIp {
    fn locate(&self, ip: IpAddr) -> Place {
        let country = self.country.as_ref().and_then(|r| {
            let found: maxminddb::geoip2::Country = r.lookup(ip).ok()?.decode().ok()??;
            found.country.iso_code.map(|c| c.to_ascii_uppercase())
        });
        let isp = self.asn.as_ref().and_then(|r| {
            let found: maxminddb::geoip2::Asn = r.lookup(ip).ok()?.decode().ok()??;
            found.autonomous_system_organization.map(sanitize)
        });
        Place { country, isp }
    }
}

/// A database file beside the database whose name holds `kind` ("country", "asn"):
/// the last by name, so that DB-IP's dated monthly files pick the newest.
fn found(dir: &Path, kind: &str) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_ascii_lowercase();
            name.ends_with(".mmdb") && name.contains(kind)
        })
        .collect();
    found.sort();
    found.pop()
}

impl Local {
    /// The databases in force: the settings' paths, else those found beside the database.
    pub async fn geoip_sources(&self) -> Result<GeoIpSources> {
        let dir = self.inner.data_dir.clone();
        self.db(move |s| {
            let pick = |setting: &str, kind: &str| -> crate::store::Result<Option<PathBuf>> {
                Ok(match s.setting(setting)?.filter(|v| !v.is_empty()) {
                    Some(path) => Some(PathBuf::from(path)),
                    None => dir.as_deref().and_then(|d| found(d, kind)),
                })
            };
            Ok(GeoIpSources {
                country: pick(COUNTRY_SETTING, "country")?,
                asn: pick(ASN_SETTING, "asn")?,
            })
        })
        .await
    }

    /// The locator for ingestion, read once per change of sources. A database that
    /// cannot be read is logged and left out, not the end of the scan.
    pub(super) async fn locator(&self) -> Result<Option<Arc<dyn Locate>>> {
        let sources = self.geoip_sources().await?;
        if sources == GeoIpSources::default() {
            return Ok(None);
        }
        if let Some((loaded, geo)) = self.inner.geoip.lock().expect("geoip lock").as_ref()
            && *loaded == sources
        {
            return Ok(Some(Arc::clone(geo) as Arc<dyn Locate>));
        }
        let read = sources.clone();
        let geo = tokio::task::spawn_blocking(move || GeoIp::open(&read))
            .await
            .map_err(ServiceError::join)?;
        match geo {
            Ok(geo) => {
                let geo = Arc::new(geo);
                *self.inner.geoip.lock().expect("geoip lock") = Some((sources, Arc::clone(&geo)));
                Ok(Some(geo))
            }
            Err(e) => {
                tracing::warn!("GeoIP: {e}; country and ISP are what vendors send");
                Ok(None)
            }
        }
    }

    /// Checks that `path` is a readable MaxMind-format database before it is set.
    pub(super) async fn check_geoip(&self, path: &Path) -> Result<()> {
        let sources = GeoIpSources {
            country: Some(path.to_owned()),
            asn: None,
        };
        tokio::task::spawn_blocking(move || GeoIp::open(&sources).map(|_| ()))
            .await
            .map_err(ServiceError::join)?
            .map_err(ServiceError::Invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // R-A1: the sandbox's databases place its addresses; others are nowhere.
    #[test]
    fn addresses_are_placed_by_the_databases() {
        let (country, asn) = crate::sandbox::geoip::databases().unwrap();
        let geo = GeoIp::from_bytes(Some(country), Some(asn)).unwrap();
        let de = crate::sandbox::org::VOCABULARY
            .countries
            .iter()
            .position(|c| c.code == "DE")
            .unwrap();
        let ip = crate::sandbox::org::address(de, 42).parse().unwrap();
        assert_eq!(
            geo.locate(ip),
            Place {
                country: Some("DE".into()),
                isp: Some(crate::sandbox::geoip::operator(de)),
            }
        );
        assert_eq!(geo.locate("203.0.113.7".parse().unwrap()), Place::default());
        assert!(GeoIp::from_bytes(Some(b"not a database".to_vec()), None).is_err());
    }

    #[test]
    fn missing_databases_are_named_with_how_to_add_them() {
        let none = GeoIpSources::default().limits().unwrap();
        assert!(none.starts_with("country and ISP limited"), "{none}");
        assert!(none.contains("geoip.country") && none.contains("geoip.asn"));
        let half = GeoIpSources {
            country: Some("/x.mmdb".into()),
            asn: None,
        };
        assert!(half.limits().unwrap().starts_with("ISP limited"));
        let both = GeoIpSources {
            country: Some("/x".into()),
            asn: Some("/y".into()),
        };
        assert_eq!(both.limits(), None);
    }
}
