//! SCRAM server side against the RFC examples and a test client (RFC 5802, 7677, 9266, 5929).

mod support;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use proptest::prelude::*;
use support::ScramClient;
use xmpp_parsers::sasl::DefinedCondition;
use xmppd_stream::sasl::SaslError;
use xmppd_stream::sasl::credentials::{ScramCredentials, ScramHash};
use xmppd_stream::sasl::scram::{
    ChannelBindingData, ScramMechanism, ScramServer, ScramSuccess, UnknownUserKey,
};

const SHA1: ScramMechanism = ScramMechanism::new(ScramHash::Sha1, false);
const SHA256: ScramMechanism = ScramMechanism::new(ScramHash::Sha256, false);

fn unknown() -> UnknownUserKey {
    UnknownUserKey {
        secret: [7; 32],
        iterations: 4096,
    }
}

fn exporter() -> ChannelBindingData {
    ChannelBindingData {
        tls_exporter: Some(b"exporter-bytes-for-this-session!".to_vec()),
        tls_server_end_point: Some(b"certificate-hash".to_vec()),
    }
}

/// Run a known-answer exchange and compare every server message byte for byte.
fn known_answer(mech: ScramMechanism, salt_b64: &str, server_nonce: &str, msgs: [&str; 4]) {
    let [client_first, server_first, client_final, server_final] = msgs;
    let salt = STANDARD.decode(salt_b64).unwrap();
    let creds = ScramCredentials::derive(mech.hash, "pencil", &salt, 4096);
    let server = ScramServer::new_with_nonce(mech, ChannelBindingData::none(), server_nonce.into());
    let need = server.client_first(client_first.as_bytes()).unwrap();
    assert_eq!(need.username, "user");
    assert_eq!(need.authzid, None);
    let (waiting, sent) = need.with_credentials(Some(creds), &unknown());
    assert_eq!(String::from_utf8(sent).unwrap(), server_first);
    let ok = waiting.client_final(client_final.as_bytes()).unwrap();
    assert_eq!(
        ok,
        ScramSuccess {
            server_final: server_final.as_bytes().to_vec(),
            username: "user".into(),
            authzid: None,
        }
    );
}

#[test]
fn rfc5802_sha1_example() {
    known_answer(
        SHA1,
        "QSXCR+Q6sek8bf92",
        "3rfcNHYJY1ZVvWVs7j",
        [
            "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
            "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
            "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
            "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=",
        ],
    );
}

#[test]
fn rfc7677_sha256_example() {
    known_answer(
        SHA256,
        "W22ZaJ0SNY7soEsUEjb6gQ==",
        "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
        [
            "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
            "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
            "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
        ],
    );
}

/// Run an exchange with the test client; returns the server's verdict.
fn exchange(
    mech: ScramMechanism,
    offered: ChannelBindingData,
    client: &ScramClient,
    stored_password: Option<&str>,
) -> Result<ScramSuccess, SaslError> {
    let need = ScramServer::new(mech, offered).client_first(&client.client_first())?;
    let creds =
        stored_password.map(|p| ScramCredentials::derive(mech.hash, p, b"salt1234salt1234", 64));
    let (waiting, server_first) = need.with_credentials(creds, &unknown());
    let (client_final, expected_server_final) = client.client_final(&server_first);
    let ok = waiting.client_final(&client_final)?;
    assert_eq!(ok.server_final, expected_server_final);
    Ok(ok)
}

#[test]
fn sha512_round_trip() {
    let mech = ScramMechanism::new(ScramHash::Sha512, false);
    let client = ScramClient::new(ScramHash::Sha512, "n,,", b"", "juliet", "r0m30");
    let ok = exchange(mech, ChannelBindingData::none(), &client, Some("r0m30")).unwrap();
    assert_eq!(ok.username, "juliet");
}

#[test]
fn plus_with_tls_exporter_and_server_end_point() {
    let data = exporter();
    for (name, bytes) in [
        ("tls-exporter", data.tls_exporter.clone().unwrap()),
        (
            "tls-server-end-point",
            data.tls_server_end_point.clone().unwrap(),
        ),
    ] {
        for hash in [ScramHash::Sha1, ScramHash::Sha256, ScramHash::Sha512] {
            let client = ScramClient::new(hash, &format!("p={name},,"), &bytes, "juliet", "pw");
            let mech = ScramMechanism::new(hash, true);
            exchange(mech, data.clone(), &client, Some("pw")).unwrap();
        }
    }
}

#[test]
fn plus_with_wrong_binding_data_fails() {
    let client = ScramClient::new(
        ScramHash::Sha256,
        "p=tls-exporter,,",
        b"other session",
        "juliet",
        "pw",
    );
    let mech = ScramMechanism::new(ScramHash::Sha256, true);
    let err = exchange(mech, exporter(), &client, Some("pw")).unwrap_err();
    assert_eq!(err, SaslError::ChannelBindingMismatch);
    assert_eq!(err.condition(), DefinedCondition::NotAuthorized);
}

#[test]
fn binding_type_must_be_offered() {
    let offered = ChannelBindingData {
        tls_exporter: None,
        tls_server_end_point: Some(b"h".to_vec()),
    };
    let mech = ScramMechanism::new(ScramHash::Sha256, true);
    for kind in ["tls-exporter", "tls-unique"] {
        let err = ScramServer::new(mech, offered.clone())
            .client_first(format!("p={kind},,n=u,r=abc").as_bytes())
            .unwrap_err();
        assert_eq!(err, SaslError::ChannelBindingType(kind.into()));
    }
}

#[test]
fn downgrade_is_refused_but_plain_n_is_fine() {
    let err = ScramServer::new(SHA256, exporter())
        .client_first(b"y,,n=u,r=abc")
        .unwrap_err();
    assert_eq!(err, SaslError::ChannelBindingDowngrade);
    assert_eq!(err.condition(), DefinedCondition::NotAuthorized);
    // `y` is fine when we really offer no binding.
    let client = ScramClient::new(ScramHash::Sha256, "y,,", b"", "u", "pw");
    exchange(SHA256, ChannelBindingData::none(), &client, Some("pw")).unwrap();
    // `n` is fine even when we do.
    let client = ScramClient::new(ScramHash::Sha256, "n,,", b"", "u", "pw");
    exchange(SHA256, exporter(), &client, Some("pw")).unwrap();
}

#[test]
fn mismatched_flag_and_mechanism_are_malformed() {
    let plus = ScramMechanism::new(ScramHash::Sha256, true);
    let err = ScramServer::new(plus, exporter())
        .client_first(b"n,,n=u,r=a")
        .unwrap_err();
    assert_eq!(
        err,
        SaslError::Parse {
            step: "client-first",
            reason: "-PLUS without channel binding"
        }
    );
    let err = ScramServer::new(SHA256, exporter())
        .client_first(b"p=tls-exporter,,n=u,r=a")
        .unwrap_err();
    assert_eq!(
        err,
        SaslError::Parse {
            step: "client-first",
            reason: "channel binding without -PLUS"
        }
    );
    assert_eq!(err.condition(), DefinedCondition::MalformedRequest);
}

#[test]
fn wrong_password_and_unknown_user_fail_the_same_way() {
    let client = ScramClient::new(ScramHash::Sha256, "n,,", b"", "juliet", "wrong");
    let wrong = exchange(SHA256, ChannelBindingData::none(), &client, Some("right")).unwrap_err();
    let unknown_user = exchange(SHA256, ChannelBindingData::none(), &client, None).unwrap_err();
    assert_eq!(wrong, SaslError::Verify);
    assert_eq!(unknown_user, SaslError::Verify);
    assert_eq!(wrong.condition(), DefinedCondition::NotAuthorized);
}

#[test]
fn unknown_user_gets_a_stable_plausible_salt() {
    let first = |user: &str| {
        let need = ScramServer::new(SHA256, ChannelBindingData::none())
            .client_first(format!("n,,n={user},r=abc").as_bytes())
            .unwrap();
        let (_, sent) = need.with_credentials(None, &unknown());
        let sent = String::from_utf8(sent).unwrap();
        sent.split(',').skip(1).collect::<Vec<_>>().join(",")
    };
    assert_eq!(first("ghost"), first("ghost"));
    assert_ne!(first("ghost"), first("other"));
    assert!(first("ghost").ends_with(",i=4096"));
}

#[test]
fn tampered_nonce_and_bad_proof_fail() {
    let client = ScramClient::new(ScramHash::Sha256, "n,,", b"", "u", "pw");
    let need = ScramServer::new(SHA256, ChannelBindingData::none())
        .client_first(&client.client_first())
        .unwrap();
    let creds = ScramCredentials::derive(ScramHash::Sha256, "pw", b"s", 16);
    let (waiting, _) = need.with_credentials(Some(creds.clone()), &unknown());
    assert_eq!(
        waiting
            .client_final(b"c=biws,r=clientnonce123XX,p=AAAA")
            .unwrap_err(),
        SaslError::Nonce
    );

    let need = ScramServer::new_with_nonce(SHA256, ChannelBindingData::none(), "S".into())
        .client_first(&client.client_first())
        .unwrap();
    let (waiting, _) = need.with_credentials(Some(creds), &unknown());
    assert_eq!(
        waiting
            .client_final(b"c=biws,r=clientnonce123S,p=AAAA")
            .unwrap_err(),
        SaslError::Parse {
            step: "client-final",
            reason: "proof has the wrong length"
        }
    );
}

#[test]
fn non_utf8_is_malformed() {
    let err = ScramServer::new(SHA256, ChannelBindingData::none())
        .client_first(b"n,,n=\xff,r=a")
        .unwrap_err();
    assert_eq!(
        err,
        SaslError::Parse {
            step: "client-first",
            reason: "not UTF-8"
        }
    );
}

#[test]
fn plain_verifies_against_scram_credentials() {
    let creds = ScramCredentials::derive(ScramHash::Sha256, "secret", b"salt", 32);
    assert!(creds.verify_password("secret"));
    assert!(!creds.verify_password("Secret"));
    assert!(!format!("{creds:?}").contains("stored_key"));
}

proptest! {
    #[test]
    fn any_client_first_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
        let _ = ScramServer::new(SHA256, exporter()).client_first(&bytes);
    }

    #[test]
    fn any_client_final_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..120)) {
        let need = ScramServer::new(SHA1, ChannelBindingData::none()).client_first(b"n,,n=u,r=a").unwrap();
        let (waiting, _) = need.with_credentials(None, &unknown());
        let _ = waiting.client_final(&bytes);
    }
}
