//! Video rooms (K5): Jitsi Meet opened with a signed JWT (HS256, the claims of Jitsi's
//! token authentication: iss, aud, sub, room, exp, context.user), or BigBlueButton with
//! the API checksum (SHA-1 of call name, query string and shared secret). The server
//! address and secret come from the configuration; without them there is no video.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::ids::AccountId;

/// How long a video token or join link stays valid.
pub const TOKEN_SECONDS: i64 = 4 * 3600;

/// Who opens a video room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoUser<'a> {
    pub id: AccountId,
    pub name: &'a str,
    pub email: &'a str,
    pub moderator: bool,
    /// The microphone rule applies to this joiner (K4).
    pub muted: bool,
}

/// A Jitsi Meet deployment with token authentication (prosody `token` auth, HS256).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jitsi {
    /// `https://meet.example.org` (no trailing slash).
    pub base_url: String,
    /// The `app_id`: the token's issuer and audience.
    pub app_id: String,
    pub app_secret: String,
}

#[derive(Serialize)]
struct JitsiClaims<'a> {
    iss: &'a str,
    aud: &'a str,
    sub: &'a str,
    room: &'a str,
    iat: i64,
    nbf: i64,
    exp: i64,
    context: JitsiContext<'a>,
}

#[derive(Serialize)]
struct JitsiContext<'a> {
    user: JitsiUser<'a>,
}

#[derive(Serialize)]
struct JitsiUser<'a> {
    id: String,
    name: &'a str,
    email: &'a str,
    /// Jitsi's token docs: `"true"` for moderators, `"false"` (or missing) otherwise.
    moderator: &'static str,
}

impl Jitsi {
    /// The host name of the deployment, Jitsi's `sub` claim.
    fn domain(&self) -> &str {
        let rest = self
            .base_url
            .split_once("://")
            .map_or(self.base_url.as_str(), |(_, r)| r);
        rest.split(['/', ':']).next().unwrap_or(rest)
    }

    /// A signed token for `user` in `room`, valid from `now` (Unix seconds).
    pub fn token(&self, room: &str, user: &VideoUser<'_>, now: i64) -> String {
        let claims = JitsiClaims {
            iss: &self.app_id,
            aud: &self.app_id,
            sub: self.domain(),
            room,
            iat: now,
            nbf: now - 60,
            exp: now + TOKEN_SECONDS,
            context: JitsiContext {
                user: JitsiUser {
                    id: user.id.to_string(),
                    name: user.name,
                    email: user.email,
                    moderator: if user.moderator { "true" } else { "false" },
                },
            },
        };
        hs256_jwt(&claims, self.app_secret.as_bytes())
    }

    /// The link that opens the room: the token, and Jitsi's config for the microphone
    /// rule (`startAudioMuted`: everybody after the N-th joins muted; this joiner muted
    /// when the rule is in force for them).
    pub fn join_url(
        &self,
        room: &str,
        user: &VideoUser<'_>,
        mute_threshold: i64,
        now: i64,
    ) -> String {
        let mut url = format!(
            "{}/{}?jwt={}#config.prejoinConfig.enabled=false",
            self.base_url.trim_end_matches('/'),
            room,
            self.token(room, user, now)
        );
        if mute_threshold > 0 {
            url.push_str(&format!(
                "&config.startAudioMuted={}",
                (mute_threshold - 1).max(0)
            ));
        }
        if user.muted {
            url.push_str("&config.startWithAudioMuted=true");
        }
        url
    }
}

/// A compact JWS with HS256 (RFC 7515/7519).
pub fn hs256_jwt(claims: &impl Serialize, secret: &[u8]) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
    let signing_input = format!("{header}.{payload}");
    let signature = URL_SAFE_NO_PAD.encode(hmac_sha256(secret, signing_input.as_bytes()));
    format!("{signing_input}.{signature}")
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// A BigBlueButton server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BigBlueButton {
    /// The API endpoint, `https://bbb.example.org/bigbluebutton/api`.
    pub api_url: String,
    pub secret: String,
}

impl BigBlueButton {
    /// The API checksum: SHA-1 over call name, query string and shared secret.
    pub fn checksum(&self, call: &str, query: &str) -> String {
        let mut hasher = Sha1::new();
        hasher.update(call.as_bytes());
        hasher.update(query.as_bytes());
        hasher.update(self.secret.as_bytes());
        hex(&hasher.finalize())
    }

    /// `{api}/{call}?{query}&checksum=…` with the parameters form-encoded in order.
    pub fn signed_url(&self, call: &str, params: &[(&str, &str)]) -> String {
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        let checksum = self.checksum(call, &query);
        let sep = if query.is_empty() { "" } else { "&" };
        format!(
            "{}/{call}?{query}{sep}checksum={checksum}",
            self.api_url.trim_end_matches('/')
        )
    }

    /// The `create` call for a room (idempotent on the BBB side: creating a running
    /// meeting again answers with the meeting). Microphones start muted from the rule's
    /// threshold on: BBB mutes on start for everybody (`muteOnStart`), so it is set when
    /// the room is in muted mode.
    pub fn create_url(&self, meeting_id: &str, name: &str, muted: bool) -> String {
        self.signed_url(
            "create",
            &[
                ("name", name),
                ("meetingID", meeting_id),
                ("muteOnStart", if muted { "true" } else { "false" }),
                ("allowModsToUnmuteUsers", "true"),
            ],
        )
    }

    /// The `join` call for `user` (BBB 2.4+: `role` instead of passwords).
    pub fn join_url(&self, meeting_id: &str, user: &VideoUser<'_>) -> String {
        let id = user.id.to_string();
        self.signed_url(
            "join",
            &[
                ("fullName", user.name),
                ("meetingID", meeting_id),
                (
                    "role",
                    if user.moderator {
                        "MODERATOR"
                    } else {
                        "VIEWER"
                    },
                ),
                ("userID", &id),
                ("redirect", "true"),
            ],
        )
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A room name both backends accept: the event and room slugs, which are already plain.
pub fn room_name(event_slug: &str, room_slug: &str) -> String {
    format!("{event_slug}-{room_slug}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(moderator: bool, muted: bool) -> VideoUser<'static> {
        VideoUser {
            id: AccountId::new(7),
            name: "Jürina Hildebrand",
            email: "jh@example.org",
            moderator,
            muted,
        }
    }

    fn decode(part: &str) -> serde_json::Value {
        let bytes = URL_SAFE_NO_PAD.decode(part).expect("base64url");
        serde_json::from_slice(&bytes).expect("json")
    }

    #[test]
    fn hs256_matches_the_rfc_7515_style_reference() {
        // The example token of jwt.io ("John Doe", secret "your-256-bit-secret") is the
        // usual cross-check for HS256 implementations.
        #[derive(Serialize)]
        struct Example {
            sub: &'static str,
            name: &'static str,
            iat: i64,
        }
        let token = hs256_jwt(
            &Example {
                sub: "1234567890",
                name: "John Doe",
                iat: 1516239022,
            },
            b"your-256-bit-secret",
        );
        assert_eq!(
            token,
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.\
             eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.\
             SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
        );
    }

    #[test]
    fn the_jitsi_token_carries_the_documented_claims() {
        let jitsi = Jitsi {
            base_url: "https://meet.example.org".into(),
            app_id: "konvent".into(),
            app_secret: "geheim".into(),
        };
        let token = jitsi.token(
            "strategiekonvent-2025-plenum",
            &user(true, false),
            1_740_000_000,
        );
        let parts: Vec<_> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(decode(parts[0])["alg"], "HS256");
        let claims = decode(parts[1]);
        assert_eq!(claims["iss"], "konvent");
        assert_eq!(claims["aud"], "konvent");
        assert_eq!(claims["sub"], "meet.example.org");
        assert_eq!(claims["room"], "strategiekonvent-2025-plenum");
        assert_eq!(claims["exp"], 1_740_000_000 + TOKEN_SECONDS);
        assert_eq!(claims["context"]["user"]["name"], "Jürina Hildebrand");
        assert_eq!(claims["context"]["user"]["moderator"], "true");
        // The signature verifies with the secret and fails with another.
        let input = format!("{}.{}", parts[0], parts[1]);
        assert_eq!(
            URL_SAFE_NO_PAD.encode(hmac_sha256(b"geheim", input.as_bytes())),
            parts[2]
        );
        assert_ne!(
            URL_SAFE_NO_PAD.encode(hmac_sha256(b"anders", input.as_bytes())),
            parts[2]
        );
    }

    #[test]
    fn the_jitsi_link_applies_the_microphone_rule() {
        let jitsi = Jitsi {
            base_url: "https://meet.example.org/".into(),
            app_id: "konvent".into(),
            app_secret: "geheim".into(),
        };
        let muted = jitsi.join_url("k-plenum", &user(false, true), 20, 0);
        assert!(muted.starts_with("https://meet.example.org/k-plenum?jwt=ey"));
        assert!(muted.contains("config.startAudioMuted=19"));
        assert!(muted.contains("config.startWithAudioMuted=true"));
        let open = jitsi.join_url("k-plenum", &user(false, false), 20, 0);
        assert!(!open.contains("startWithAudioMuted"));
    }

    #[test]
    fn the_bbb_checksum_matches_the_api_documentation_example() {
        // docs.bigbluebutton.org, "API Security": this create call with this secret has
        // the checksum 1fcbb0c4fc1f039f73aa6d697d2db9ba7f803f17.
        let bbb = BigBlueButton {
            api_url: "https://bbb.example.org/bigbluebutton/api/".into(),
            secret: "639259d4-9dd8-4b25-bf01-95f9567eaf4b".into(),
        };
        assert_eq!(
            bbb.checksum(
                "create",
                "name=Test+Meeting&meetingID=abc123&attendeePW=111222&moderatorPW=333444"
            ),
            "1fcbb0c4fc1f039f73aa6d697d2db9ba7f803f17"
        );
        let url = bbb.signed_url(
            "create",
            &[
                ("name", "Test Meeting"),
                ("meetingID", "abc123"),
                ("attendeePW", "111222"),
                ("moderatorPW", "333444"),
            ],
        );
        assert_eq!(
            url,
            "https://bbb.example.org/bigbluebutton/api/create?name=Test+Meeting&meetingID=abc123\
             &attendeePW=111222&moderatorPW=333444&checksum=1fcbb0c4fc1f039f73aa6d697d2db9ba7f803f17"
        );
    }

    #[test]
    fn bbb_join_links_carry_role_and_checksum() {
        let bbb = BigBlueButton {
            api_url: "https://bbb.example.org/bigbluebutton/api".into(),
            secret: "s".into(),
        };
        let url = bbb.join_url("k-plenum", &user(false, false));
        let (base, query) = url.split_once('?').expect("query");
        assert_eq!(base, "https://bbb.example.org/bigbluebutton/api/join");
        assert!(query.contains("fullName=J%C3%BCrina+Hildebrand"));
        assert!(query.contains("role=VIEWER"));
        let (params, checksum) = query.rsplit_once("&checksum=").expect("checksum");
        assert_eq!(checksum, bbb.checksum("join", params));
        assert!(
            bbb.create_url("k-plenum", "Plenum", true)
                .contains("muteOnStart=true")
        );
    }
}
