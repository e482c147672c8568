//! The links the admin commands print: a sign-in link, and the base address they name
//! (`public_url`, else where this data folder's server last ran, which `serve` records).

use jiff::SignedDuration;
use konvent_store::{Store, TokenPurpose};
use konvent_web::Settings;

pub(super) async fn sign_in_link(
    store: &Store,
    settings: &Settings,
    base: &str,
    email: &str,
) -> anyhow::Result<String> {
    let hours = i64::from(settings.sign_in_link_hours);
    let token = store
        .create_login_token(
            TokenPurpose::SignIn,
            email,
            None,
            None,
            SignedDuration::from_hours(hours),
        )
        .await?;
    Ok(format!("{base}/anmelden/link/{}", token.token))
}

/// The file in the data folder where `serve` records the address its links name, so
/// that `admin sign-in-link` and `admin invite` print links to the running server.
const ADDRESS_FILE: &str = "server-address";

/// Records the address the server's links name in its data folder. A failure only
/// costs the command line its guess, so it is logged, not fatal.
pub(super) fn record_address(settings: &Settings) {
    let path = settings.data_dir.join(ADDRESS_FILE);
    let written = std::fs::create_dir_all(&settings.data_dir)
        .and_then(|()| std::fs::write(&path, format!("{}\n", settings.public_base())));
    if let Err(e) = written {
        tracing::warn!(path = %path.display(), error = %e, "cannot record the server's address");
    }
}

/// The base of links the command line prints, and a line saying where it comes from:
/// `public_url` if set, else the address the data folder's server last ran on, else
/// the configured or default bind address.
pub(super) fn link_base(settings: &Settings) -> (String, String) {
    if !settings.public_url.is_empty() {
        return (settings.public_base(), "Adresse aus public_url.".to_owned());
    }
    let path = settings.data_dir.join(ADDRESS_FILE);
    if let Ok(text) = std::fs::read_to_string(&path) {
        let recorded = text.trim().trim_end_matches('/');
        if recorded.starts_with("http://") || recorded.starts_with("https://") {
            return (
                recorded.to_owned(),
                format!(
                    "Adresse, an der der Server dieses Datenordners zuletzt lief ({}); \
                     läuft er woanders, setzen Sie public_url.",
                    path.display()
                ),
            );
        }
    }
    if settings.bind != Settings::default().bind {
        return (
            settings.public_base(),
            "Adresse aus der Einstellung bind; der Server dieses Datenordners lief noch nie \
             (setzen Sie public_url, wenn er unter einer anderen Adresse erreichbar ist)."
                .to_owned(),
        );
    }
    (
        settings.public_base(),
        "Standardadresse: der Server dieses Datenordners lief noch nie; setzen Sie public_url \
         in konvent.toml (oder KONVENT_PUBLIC_URL), wenn er unter einer anderen Adresse läuft."
            .to_owned(),
    )
}
