//! R-A1: the IP address of a record, read from what a vendor writes where an
//! address belongs.
//!
//! Vendors write more than bare addresses there. The Office 365 Management
//! API's `ClientIP` alone takes every form below:
//!
//! ```text
//! 10.1.2.3                 IPv4
//! 2001:db8::1              IPv6
//! ::ffff:10.1.2.3          IPv4-mapped IPv6, stored as 10.1.2.3
//! 10.1.2.3:5678            IPv4 with a port
//! [10.1.2.3]:5678          bracketed, with a port
//! [2001:db8::1]:443        bracketed IPv6, with a port
//! ffff:10.1.2.3            Microsoft's own published sample of a mapped address
//! ```
//!
//! Anything else is not an address: a host name (`localhost`,
//! `[cool.client.local]:12345`), brackets without a port, text around an
//! address. It never becomes a record's `ip` (where `ip:` filters, the
//! country lookup and an investigator would take it for one); it is kept,
//! escaped, as the record's `address_text`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use super::text::sanitize;

/// The address in `text`, in one of the forms of the module comment;
/// IPv4-mapped IPv6 addresses come back as the IPv4 address.
pub fn parse(text: &str) -> Option<IpAddr> {
    let text = text.trim();
    let ip = if let Ok(ip) = text.parse::<IpAddr>() {
        ip
    } else if let Ok(socket) = text.parse::<SocketAddr>() {
        // "10.1.2.3:5678" and "[2001:db8::1]:443".
        socket.ip()
    } else if let Some((inner, port)) = text
        .strip_prefix('[')
        .and_then(|rest| rest.split_once("]:"))
    {
        // "[10.1.2.3]:5678", which `SocketAddr` keeps for IPv6.
        port.parse::<u16>().ok()?;
        inner.parse::<IpAddr>().ok()?
    } else {
        // "ffff:10.11.0.229": the Management API schema's Copilot sample
        // writes a mapped address without its leading "::".
        let v4 = text
            .get(..5)?
            .eq_ignore_ascii_case("ffff:")
            .then(|| &text[5..])?;
        IpAddr::V4(v4.parse::<Ipv4Addr>().ok()?)
    };
    Some(ip.to_canonical())
}

/// Where a vendor's address field goes in a record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientAddress {
    /// The address, written the standard way (`Activity::ip`).
    pub ip: Option<String>,
    /// What stood there when it was not an address, escaped
    /// (`Activity::address_text`).
    pub text: Option<String>,
}

impl ClientAddress {
    /// Reads a vendor's address field; blank or absent is neither.
    pub fn read(raw: Option<&str>) -> ClientAddress {
        let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
            return ClientAddress::default();
        };
        match parse(raw) {
            Some(ip) => ClientAddress {
                ip: Some(ip.to_string()),
                text: None,
            },
            None => ClientAddress {
                ip: None,
                text: Some(sanitize(raw)),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn read(raw: &str) -> (Option<String>, Option<String>) {
        let a = ClientAddress::read(Some(raw));
        (a.ip, a.text)
    }

    // issue 10: every form the Management API's ClientIP takes is read.
    #[test]
    fn every_client_ip_form_is_read() {
        for (raw, want) in [
            ("10.11.12.13", "10.11.12.13"),
            (" 52.159.112.221", "52.159.112.221"),
            ("2001:db8::abcd", "2001:db8::abcd"),
            ("2001:DB8:0:0:0:0:0:ABCD", "2001:db8::abcd"),
            ("::ffff:10.11.12.13", "10.11.12.13"),
            ("10.11.12.13:12345", "10.11.12.13"),
            ("[10.11.12.13]:12345", "10.11.12.13"),
            ("[::ffff:10.11.12.13]:12345", "10.11.12.13"),
            ("[2001:db8::abcd]:12345", "2001:db8::abcd"),
            ("ffff:10.11.0.229", "10.11.0.229"),
            ("FFFF:10.11.0.229", "10.11.0.229"),
            ("::1", "::1"),
        ] {
            assert_eq!(read(raw), (Some(want.to_string()), None), "{raw:?}");
        }
    }

    // issue 10: a host name, or anything else, is not an IP: it is kept,
    // escaped, apart from `ip`.
    #[test]
    fn anything_else_is_text() {
        for raw in [
            "localhost",
            "localhost:12345",
            "[localhost]:12345",
            "cool.client.local",
            "[cool.client.local]:12345",
            "cool.client.local:12345",
            "[2001:db8::abcd]",
            "[10.11.12.13]",
            "[10.11.12.13]:port",
            "[10.11.12.13]:70000",
            "10.11.12.13:",
            "NOTANIPV4 (10.9000.0.1)",
            "10.900.0.1",
            "ffff:",
            "ffff:10.11.0",
            "fe80::1%eth0",
        ] {
            assert_eq!(read(raw), (None, Some(raw.to_string())), "{raw:?}");
        }
        assert_eq!(
            read("host\u{1b}]2;x\u{7}\u{202e}"),
            (None, Some("host^[]2;x^G\\u{202e}".to_string()))
        );
        assert_eq!(ClientAddress::read(Some("  ")), ClientAddress::default());
        assert_eq!(ClientAddress::read(None), ClientAddress::default());
    }

    proptest! {
        // issue 10: whatever is read as an address is one, in the standard
        // form, and reads back as itself; nothing is both or lost.
        #[test]
        fn an_address_reads_back_as_itself(raw in "\\PC{0,40}") {
            let a = ClientAddress::read(Some(&raw));
            if let Some(ip) = &a.ip {
                prop_assert!(a.text.is_none());
                let parsed: IpAddr = ip.parse().unwrap();
                prop_assert_eq!(&parsed.to_string(), ip);
                prop_assert_eq!(parse(ip), Some(parsed));
            } else {
                prop_assert_eq!(a.text.is_some(), !raw.trim().is_empty());
            }
        }

        #[test]
        fn addresses_with_ports_are_read(v4 in any::<[u8; 4]>(), v6 in any::<[u16; 8]>(), port in any::<u16>()) {
            let v4 = Ipv4Addr::from(v4);
            let v6 = std::net::Ipv6Addr::from(v6);
            prop_assert_eq!(parse(&format!("{v4}:{port}")), Some(IpAddr::V4(v4)));
            prop_assert_eq!(parse(&format!("[{v4}]:{port}")), Some(IpAddr::V4(v4)));
            prop_assert_eq!(parse(&format!("[{v6}]:{port}")), Some(IpAddr::V6(v6).to_canonical()));
            prop_assert_eq!(parse(&v4.to_ipv6_mapped().to_string()), Some(IpAddr::V4(v4)));
        }
    }
}
