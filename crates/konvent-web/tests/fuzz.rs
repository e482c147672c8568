//! Fuzz target for the configuration file. Under `cargo test` it replays its saved inputs
//! (`tests/__fuzz__/settings_from_toml/`) and random inputs for one second; with a
//! fuzzing engine see docs/fuzzing.md. The Markdown targets live beside the renderer
//! (src/markdown.rs), which is private to the crate.

use konvent_web::Settings;

/// Whatever a configuration file says, reading it never panics, reading it twice gives
/// the same settings, and the settings' debug output (which the log shows) never
/// contains a secret that no other setting contains.
#[test]
fn fuzz_settings_from_toml() {
    bolero::check!().for_each(|bytes: &[u8]| {
        // Lossy: random bytes still give text with TOML's ASCII syntax in it.
        let text = &*String::from_utf8_lossy(bytes);
        match Settings::from_toml(text) {
            Ok(settings) => {
                assert_eq!(Settings::from_toml(text).ok().as_ref(), Some(&settings));
                let printed = format!("{settings:?}");
                let without_secrets = format!(
                    "{:?}",
                    Settings {
                        database_url: String::new(),
                        jitsi_app_secret: String::new(),
                        bbb_secret: String::new(),
                        ..settings.clone()
                    }
                );
                for secret in [
                    &settings.database_url,
                    &settings.jitsi_app_secret,
                    &settings.bbb_secret,
                ] {
                    if !secret.is_empty() && !without_secrets.contains(secret.as_str()) {
                        assert!(!printed.contains(secret.as_str()), "{printed}");
                    }
                }
                let _ = settings.public_base();
                let _ = settings.video();
            }
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    });
}
