//! RS256 client assertions: Okta's `private_key_jwt` and Google's JWT-bearer
//! grant sign a short-lived JWT with the customer's private key, given as PEM
//! (PKCS#1 or PKCS#8) or, for Okta, as a JWK.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};

use crate::domain::Secret;

/// Why a private key cannot be used; never quotes the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the private key is neither an RSA key in PEM form nor an RSA JWK")]
    Unreadable,
    #[error("the JWK is not an RSA private key (it needs kty RSA and n, e, d, p, q, dp, dq, qi)")]
    NotPrivateRsaJwk,
    #[error("the JWT could not be signed: {0}")]
    Signing(String),
}

/// A private RSA key ready to sign, with the key id a JWK may name.
pub struct SigningKey {
    key: EncodingKey,
    kid: Option<String>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// The members of a private RSA JWK (RFC 7518 §6.3), base64url without padding.
#[derive(Deserialize)]
struct Jwk {
    kty: String,
    kid: Option<String>,
    n: Option<String>,
    e: Option<String>,
    d: Option<String>,
    p: Option<String>,
    q: Option<String>,
    dp: Option<String>,
    dq: Option<String>,
    qi: Option<String>,
}

impl SigningKey {
    /// Reads a PEM key, or a JWK (one object, or the first key of a JWK set).
    pub fn parse(key: &Secret) -> Result<SigningKey, KeyError> {
        let text = key.expose().trim();
        if text.starts_with("-----BEGIN") {
            let key =
                EncodingKey::from_rsa_pem(text.as_bytes()).map_err(|_| KeyError::Unreadable)?;
            return Ok(SigningKey { key, kid: None });
        }
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|_| KeyError::Unreadable)?;
        let jwk = match value.get("keys").and_then(|k| k.get(0)) {
            Some(first) => first.clone(),
            None => value,
        };
        let jwk: Jwk = serde_json::from_value(jwk).map_err(|_| KeyError::NotPrivateRsaJwk)?;
        let der = pkcs1_der(&jwk)?;
        Ok(SigningKey {
            key: EncodingKey::from_rsa_der(&der),
            kid: jwk.kid,
        })
    }

    /// Names the key in the JWT header (`kid`), as a vendor that keeps several
    /// keys per client asks: Google's `private_key_id`.
    pub fn with_kid(mut self, kid: impl Into<String>) -> SigningKey {
        self.kid = Some(kid.into());
        self
    }

    /// The compact JWS of `claims`, RS256, with the key's id when it has one.
    pub fn sign(&self, claims: &impl Serialize) -> Result<String, KeyError> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid.clone_from(&self.kid);
        jsonwebtoken::encode(&header, claims, &self.key)
            .map_err(|e| KeyError::Signing(e.to_string()))
    }
}

fn uint(bytes: &[u8]) -> Result<pkcs1::UintRef<'_>, KeyError> {
    pkcs1::UintRef::new(bytes).map_err(|_| KeyError::NotPrivateRsaJwk)
}

/// The PKCS#1 `RSAPrivateKey` of a private RSA JWK.
fn pkcs1_der(jwk: &Jwk) -> Result<Vec<u8>, KeyError> {
    use pkcs1::der::Encode;
    if jwk.kty != "RSA" {
        return Err(KeyError::NotPrivateRsaJwk);
    }
    let part = |v: &Option<String>| -> Result<Vec<u8>, KeyError> {
        let v = v.as_deref().ok_or(KeyError::NotPrivateRsaJwk)?;
        URL_SAFE_NO_PAD
            .decode(v.trim_end_matches('='))
            .map_err(|_| KeyError::NotPrivateRsaJwk)
    };
    let parts = [
        &jwk.n, &jwk.e, &jwk.d, &jwk.p, &jwk.q, &jwk.dp, &jwk.dq, &jwk.qi,
    ]
    .map(part);
    let [n, e, d, p, q, dp, dq, qi] = parts;
    let (n, e, d, p, q, dp, dq, qi) = (n?, e?, d?, p?, q?, dp?, dq?, qi?);
    pkcs1::RsaPrivateKey {
        modulus: uint(&n)?,
        public_exponent: uint(&e)?,
        private_exponent: uint(&d)?,
        prime1: uint(&p)?,
        prime2: uint(&q)?,
        exponent1: uint(&dp)?,
        exponent2: uint(&dq)?,
        coefficient: uint(&qi)?,
        other_prime_infos: None,
    }
    .to_der()
    .map_err(|_| KeyError::NotPrivateRsaJwk)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation};

    const PRIVATE: &str = include_str!("../../assets/sandbox/okta-service-app.pem");
    const PUBLIC: &str = include_str!("../../assets/sandbox/okta-service-app.pub.pem");
    const PKCS8: &str = include_str!("../../assets/sandbox/google-service-account.pem");

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    struct Claims {
        iss: String,
        aud: String,
        exp: u64,
    }

    fn claims() -> Claims {
        Claims {
            iss: "client".into(),
            aud: "https://example.okta.com/oauth2/v1/token".into(),
            exp: 4_000_000_000,
        }
    }

    fn verify(jwt: &str, public: &str) -> Claims {
        let mut v = Validation::new(Algorithm::RS256);
        v.set_audience(&["https://example.okta.com/oauth2/v1/token"]);
        let key = DecodingKey::from_rsa_pem(public.as_bytes()).unwrap();
        jsonwebtoken::decode::<Claims>(jwt, &key, &v)
            .unwrap()
            .claims
    }

    #[test]
    fn pkcs1_and_pkcs8_pem_keys_sign() {
        let jwt = SigningKey::parse(&Secret::new(PRIVATE))
            .unwrap()
            .sign(&claims())
            .unwrap();
        assert_eq!(verify(&jwt, PUBLIC), claims());
        let google = include_str!("../../assets/sandbox/google-service-account.pub.pem");
        let jwt = SigningKey::parse(&Secret::new(PKCS8))
            .unwrap()
            .with_kid("0123abcd")
            .sign(&claims())
            .unwrap();
        assert_eq!(verify(&jwt, google), claims());
        let header = jsonwebtoken::decode_header(&jwt).unwrap();
        assert_eq!(header.kid.as_deref(), Some("0123abcd"));
    }

    /// The sandbox Okta key as a private JWK, its parts read from the PEM's DER.
    fn jwk() -> serde_json::Value {
        use pkcs1::der::Decode;
        let (_, der) = pkcs1::der::pem::decode_vec(PRIVATE.as_bytes()).unwrap();
        let key = pkcs1::RsaPrivateKey::from_der(&der).unwrap();
        let b = |u: pkcs1::UintRef<'_>| URL_SAFE_NO_PAD.encode(u.as_bytes());
        serde_json::json!({
            "kty": "RSA", "kid": "sandbox-key-1", "alg": "RS256", "use": "sig",
            "n": b(key.modulus), "e": b(key.public_exponent), "d": b(key.private_exponent),
            "p": b(key.prime1), "q": b(key.prime2), "dp": b(key.exponent1),
            "dq": b(key.exponent2), "qi": b(key.coefficient),
        })
    }

    #[test]
    fn a_private_jwk_signs_with_its_kid() {
        let key = SigningKey::parse(&Secret::new(jwk().to_string())).unwrap();
        let jwt = key.sign(&claims()).unwrap();
        assert_eq!(verify(&jwt, PUBLIC), claims());
        let header = jsonwebtoken::decode_header(&jwt).unwrap();
        assert_eq!(header.kid.as_deref(), Some("sandbox-key-1"));
        let set = serde_json::json!({"keys": [jwk()]});
        assert!(SigningKey::parse(&Secret::new(set.to_string())).is_ok());
    }

    #[test]
    fn unusable_keys_say_why_without_quoting_them() {
        assert_eq!(
            SigningKey::parse(&Secret::new("not a key")).unwrap_err(),
            KeyError::Unreadable
        );
        let mut public_only = jwk();
        public_only.as_object_mut().unwrap().remove("d");
        assert_eq!(
            SigningKey::parse(&Secret::new(public_only.to_string())).unwrap_err(),
            KeyError::NotPrivateRsaJwk
        );
        let err = SigningKey::parse(&Secret::new(
            "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----",
        ))
        .unwrap_err();
        assert!(!err.to_string().contains("AAAA"));
    }
}
