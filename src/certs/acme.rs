//! `source: acme`: certificates from any RFC 8555 directory (Let's Encrypt, pebble, ...) with
//! instant-acme. The account key is kept in the state directory and reused; HTTP-01 is answered
//! by the built-in responder (or nginx through the webroot), TLS-ALPN-01 (RFC 8737) optionally.

use super::Issued;
use super::error::CertsError;
use super::responder::Responder;
use super::store::{KEY_MODE, StateDir, layout};
use crate::spec::Challenge;
use indicatif::{ProgressBar, ProgressStyle};
use instant_acme::{
    Account, AccountBuilder, AccountCredentials, AuthorizationStatus, ChallengeType, Identifier,
    NewAccount, NewOrder, OrderStatus, RetryPolicy,
};
use rcgen::{CertificateParams, DistinguishedName, KeyPair};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

/// One certificate request.
#[derive(Debug, Clone)]
pub struct Request {
    pub directory: String,
    pub email: String,
    pub challenge: Challenge,
    /// PEM of the CA that signed the ACME server's own HTTPS certificate.
    pub ca_bundle: Option<PathBuf>,
    pub names: Vec<String>,
    /// Port for the HTTP-01 responder (the spec's HTTP port).
    pub http_port: Option<u16>,
    /// Port for the TLS-ALPN-01 responder (the spec's HTTPS port).
    pub tls_port: Option<u16>,
    /// How long validation and issuance may take.
    pub timeout: Duration,
    pub progress: bool,
}

/// `acme/account.json`: the credentials (with the account key) and the directory they belong to.
#[derive(Serialize, Deserialize)]
struct StoredAccount {
    directory: String,
    credentials: AccountCredentials,
}

/// Obtains a certificate; returns it with notes for the user. Writes nothing but the account
/// (and, while the order runs, challenge files in the webroot).
pub fn obtain(state: &StateDir, request: &Request) -> Result<(Issued, Vec<String>), CertsError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CertsError::AcmeUnreachable {
            directory: request.directory.clone(),
            message: format!("starting the async runtime: {e}"),
        })?;
    let bar = if request.progress {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} ACME: {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    } else {
        ProgressBar::hidden()
    };
    let result = runtime.block_on(run(state, request, &bar));
    bar.finish_and_clear();
    result
}

fn builder(request: &Request) -> Result<AccountBuilder, CertsError> {
    let built = match &request.ca_bundle {
        Some(bundle) => Account::builder_with_root(bundle),
        None => Account::builder(),
    };
    built.map_err(|e| CertsError::AcmeUnreachable {
        directory: request.directory.clone(),
        message: format!("setting up the HTTPS client: {e}"),
    })
}

/// Classifies an instant-acme error: a problem document is the server speaking; anything else
/// means we did not get an answer.
fn is_problem(e: &instant_acme::Error) -> bool {
    matches!(e, instant_acme::Error::Api(_))
}

async fn account(state: &StateDir, request: &Request) -> Result<(Account, bool), CertsError> {
    let unreachable = |e: instant_acme::Error| CertsError::AcmeUnreachable {
        directory: request.directory.clone(),
        message: e.to_string(),
    };
    if let Some(bytes) = state.read(layout::ACME_ACCOUNT)? {
        let stored: StoredAccount = serde_json::from_slice(&bytes).map_err(|e| {
            CertsError::AcmeAccount(format!("{} is unreadable: {e}", layout::ACME_ACCOUNT))
        })?;
        // An account belongs to one directory; a new directory gets a new account.
        if stored.directory == request.directory {
            let account = builder(request)?
                .from_credentials(stored.credentials)
                .await
                .map_err(unreachable)?;
            return Ok((account, false));
        }
    }
    let contact = format!("mailto:{}", request.email);
    let (account, credentials) = builder(request)?
        .create(
            &NewAccount {
                contact: &[contact.as_str()],
                terms_of_service_agreed: true,
                only_return_existing: false,
            },
            request.directory.clone(),
            None,
        )
        .await
        .map_err(|e| {
            if is_problem(&e) {
                CertsError::AcmeAccount(e.to_string())
            } else {
                unreachable(e)
            }
        })?;
    let stored = StoredAccount {
        directory: request.directory.clone(),
        credentials,
    };
    let json = serde_json::to_vec_pretty(&stored)
        .map_err(|e| CertsError::AcmeAccount(format!("serialising the account: {e}")))?;
    state.write(layout::ACME_ACCOUNT, &json, KEY_MODE)?;
    Ok((account, true))
}

async fn run(
    state: &StateDir,
    request: &Request,
    bar: &ProgressBar,
) -> Result<(Issued, Vec<String>), CertsError> {
    let mut notes = Vec::new();
    bar.set_message(format!("contacting {}", request.directory));
    let (account, created) = account(state, request).await?;
    if created {
        notes.push(format!(
            "created an ACME account at {} (kept in {})",
            request.directory,
            state.path(layout::ACME_ACCOUNT).display()
        ));
    }
    let all = request.names.join(", ");
    bar.set_message(format!("ordering a certificate for {all}"));
    let identifiers: Vec<Identifier> = request
        .names
        .iter()
        .map(|n| Identifier::Dns(n.clone()))
        .collect();
    let mut order = account
        .new_order(&NewOrder::new(&identifiers))
        .await
        .map_err(|e| {
            if is_problem(&e) {
                CertsError::AcmeOrderRefused {
                    names: all.clone(),
                    message: e.to_string(),
                }
            } else {
                CertsError::AcmeUnreachable {
                    directory: request.directory.clone(),
                    message: e.to_string(),
                }
            }
        })?;

    let mut responder = Responder::default();
    let (kind, label) = match request.challenge {
        Challenge::Http01 => (ChallengeType::Http01, "http-01"),
        Challenge::TlsAlpn01 => (ChallengeType::TlsAlpn01, "tls-alpn-01"),
    };
    let challenge_err = |name: &str, message: String| CertsError::AcmeChallenge {
        challenge: label,
        name: name.to_owned(),
        message,
    };
    match request.challenge {
        Challenge::Http01 => {
            let port = request
                .http_port
                .ok_or_else(|| challenge_err(&all, "the spec has no ports.http".to_owned()))?;
            if !responder.start_http(port).await? {
                notes.push(format!(
                    "port {port} is in use: HTTP-01 answered through the webroot (nginx)"
                ));
            }
        }
        Challenge::TlsAlpn01 => {
            let port = request
                .tls_port
                .ok_or_else(|| challenge_err(&all, "the spec has no ports.https".to_owned()))?;
            responder.start_tls_alpn(port).await?;
        }
    }

    bar.set_message("answering challenges".to_owned());
    let mut tokens = Vec::new();
    let mut authorizations = order.authorizations();
    while let Some(authz) = authorizations.next().await {
        let mut authz = authz.map_err(|e| challenge_err(&all, e.to_string()))?;
        // Pebble (and real CAs) reuse valid authorizations: nothing to answer then.
        if authz.status == AuthorizationStatus::Valid {
            continue;
        }
        let name = authz.identifier().to_string();
        if authz.status != AuthorizationStatus::Pending {
            return Err(challenge_err(
                &name,
                format!("the authorization is {:?}", authz.status),
            ));
        }
        let mut challenge = authz.challenge(kind.clone()).ok_or_else(|| {
            challenge_err(&name, "the server does not offer this challenge".to_owned())
        })?;
        let key_auth = challenge.key_authorization();
        match request.challenge {
            Challenge::Http01 => {
                // The token becomes a file name: only base64url (RFC 8555 section 8.3), so a
                // hostile server cannot write outside the webroot.
                let token = challenge.token.as_str();
                if token.is_empty()
                    || !token
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                {
                    return Err(challenge_err(
                        &name,
                        "the token is not base64url".to_owned(),
                    ));
                }
                responder.add_http(token, key_auth.as_str());
                let rel = format!("{}/{token}", layout::CHALLENGE_DIR);
                // World-readable: nginx (another user) serves it; it holds no secret.
                state.write(&rel, key_auth.as_str().as_bytes(), 0o644)?;
                for dir in layout::WEBROOT_DIRS {
                    super::store::ensure_dir(&state.path(dir), 0o755)?;
                }
                tokens.push(rel);
            }
            Challenge::TlsAlpn01 => responder.add_tls_alpn(&name, key_auth.digest().as_ref())?,
        }
        challenge
            .set_ready()
            .await
            .map_err(|e| challenge_err(&name, e.to_string()))?;
    }

    bar.set_message("waiting for validation".to_owned());
    let retries = RetryPolicy::new().timeout(request.timeout);
    let status = order.poll_ready(&retries).await;
    let cleanup = |tokens: &[String]| {
        for rel in tokens {
            let _ = std::fs::remove_file(state.path(rel));
        }
    };
    let status = match status {
        Ok(s) => s,
        Err(e) => {
            cleanup(&tokens);
            return Err(challenge_err(&all, e.to_string()));
        }
    };
    if status != OrderStatus::Ready {
        let detail = failed_challenges(&mut order).await;
        cleanup(&tokens);
        return Err(challenge_err(&all, detail));
    }
    drop(responder);
    cleanup(&tokens);

    bar.set_message("finalizing".to_owned());
    let fin = |e: String| CertsError::AcmeFinalize(e);
    let key =
        KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(|e| fin(e.to_string()))?;
    let mut params =
        CertificateParams::new(request.names.clone()).map_err(|e| fin(e.to_string()))?;
    params.distinguished_name = DistinguishedName::new();
    let csr = params
        .serialize_request(&key)
        .map_err(|e| fin(e.to_string()))?;
    order
        .finalize_csr(csr.der())
        .await
        .map_err(|e| fin(e.to_string()))?;
    let chain = order
        .poll_certificate(&retries)
        .await
        .map_err(|e| fin(e.to_string()))?;
    Ok((
        Issued {
            fullchain_pem: chain,
            key_pem: key.serialize_pem(),
            ca_created: false,
        },
        notes,
    ))
}

/// The server's reasons for each failed authorization, for the error message.
async fn failed_challenges(order: &mut instant_acme::Order) -> String {
    let mut reasons = Vec::new();
    let mut authorizations = order.authorizations();
    while let Some(Ok(mut authz)) = authorizations.next().await {
        let name = authz.identifier().to_string();
        let Ok(state) = authz.refresh().await else {
            continue;
        };
        for c in &state.challenges {
            if let Some(problem) = &c.error {
                reasons.push(format!("{name}: {problem}"));
            }
        }
    }
    if reasons.is_empty() {
        "the order became invalid".to_owned()
    } else {
        reasons.join("; ")
    }
}
