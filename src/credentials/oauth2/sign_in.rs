//! Signing in and out: `smtpsend login` by the code flow (browser or pasted redirect) or the
//! device grant, `logout` revoking the grant (RFC 7009) before it forgets the tokens, and the
//! state `check` reports.

use super::*;

impl Setup {
    /// `smtpsend login`: runs the flow, stores the tokens, returns the access token (for the
    /// caller to check with the server) and where the tokens went.
    pub fn login(&self, mode: LoginMode) -> Result<(Secret, String), Error> {
        let r = self.resolve()?;
        // Find out that the store cannot take the tokens before sending anyone to a browser.
        r.store.load().map(|_| ())?;
        let http = self.http()?;
        let tokens = match mode {
            LoginMode::Device => {
                let client = self.client(&r, None)?;
                flows::device(&client, &http, &r.scopes, &mut std::io::stderr(), &|d| {
                    std::thread::sleep(d);
                })
                .map_err(|err| self.flow_error(&r, err))?
            }
            LoginMode::Browser | LoginMode::Paste => {
                let flow = flows::CodeFlow {
                    redirect_host: r.provider.redirect_host(),
                    scopes: &r.scopes,
                    extra: r.provider.authorize_params(),
                    open_browser: mode == LoginMode::Browser,
                    time_limit: Duration::from_secs(300),
                };
                flow.run(&|redirect| self.client(&r, Some(redirect)), &http)
                    .map_err(|err| self.flow_error(&r, err))?
            }
        };
        let _lock = Lock::acquire(&r.lock, LOCK_PATIENCE)?;
        r.store.save(&tokens)?;
        let token = tokens
            .access_token
            .clone()
            .expect("a token response has one");
        Ok((token, r.store.describe()))
    }

    fn flow_error(&self, r: &Resolved, err: flows::FlowError) -> Error {
        match err {
            flows::FlowError::Token(err) => self.token_error(r, *err, "signing in"),
            flows::FlowError::Device(err) => self.token_error(r, *err, "signing in"),
            flows::FlowError::Other(err) => err,
        }
    }

    /// `smtpsend logout`: revokes the refresh token where the provider can (RFC 7009), then
    /// deletes what is stored. Returns what it did, in words.
    pub fn logout(&self) -> Result<String, Error> {
        let r = self.resolve()?;
        let _lock = Lock::acquire(&r.lock, LOCK_PATIENCE)?;
        let Some(tokens) = r.store.load()? else {
            return Ok(format!("no OAuth2 sign-in was stored for {}", self.user));
        };
        let (revoked, unrevoked) = match (&r.revocation_url, &tokens.refresh_token) {
            (Some(url), Some(refresh)) => {
                self.revoke(&r, url, refresh)?;
                ("revoked the grant and ", "")
            }
            (None, Some(_)) => (
                "",
                " (the provider has no revocation endpoint: the grant lasts until it expires or \
                 is revoked in the account's security settings)",
            ),
            _ => ("", ""),
        };
        r.store.delete()?;
        Ok(format!(
            "{revoked}removed the OAuth2 tokens for {} from {}{unrevoked}",
            self.user,
            r.store.describe()
        ))
    }

    /// RFC 7009 revocation of the refresh token (which ends the grant). Done here rather than
    /// with the crate, which refuses an http:// endpoint even on loopback.
    fn revoke(&self, r: &Resolved, url: &str, refresh: &Secret) -> Result<(), Error> {
        use oauth2::SyncHttpClient;
        let mut form = oauth2::url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("token", refresh.expose())
            .append_pair("token_type_hint", "refresh_token")
            .append_pair("client_id", &r.client_id);
        if let Some(secret) = self.client_secret(r)? {
            form.append_pair("client_secret", secret.expose());
        }
        let request = oauth2::http::Request::builder()
            .method(oauth2::http::Method::POST)
            .uri(url)
            .header(
                oauth2::http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(oauth2::http::header::ACCEPT, "application/json")
            .body(form.finish().into_bytes())
            .map_err(|err| Error::config(format!("oauth2_revocation_url: {err}")))?;
        let response = self.http()?.call(request).map_err(|err| {
            Error::new(
                Kind::Temporary,
                format!("revoking the grant: no answer from {}: {err}", host_of(url)),
            )
            .with_hint("nothing was removed; try `smtpsend logout` again later")
        })?;
        if response.status().is_success() {
            return Ok(());
        }
        let json: serde_json::Value = serde_json::from_slice(response.body()).unwrap_or_default();
        let code = json
            .get("error")
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        Err(Error::new(
            Kind::Unavailable,
            format!(
                "revoking the grant: {} answered {} {code}",
                host_of(url),
                response.status().as_u16()
            ),
        )
        .with_hint("nothing was removed; the stored tokens stay until the revocation succeeds"))
    }

    /// What `check` says about the stored tokens, never the tokens themselves.
    pub fn status(&self) -> String {
        let r = match self.resolve() {
            Ok(r) => r,
            Err(err) => return format!("not usable: {}", err.message),
        };
        let tokens = match r.store.load() {
            Ok(Some(tokens)) => tokens,
            Ok(None) => return format!("needs login ({})", self.relogin()),
            Err(err) => return format!("unreadable: {}", err.message),
        };
        let now = clock::unix_now();
        let access = match (&tokens.access_token, tokens.expires_at) {
            (None, _) => "no access token".to_string(),
            (Some(_), None) => "access token of unknown lifetime".to_string(),
            (Some(_), Some(at)) if at > now => {
                format!(
                    "access token valid until {} (in {})",
                    clock::utc_minute(at),
                    clock::span(at - now)
                )
            }
            (Some(_), Some(at)) => format!("access token expired at {}", clock::utc_minute(at)),
        };
        let refresh = if tokens.refresh_token.is_some() {
            "refreshable"
        } else {
            "not refreshable"
        };
        format!(
            "{} ({}): {access}, {refresh}; stored in {}",
            r.provider.name(),
            host_of(&r.token_url),
            r.store.describe()
        )
    }
}
