//! Our own CSS and JavaScript, compiled into the binary and served under a URL that
//! contains a hash of their content, so browsers may cache them forever. Nothing is
//! loaded from any other host. With `KONVENT_ASSETS_DIR` set, files are read from that
//! folder on every request instead (for working on the styles without rebuilding).

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::error::AppError;

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "konvent.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../static/konvent.css"),
    },
    Asset {
        name: "live.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../static/live.js"),
    },
    Asset {
        name: "council.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../static/council.js"),
    },
    Asset {
        name: "map.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../static/map.js"),
    },
    Asset {
        name: "favicon.svg",
        content_type: "image/svg+xml",
        body: include_bytes!("../static/favicon.svg"),
    },
];

/// A short hash over all assets: part of every asset URL.
pub fn version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let mut hasher = Sha256::new();
        for a in ASSETS {
            hasher.update(a.body);
        }
        hex::encode(&hasher.finalize()[..6])
    })
}

/// The URL of an asset, e.g. `/static/3f2a…/konvent.css`.
pub fn url(name: &str) -> String {
    format!("/static/{}/{name}", version())
}

#[tracing::instrument(level = "debug", skip_all, fields(name = %name))]
pub async fn serve(
    Path((version_in_url, name)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let asset = ASSETS
        .iter()
        .find(|a| a.name == name)
        .ok_or(AppError::NotFound)?;
    let body: Vec<u8> = match std::env::var_os("KONVENT_ASSETS_DIR") {
        Some(dir) => std::fs::read(std::path::Path::new(&dir).join(asset.name))
            .map_err(|_| AppError::NotFound)?,
        None => asset.body.to_vec(),
    };
    let cache = if version_in_url == version() {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    Ok((
        [(CONTENT_TYPE, asset.content_type), (CACHE_CONTROL, cache)],
        body,
    )
        .into_response())
}
