//! DKIM signing settings: `--dkim-key`, `--dkim-selector` and `--dkim-domain`, else
//! SMTPSEND_DKIM_KEY, SMTPSEND_DKIM_SELECTOR and SMTPSEND_DKIM_DOMAIN, else the account's
//! `dkim_key`, `dkim_selector` and `dkim_domain`, each key on its own. The key file is only
//! named here; `dkim` reads it when it signs.

use std::path::{Path, PathBuf};

use super::Environment;
use crate::address::Mailbox;
use crate::config::{Account, parse_domain};
use crate::dkim::{Selector, Signing};
use crate::error::Error;

/// What the command line says, each None when it says nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct DkimFlags<'a> {
    pub key: Option<&'a Path>,
    pub selector: Option<&'a Selector>,
    pub domain: Option<&'a str>,
}

/// How to sign, or None when no key is set. A key without a selector is a configuration
/// error; the domain defaults to the From address's.
pub fn dkim(
    flags: DkimFlags,
    account: Option<&Account>,
    env: &Environment,
    from: Option<&Mailbox>,
) -> Result<Option<Signing>, Error> {
    let var = |key: &str| (env.var)(key).filter(|value| !value.trim().is_empty());
    let keys = account.map(|a| &a.dkim);
    let key_file = flags
        .key
        .map(Path::to_path_buf)
        .or_else(|| var("SMTPSEND_DKIM_KEY").map(PathBuf::from))
        .or_else(|| keys.and_then(|k| k.key.clone()));
    let Some(key_file) = key_file else {
        return Ok(None);
    };
    let selector = match (flags.selector, var("SMTPSEND_DKIM_SELECTOR")) {
        (Some(selector), _) => Some(selector.clone()),
        (None, Some(value)) => Some(
            value
                .parse()
                .map_err(|reason| Error::config(format!("SMTPSEND_DKIM_SELECTOR: {reason}")))?,
        ),
        (None, None) => keys.and_then(|k| k.selector.clone()),
    }
    .ok_or_else(|| {
        Error::config(format!(
            "dkim_key {} is set but no selector",
            key_file.display()
        ))
        .with_hint("give --dkim-selector, SMTPSEND_DKIM_SELECTOR or the account's dkim_selector")
    })?;
    let domain = match flags
        .domain
        .map(str::to_string)
        .or_else(|| var("SMTPSEND_DKIM_DOMAIN"))
    {
        Some(value) => Some(
            parse_domain(&value)
                .ok_or_else(|| Error::config(format!("--dkim-domain: not a domain: {value:?}")))?,
        ),
        None => keys
            .and_then(|k| k.domain.clone())
            .or_else(|| from.map(|from| from.domain().to_string())),
    }
    .ok_or_else(|| {
        Error::config("no DKIM signing domain").with_hint("give --dkim-domain or a From address")
    })?;
    Ok(Some(Signing {
        key_file,
        selector,
        domain,
    }))
}
