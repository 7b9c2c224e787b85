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

/// A token endpoint on loopback that answers each request with the next scripted response
/// (status, JSON body, delay), and records every request's first line and body.
struct Scripted {
    port: u16,
    requests: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

fn scripted(responses: Vec<(u16, String, u64)>) -> Scripted {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = requests.clone();
    std::thread::spawn(move || {
        for (status, body, delay_ms) in responses {
            let Ok((stream, _)) = listener.accept() else {
                return;
            };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let (mut first, mut length) = (String::new(), 0usize);
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if first.is_empty() {
                    first = line.trim_end().to_string();
                }
                if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
            let mut request_body = vec![0; length];
            let _ = reader.read_exact(&mut request_body);
            seen.lock().unwrap().push(format!(
                "{first} {}",
                String::from_utf8_lossy(&request_body)
            ));
            std::thread::sleep(Duration::from_millis(delay_ms));
            let mut stream = stream;
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    Scripted { port, requests }
}

fn test_http() -> http::Http {
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(rustls::RootCertStore::empty())
    .with_no_client_auth();
    http::Http::new(std::sync::Arc::new(config), Duration::from_secs(5))
}

fn setup_for(port: u16, state: &std::path::Path) -> Setup {
    let keys = AccountKeys {
        provider: Some("custom".into()),
        client_id: Some("test-client".into()),
        token_url: Some(format!("http://127.0.0.1:{port}/token")),
        device_authorization_url: Some(format!("http://127.0.0.1:{port}/device")),
        authorize_url: Some(format!("http://127.0.0.1:{port}/auth")),
        token_store: Some("file".into()),
        scopes: Some(vec!["smtp".into()]),
        ..AccountKeys::default()
    };
    let state = state.to_string_lossy().into_owned();
    let var = move |name: &str| (name == "XDG_STATE_HOME").then(|| state.clone());
    Setup::new(&keys, Some("work"), "alice", &var, Duration::from_secs(5)).unwrap()
}

const DEVICE: &str = r#"{"device_code":"dev-1","user_code":"ABCD-EFGH","verification_uri":"http://127.0.0.1/device","expires_in":600,"interval":1}"#;

fn error(code: &str) -> String {
    format!(r#"{{"error":"{code}"}}"#)
}

fn device_with(polls: Vec<(u16, String, u64)>) -> (Result<Tokens, flows::FlowError>, Vec<u64>) {
    let dir = tempfile::tempdir().unwrap();
    let mut responses = vec![(200, DEVICE.to_string(), 0)];
    responses.extend(polls);
    let server = scripted(responses);
    let setup = setup_for(server.port, dir.path());
    let r = setup.resolve().unwrap();
    let client = setup.client(&r, None).unwrap();
    let slept = std::cell::RefCell::new(Vec::new());
    let mut shown = Vec::new();
    let result = flows::device(&client, &test_http(), &r.scopes, &mut shown, &|d| {
        slept.borrow_mut().push(d.as_secs());
    });
    let shown = String::from_utf8(shown).unwrap();
    assert!(shown.contains("enter the code ABCD-EFGH"), "{shown}");
    (result, slept.into_inner())
}

#[test]
fn the_device_grant_waits_while_pending_and_slows_down_when_told() {
    let success =
        r#"{"access_token":"at-1","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-1"}"#;
    let (result, slept) = device_with(vec![
        (400, error("authorization_pending"), 0),
        (400, error("slow_down"), 0),
        (400, error("authorization_pending"), 0),
        (200, success.into(), 0),
    ]);
    let Ok(tokens) = result else {
        panic!("the device grant failed")
    };
    assert_eq!(
        tokens.refresh_token.as_ref().map(Secret::expose),
        Some("rt-1")
    );
    // RFC 8628 section 3.5: slow_down adds 5 seconds to the interval, for good.
    assert_eq!(slept, [1, 6, 6]);
}

#[test]
fn a_declined_or_expired_device_code_says_so() {
    for (code, kind, says) in [
        ("access_denied", Kind::AuthRefused, "declined"),
        ("expired_token", Kind::Temporary, "expired"),
    ] {
        let (result, _) = device_with(vec![
            (400, error("authorization_pending"), 0),
            (400, error(code), 0),
        ]);
        let Err(flows::FlowError::Other(err)) = result else {
            panic!("{code} was not an error of its own")
        };
        assert_eq!(err.kind, kind);
        assert!(err.message.contains(says), "{}", err.message);
        assert!(err.hint.unwrap().contains("--device"));
    }
}

fn store_expired(setup: &Setup, refresh: &str) {
    let r = setup.resolve().unwrap();
    r.store
        .save(&Tokens {
            access_token: Some(Secret::new("old-access".into())),
            expires_at: Some(crate::clock::unix_now() + 30),
            refresh_token: Some(Secret::new(refresh.into())),
        })
        .unwrap();
}

#[test]
fn a_token_near_expiry_is_refreshed_and_a_rotated_refresh_token_stored_whole() {
    let dir = tempfile::tempdir().unwrap();
    let big = format!("big-{}", "x".repeat(10 * 1024));
    let server = scripted(vec![(
        200,
        format!(
            r#"{{"access_token":"{big}","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-2"}}"#
        ),
        0,
    )]);
    let setup = setup_for(server.port, dir.path());
    store_expired(&setup, "rt-1");
    let (token, note) = setup.access_token().unwrap();
    assert_eq!(token.expose(), big);
    assert!(
        note.unwrap()
            .contains("the rotated refresh token is stored")
    );
    let requests = server.requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 1);
    assert!(
        requests[0].contains("grant_type=refresh_token"),
        "{requests:?}"
    );
    assert!(requests[0].contains("refresh_token=rt-1"), "{requests:?}");
    let stored = setup.resolve().unwrap().store.load().unwrap().unwrap();
    assert_eq!(stored.refresh_token.unwrap().expose(), "rt-2");
    assert_eq!(stored.access_token.unwrap().expose(), big);
    // Now fresh: no request.
    assert_eq!(setup.access_token().unwrap().0.expose(), big);
    assert!(setup.status().contains("refreshable"));
}

#[test]
fn two_processes_refreshing_at_once_do_not_lose_the_rotated_token() {
    let dir = tempfile::tempdir().unwrap();
    // The first refresh is slow; a second use of rt-1 would be refused as a replay.
    let server = scripted(vec![
        (
            200,
            r#"{"access_token":"at-2","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-2"}"#
                .into(),
            300,
        ),
        (400, error("invalid_grant"), 0),
    ]);
    let setup = setup_for(server.port, dir.path());
    store_expired(&setup, "rt-1");
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let setup = setup.clone();
            std::thread::spawn(move || setup.access_token().map(|(t, _)| t.expose().to_string()))
        })
        .collect();
    let tokens: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(tokens, [Ok("at-2".to_string()), Ok("at-2".to_string())]);
    assert_eq!(server.requests.lock().unwrap().len(), 1);
    let stored = setup.resolve().unwrap().store.load().unwrap().unwrap();
    assert_eq!(stored.refresh_token.unwrap().expose(), "rt-2");
}

#[test]
fn a_gone_grant_exits_77_with_the_login_to_run() {
    let dir = tempfile::tempdir().unwrap();
    let server = scripted(vec![(
        400,
        r#"{"error":"invalid_grant","error_description":"AADSTS700082: The refresh token has expired due to inactivity."}"#.into(),
        0,
    )]);
    let setup = setup_for(server.port, dir.path());
    store_expired(&setup, "rt-1");
    let err = setup.access_token().unwrap_err();
    assert_eq!(err.exit_code(), 77);
    assert!(err.message.contains("invalid_grant"), "{}", err.message);
    let hint = err.hint.unwrap();
    assert!(hint.contains("90 days"), "{hint}");
    assert!(hint.contains("run `smtpsend login work`"), "{hint}");
    assert!(!err.message.contains("rt-1"));
}

#[test]
fn nothing_stored_means_log_in_first() {
    let dir = tempfile::tempdir().unwrap();
    let setup = setup_for(9, dir.path());
    let err = setup.access_token().unwrap_err();
    assert_eq!(err.exit_code(), 78);
    assert_eq!(err.hint.as_deref(), Some("run `smtpsend login work`"));
    assert!(setup.status().starts_with("needs login"));
}

#[test]
fn environment_variables_override_the_account() {
    let keys = AccountKeys {
        provider: Some("microsoft".into()),
        client_id: Some("from-file".into()),
        ..AccountKeys::default()
    };
    let var = |name: &str| match name {
        "SMTPSEND_OAUTH2_CLIENT_ID" => Some("from-env".into()),
        "SMTPSEND_OAUTH2_TENANT" => Some("organizations".into()),
        "XDG_STATE_HOME" => Some("/state".into()),
        _ => None,
    };
    let setup = Setup::new(&keys, None, "u@example.com", &var, Duration::from_secs(1)).unwrap();
    let r = setup.resolve().unwrap();
    assert_eq!(r.client_id, "from-env");
    assert_eq!(
        r.token_url,
        "https://login.microsoftonline.com/organizations/oauth2/v2.0/token"
    );
    assert!(r.lock.starts_with("/state/smtpsend/oauth2"));
    // No provider anywhere: no built-in OAuth2.
    assert!(
        Setup::new(
            &AccountKeys::default(),
            None,
            "u",
            &var,
            Duration::from_secs(1)
        )
        .is_none()
    );
}

#[test]
fn a_refused_token_already_replaced_by_another_process_is_not_refreshed_again() {
    let dir = tempfile::tempdir().unwrap();
    // Any request would be answered invalid_grant: none must be made.
    let server = scripted(vec![(400, error("invalid_grant"), 0)]);
    let setup = setup_for(server.port, dir.path());
    setup
        .resolve()
        .unwrap()
        .store
        .save(&Tokens {
            access_token: Some(Secret::new("newer".into())),
            expires_at: Some(crate::clock::unix_now() + 3600),
            refresh_token: Some(Secret::new("rt-2".into())),
        })
        .unwrap();
    let token = setup
        .refresh_rejected(&Secret::new("older".into()))
        .unwrap();
    assert_eq!(token.expose(), "newer");
    assert!(server.requests.lock().unwrap().is_empty());
    // The stored token itself refused: that one is refreshed.
    let err = setup.refresh_rejected(&token).unwrap_err();
    assert_eq!(err.exit_code(), 77);
    assert_eq!(server.requests.lock().unwrap().len(), 1);
}
