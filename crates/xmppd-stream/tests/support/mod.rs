//! Test-only SCRAM client (RFC 5802 §3 from the client's side), to drive the server.
#![allow(dead_code)]

pub mod c2s;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use xmppd_stream::sasl::credentials::ScramHash;

pub struct ScramClient {
    pub hash: ScramHash,
    pub gs2_header: String,
    pub cbind_data: Vec<u8>,
    pub bare: String,
    pub nonce: String,
    pub password: String,
}

impl ScramClient {
    pub fn new(
        hash: ScramHash,
        gs2_header: &str,
        cbind_data: &[u8],
        user: &str,
        password: &str,
    ) -> Self {
        let nonce = "clientnonce123".to_owned();
        Self {
            hash,
            gs2_header: gs2_header.to_owned(),
            cbind_data: cbind_data.to_vec(),
            bare: format!("n={user},r={nonce}"),
            nonce,
            password: password.to_owned(),
        }
    }

    pub fn client_first(&self) -> Vec<u8> {
        format!("{}{}", self.gs2_header, self.bare).into_bytes()
    }

    /// client-final for `server_first`, and the server-final we expect back.
    pub fn client_final(&self, server_first: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let server_first = std::str::from_utf8(server_first).unwrap();
        let mut nonce = "";
        let mut salt = Vec::new();
        let mut iterations = 0;
        for f in server_first.split(',') {
            if let Some(v) = f.strip_prefix("r=") {
                nonce = v;
            } else if let Some(v) = f.strip_prefix("s=") {
                salt = STANDARD.decode(v).unwrap();
            } else if let Some(v) = f.strip_prefix("i=") {
                iterations = v.parse().unwrap();
            }
        }
        assert!(nonce.starts_with(&self.nonce));
        let h = self.hash;
        let salted = h.hi(self.password.as_bytes(), &salt, iterations);
        let client_key = h.hmac(&salted, b"Client Key");
        let stored_key = h.hash(&client_key);
        let mut cbind = self.gs2_header.as_bytes().to_vec();
        cbind.extend_from_slice(&self.cbind_data);
        let without_proof = format!("c={},r={nonce}", STANDARD.encode(cbind));
        let auth = format!("{},{server_first},{without_proof}", self.bare);
        let sig = h.hmac(&stored_key, auth.as_bytes());
        let proof: Vec<u8> = client_key.iter().zip(&sig).map(|(a, b)| a ^ b).collect();
        let server_key = h.hmac(&salted, b"Server Key");
        let server_sig = h.hmac(&server_key, auth.as_bytes());
        (
            format!("{without_proof},p={}", STANDARD.encode(proof)).into_bytes(),
            format!("v={}", STANDARD.encode(server_sig)).into_bytes(),
        )
    }
}
