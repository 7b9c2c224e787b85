//! The module's own tests: expiry arithmetic, and the flows against a scripted token endpoint on
//! loopback for what a real authorization server will not do on demand.

use super::*;

#[test]
fn a_token_is_refreshed_a_minute_before_it_expires() {
    let tokens = |expires_at| Tokens {
        access_token: Some(Secret::new("a".into())),
        expires_at,
        refresh_token: Some(Secret::new("r".into())),
    };
    assert!(usable(&tokens(Some(1000 + 61)), 1000).is_some());
    assert!(usable(&tokens(Some(1000 + 60)), 1000).is_none());
    assert!(usable(&tokens(Some(999)), 1000).is_none());
    assert!(usable(&tokens(None), 1000).is_some());
    assert!(usable(&Tokens::default(), 1000).is_none());
}

#[test]
fn times_are_shown_in_utc() {
    assert_eq!(utc(0), "1970-01-01 00:00 UTC");
    assert_eq!(utc(1_796_120_237), "2026-12-01 10:17 UTC");
    assert_eq!(utc(951_782_400), "2000-02-29 00:00 UTC");
    assert_eq!(span(59), "59 s");
    assert_eq!(span(3599), "59 min");
}
