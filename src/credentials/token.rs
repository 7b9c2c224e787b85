//! OAuth2 access tokens from the account's `oauth2_token_command` (an external broker:
//! oauth2l, mutt_oauth2.py, a cloud CLI), cached in the keyring while they have a minute left:
//! such commands can be slow or rate-limited, and running one per message is wasteful.

use std::time::Duration;

use super::command::{first_line, run_password_command};
use super::keyring::KeyringEntry;
use super::{PasswordSource, Secret};
use crate::clock;
use crate::error::Error;

/// Where the token of `user` on `server` is cached.
pub(super) fn cache_entry(server: &str, user: &str) -> KeyringEntry {
    KeyringEntry {
        service: format!("smtpsend-oauth2:{server}"),
        user: user.to_string(),
    }
}

/// An OAuth2 access token: from the cache while it has a minute left, else from the token
/// command, cached when its lifetime is known. Without a cache (no keyring), the command runs
/// every time.
pub(super) fn oauth2_token(
    command: &str,
    cache: Option<&KeyringEntry>,
    timeout: Duration,
) -> Result<(Secret, PasswordSource), Error> {
    let now = clock::unix_now();
    if let Some(cache) = cache
        && let Ok(Some(cached)) = cache.lookup()
        && let Some((token, expires_at)) = parse_cached_token(cached.expose())
        && expires_at > now + 60
    {
        return Ok((token, PasswordSource::CachedToken));
    }
    let output = run_password_command(command, "oauth2_token_command", timeout)?;
    let (token, expires_at) = parse_token_output(output.expose(), now);
    if let (Some(cache), Some(expires_at)) = (cache, expires_at) {
        let record = serde_json::json!({ "token": token.expose(), "expires_at": expires_at });
        // A cache that cannot be written only costs a command run next time.
        let _ = cache.set(&Secret::new(record.to_string()));
    }
    Ok((token, PasswordSource::TokenCommand))
}

fn parse_cached_token(text: &str) -> Option<(Secret, u64)> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    let token = value.get("token")?.as_str()?;
    Some((
        Secret::new(token.to_string()),
        value.get("expires_at")?.as_u64()?,
    ))
}

/// A token command prints the bare token, or JSON with `access_token` and `expires_in`
/// (seconds) or `expires_at` (Unix time). A bare JWT carries its expiry in its `exp` claim.
fn parse_token_output(text: &str, now: u64) -> (Secret, Option<u64>) {
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(text.trim())
        && let Some(token) = value.get("access_token").and_then(|t| t.as_str())
    {
        let expires_at = value
            .get("expires_at")
            .and_then(serde_json::Value::as_u64)
            .or_else(|| {
                value
                    .get("expires_in")
                    .and_then(serde_json::Value::as_u64)
                    .map(|seconds| now + seconds)
            });
        return (Secret::new(token.to_string()), expires_at);
    }
    let token = first_line(text).trim().to_string();
    let expires_at = jwt_expiry(&token);
    (Secret::new(token), expires_at)
}

fn jwt_expiry(token: &str) -> Option<u64> {
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&decoded).ok()?;
    claims.get("exp")?.as_u64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_commands_may_say_how_long_the_token_lives() {
        let (token, expiry) = parse_token_output("ya29.bare-token\n", 1000);
        assert_eq!((token.expose(), expiry), ("ya29.bare-token", None));
        let (token, expiry) =
            parse_token_output(r#"{"access_token":"abc","expires_in":3599}"#, 1000);
        assert_eq!((token.expose(), expiry), ("abc", Some(4599)));
        let (_, expiry) = parse_token_output(r#"{"access_token":"abc","expires_at":77}"#, 1000);
        assert_eq!(expiry, Some(77));
        // header.payload.signature with payload {"exp":1900000000}
        let jwt = "eyJhbGciOiJub25lIn0.eyJleHAiOjE5MDAwMDAwMDB9.c2ln";
        assert_eq!(parse_token_output(jwt, 0).1, Some(1_900_000_000));
    }
}
