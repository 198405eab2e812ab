//! The web registration page (`/register`, when a vhost sets `registration.web`): a form with
//! a signed per-form CSRF token, the in-band registration password policy, and a per-address
//! limit on submissions.

mod csrf;
mod html;

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Form, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use csrf::Csrf;
use serde::Deserialize;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use xmppd_core::accounts::{self, AccountError};
use xmppd_core::runtime::Runtime;
use xmppd_core::server::Server;
use xmppd_core::throttle::RateWindow;
use xmppd_storage::User;

/// Form submissions per address per minute (successful or not).
const SUBMISSIONS_PER_MINUTE: u32 = 5;
/// Largest form body accepted.
const MAX_BODY: usize = 4096;

/// The page's shared state.
#[derive(Debug)]
struct Page {
    server: Arc<Server>,
    domains: Vec<String>,
    csrf: Csrf,
    attempts: RateWindow<IpAddr>,
    trusted_proxies: Vec<IpAddr>,
}

/// `/register`, if any virtual host offers web registration.
pub fn routes(runtime: &Arc<Runtime>) -> Router {
    let server = &runtime.server;
    let domains: Vec<String> = server
        .config
        .vhosts
        .iter()
        .filter(|v| v.registration.web)
        .map(|v| v.domain.clone())
        .collect();
    if domains.is_empty() {
        return Router::new();
    }
    let csrf = match Csrf::new() {
        Ok(csrf) => csrf,
        Err(err) => {
            tracing::error!(%err, "no randomness for CSRF tokens; the registration page is off");
            return Router::new();
        }
    };
    let page = Arc::new(Page {
        server: server.clone(),
        domains,
        csrf,
        attempts: RateWindow::default(),
        trusted_proxies: server
            .config
            .http
            .as_ref()
            .map(|h| h.trusted_proxies.clone())
            .unwrap_or_default(),
    });
    Router::new()
        .route("/register", get(show).post(submit))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(page)
}

/// The fields of the form; all optional so a missing one gets our own answer.
#[derive(Debug, Default, Deserialize)]
struct Submission {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    domain: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The address limits apply to: the peer, or the nearest untrusted hop of `X-Forwarded-For`
/// when the peer is a trusted proxy.
fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let hops: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|hop| hop.trim().parse().ok())
        .collect();
    hops.into_iter()
        .rev()
        .find(|hop| !trusted.contains(hop))
        .unwrap_or(peer)
}

fn html(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    let set = |headers: &mut HeaderMap, name, value| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(headers, header::CONTENT_TYPE, "text/html; charset=utf-8");
    set(
        headers,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(headers, header::REFERRER_POLICY, "no-referrer");
    set(headers, header::CACHE_CONTROL, "no-store");
    response
}

impl Page {
    fn min_password(&self, domain: &str) -> usize {
        self.server
            .vhost(domain)
            .map(|v| v.registration.min_password_length)
            .unwrap_or(8)
    }

    /// The form (with a fresh token), keeping the username and domain but never the password.
    fn form(
        &self,
        status: StatusCode,
        username: &str,
        domain: &str,
        error: Option<&str>,
    ) -> Response {
        let domain = if self.domains.iter().any(|d| d == domain) {
            domain
        } else {
            &self.domains[0]
        };
        let Ok(token) = self.csrf.issue(unix_now()) else {
            return html(StatusCode::INTERNAL_SERVER_ERROR, String::new());
        };
        let body = html::form(&html::Form {
            domains: &self.domains,
            token: &token,
            min_password: self.min_password(domain),
            username,
            domain,
            error,
        });
        html(status, body)
    }
}

async fn show(State(page): State<Arc<Page>>) -> Response {
    page.form(StatusCode::OK, "", "", None)
}

async fn submit(
    State(page): State<Arc<Page>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(sub): Form<Submission>,
) -> Response {
    let ip = client_ip(peer.ip(), &headers, &page.trusted_proxies);
    let now = Instant::now();
    if page.attempts.exceeded(&ip, SUBMISSIONS_PER_MINUTE, now) {
        let error = "Too many attempts from your address. Please wait a minute and try again.";
        return page.form(
            StatusCode::TOO_MANY_REQUESTS,
            &sub.username,
            &sub.domain,
            Some(error),
        );
    }
    page.attempts.record(ip, now);
    let refuse = |status, error: &str| page.form(status, &sub.username, &sub.domain, Some(error));
    if page.csrf.redeem(&sub.csrf, unix_now()).is_err() {
        return refuse(
            StatusCode::FORBIDDEN,
            "This form expired or was not sent from this page. Please try again.",
        );
    }
    if !page.domains.contains(&sub.domain) {
        return refuse(
            StatusCode::BAD_REQUEST,
            "Please choose one of the listed domains.",
        );
    }
    let Ok(node) = jid::NodePart::new(sub.username.trim()) else {
        return refuse(StatusCode::BAD_REQUEST, "This username is not allowed.");
    };
    if sub.password != sub.confirm {
        return refuse(StatusCode::BAD_REQUEST, "The two passwords differ.");
    }
    if let Err(err) = accounts::check_password(&sub.password, page.min_password(&sub.domain)) {
        let reason = match err {
            AccountError::WeakPassword(reason) => format!("Password refused: {reason}."),
            other => other.to_string(),
        };
        return refuse(StatusCode::BAD_REQUEST, &reason);
    }
    let user = User::new(node.as_str(), &sub.domain);
    let iterations = page.server.config.auth.scram_iterations;
    match accounts::create(&page.server.storage, user, &sub.password, iterations).await {
        Ok(()) => {
            tracing::info!("account registered on the web page");
            let jid = format!("{}@{}", node.as_str(), sub.domain);
            html(StatusCode::OK, html::success(&jid))
        }
        Err(AccountError::AlreadyExists) => refuse(
            StatusCode::CONFLICT,
            "This username is taken. Please choose another.",
        ),
        Err(err) => {
            tracing::warn!(%err, "web registration failed");
            refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The account could not be created.",
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_counts_only_from_trusted_proxies() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("1.1.1.1, 2.2.2.2"),
        );
        let stranger: IpAddr = "3.3.3.3".parse().unwrap();
        assert_eq!(client_ip(stranger, &headers, &[proxy]), stranger);
        assert_eq!(
            client_ip(proxy, &headers, &[proxy]),
            "2.2.2.2".parse::<IpAddr>().unwrap()
        );
        assert_eq!(client_ip(proxy, &HeaderMap::new(), &[proxy]), proxy);
    }
}
