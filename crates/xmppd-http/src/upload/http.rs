//! The HTTP side of XEP-0363: PUT into a slot, GET (and HEAD) a stored file, CORS preflight.

use super::Upload;
use super::slots::FileId;
use super::store::{Meta, WriteError};
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::sync::Arc;
use std::time::Instant;
use xmppd_modules::xep0363_upload::{DEFAULT_CONTENT_TYPE, encode_segment};

/// Nothing in a download may run or load anything, even when opened directly.
const CSP: &str = "default-src 'none'; frame-ancestors 'none'; form-action 'none'; sandbox";

pub fn routes(upload: Arc<Upload>) -> Router {
    Router::new()
        .route(
            "/upload/{id}/{name}",
            get(download).put(put).options(preflight),
        )
        .with_state(upload)
}

/// Web clients on other origins may PUT and GET (the URLs are the secret, not cookies).
fn cors(headers: &mut HeaderMap) {
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, HEAD, PUT, OPTIONS"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("Content-Type"),
    );
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("86400"),
    );
}

fn status(code: StatusCode, text: &'static str) -> Response {
    let mut response = (code, text).into_response();
    cors(response.headers_mut());
    response
}

async fn preflight() -> Response {
    status(StatusCode::NO_CONTENT, "")
}

async fn put(
    State(upload): State<Arc<Upload>>,
    Path((id, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(id) = FileId::parse(&id) else {
        return status(StatusCode::FORBIDDEN, "no such upload slot\n");
    };
    let pending = {
        let mut slots = upload.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.take(&id, &name, Instant::now())
    };
    let Some(pending) = pending else {
        return status(
            StatusCode::FORBIDDEN,
            "no such upload slot, or it expired or was used\n",
        );
    };
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    match length {
        None => return status(StatusCode::LENGTH_REQUIRED, "Content-Length is required\n"),
        Some(n) if n > pending.slot.size => {
            return status(StatusCode::PAYLOAD_TOO_LARGE, "larger than the slot\n");
        }
        Some(n) if n != pending.slot.size => {
            return status(StatusCode::BAD_REQUEST, "size differs from the slot\n");
        }
        Some(_) => {}
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase());
    let type_ok = match &content_type {
        Some(t) => *t == pending.slot.content_type,
        None => pending.slot.content_type == DEFAULT_CONTENT_TYPE,
    };
    if !type_ok {
        return status(
            StatusCode::BAD_REQUEST,
            "Content-Type differs from the slot\n",
        );
    }
    let meta = Meta {
        owner: pending.owner,
        filename: pending.slot.filename,
        content_type: pending.slot.content_type,
        size: pending.slot.size,
        created: super::unix_now(),
    };
    match upload
        .store
        .write(&id, &meta, body.into_data_stream())
        .await
    {
        Ok(()) => status(StatusCode::CREATED, ""),
        Err(WriteError::TooLong) => status(StatusCode::PAYLOAD_TOO_LARGE, "larger than the slot\n"),
        Err(WriteError::TooShort | WriteError::Body(_)) => {
            status(StatusCode::BAD_REQUEST, "the body ended early\n")
        }
        Err(WriteError::Io(err)) => {
            tracing::warn!(%err, "storing an upload failed");
            status(
                StatusCode::INTERNAL_SERVER_ERROR,
                "storing the file failed\n",
            )
        }
    }
}

async fn download(
    State(upload): State<Arc<Upload>>,
    Path((id, name)): Path<(String, String)>,
) -> Response {
    let Some(id) = FileId::parse(&id) else {
        return status(StatusCode::NOT_FOUND, "not found\n");
    };
    let meta = upload.store.meta(&id).await;
    let Some(meta) = meta.filter(|m| m.filename == name) else {
        return status(StatusCode::NOT_FOUND, "not found\n");
    };
    let Ok(file) = tokio::fs::File::open(upload.store.data(&id)).await else {
        return status(StatusCode::NOT_FOUND, "not found\n");
    };
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(file));
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    cors(headers);
    let content_type = HeaderValue::from_str(&meta.content_type)
        .unwrap_or(HeaderValue::from_static(DEFAULT_CONTENT_TYPE));
    headers.insert(header::CONTENT_TYPE, content_type);
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(meta.size));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=604800, immutable"),
    );
    // Images show inline (chat previews); anything else, SVG included, is a download.
    let inline = meta.content_type.starts_with("image/") && meta.content_type != "image/svg+xml";
    let disposition = format!(
        "{}; filename*=UTF-8''{}",
        if inline { "inline" } else { "attachment" },
        encode_segment(&meta.filename)
    );
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}
