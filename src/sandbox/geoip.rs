//! The sandbox's own GeoIP databases, in MaxMind's format: its address plan
//! (`org::country_block`) mapped back to countries, and to a made-up network
//! operator per country. The demo and the tests locate records with them, so
//! they need no download of GeoLite2 or DB-IP Lite.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ipnet::{IpNet, Ipv4Net};
use serde::Serialize;

use super::org::{VOCABULARY, country_block};

/// A GeoLite2-Country record, as much of it as casbah reads.
#[derive(Serialize)]
struct CountryRecord {
    country: Country,
}

#[derive(Serialize)]
struct Country {
    iso_code: String,
    names: BTreeMap<String, String>,
}

/// A GeoLite2-ASN record.
#[derive(Serialize)]
struct AsnRecord {
    autonomous_system_number: u32,
    autonomous_system_organization: String,
}

/// The operator the sandbox says a country's block belongs to.
pub fn operator(country: usize) -> String {
    format!("{} Sandbox Telecom", VOCABULARY.countries[country].name)
}

fn blocks() -> impl Iterator<Item = (usize, IpNet)> {
    (0..VOCABULARY.countries.len()).filter_map(|i| {
        let (net, prefix) = country_block(i);
        Some((i, IpNet::V4(Ipv4Net::new(net, prefix).ok()?)))
    })
}

/// The Country and ASN databases, as bytes.
pub fn databases() -> Result<(Vec<u8>, Vec<u8>), mmdb_writer::Error> {
    let mut country = mmdb_writer::Writer::new("GeoLite2-Country");
    let mut asn = mmdb_writer::Writer::new("GeoLite2-ASN");
    for (i, block) in blocks() {
        let c = &VOCABULARY.countries[i];
        country.insert(
            block,
            &CountryRecord {
                country: Country {
                    iso_code: c.code.clone(),
                    names: [("en".to_string(), c.name.clone())].into(),
                },
            },
        )?;
        asn.insert(
            block,
            &AsnRecord {
                autonomous_system_number: 64_512 + i as u32,
                autonomous_system_organization: operator(i),
            },
        )?;
    }
    Ok((country.to_bytes()?, asn.to_bytes()?))
}

/// Writes both databases into `dir` (0600 files): their paths, Country then ASN.
pub fn write_databases(dir: &Path) -> std::io::Result<(PathBuf, PathBuf)> {
    use std::os::unix::fs::OpenOptionsExt;
    let (country, asn) = databases().map_err(std::io::Error::other)?;
    let write = |name: &str, bytes: &[u8]| -> std::io::Result<PathBuf> {
        let path = dir.join(name);
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)?;
        std::io::Write::write_all(&mut file, bytes)?;
        Ok(path)
    };
    Ok((
        write("sandbox-country.mmdb", &country)?,
        write("sandbox-asn.mmdb", &asn)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::org::address;

    // R-A1: the databases place every address of the plan in its country, with its operator.
    #[test]
    fn the_address_plan_maps_back_to_its_countries() {
        let (country, asn) = databases().unwrap();
        let country = maxminddb::Reader::from_source(country).unwrap();
        let asn = maxminddb::Reader::from_source(asn).unwrap();
        for (i, c) in VOCABULARY.countries.iter().enumerate() {
            for host in [0, 7, 65_000, u64::MAX] {
                let ip: std::net::IpAddr = address(i, host).parse().unwrap();
                let found: maxminddb::geoip2::Country =
                    country.lookup(ip).unwrap().decode().unwrap().unwrap();
                assert_eq!(found.country.iso_code, Some(c.code.as_str()), "{ip}");
                let found: maxminddb::geoip2::Asn =
                    asn.lookup(ip).unwrap().decode().unwrap().unwrap();
                assert_eq!(
                    found.autonomous_system_organization,
                    Some(operator(i).as_str())
                );
            }
        }
        let outside: std::net::IpAddr = "203.0.113.7".parse().unwrap();
        assert!(!country.lookup(outside).unwrap().has_data());
    }
}
