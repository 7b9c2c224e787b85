//! The aliases file (`/etc/aliases`) and the expansion of local recipient names through it.

use std::collections::BTreeMap;

use crate::address::parse_mailbox;
use crate::error::{Error, io_reason};
use crate::settings::AliasSource;

/// `/etc/aliases`: `name: target, target`, continuation lines indented, `#` comments.
#[derive(Debug, Default)]
pub struct Aliases(BTreeMap<String, Vec<String>>);

/// The aliases from where the settings say: a file, or SMTPSEND_ALIASES itself.
pub fn read_aliases(source: &AliasSource) -> Result<Aliases, Error> {
    match source {
        AliasSource::File(path) => {
            let text = std::fs::read_to_string(path).map_err(|err| {
                Error::config(format!(
                    "cannot read the aliases file {}: {}",
                    path.display(),
                    io_reason(&err)
                ))
            })?;
            parse_aliases(&text, &path.display().to_string())
        }
        // One line per entry; a name's targets are separated by commas, so entries by `;`.
        AliasSource::Inline(entries) => {
            let lines: Vec<&str> = entries.split(';').map(str::trim_start).collect();
            parse_aliases(&lines.join("\n"), "SMTPSEND_ALIASES")
        }
    }
}

/// `origin` names the file (or the variable) in errors.
fn parse_aliases(text: &str, origin: &str) -> Result<Aliases, Error> {
    let mut entries: Vec<(usize, String)> = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or_default();
        if line.trim().is_empty() {
            continue;
        }
        match (line.starts_with([' ', '\t']), entries.last_mut()) {
            (true, Some((_, entry))) => {
                entry.push(' ');
                entry.push_str(line.trim());
            }
            _ => entries.push((number + 1, line.trim().to_string())),
        }
    }
    let mut aliases = BTreeMap::new();
    for (line, entry) in entries {
        let (name, targets) = entry.split_once(':').ok_or_else(|| {
            Error::config(format!("{origin}:{line}: expected `name: address, ...`"))
        })?;
        let targets: Vec<String> = targets
            .split(',')
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect();
        if let Some(unsupported) = targets.iter().find(|t| t.starts_with(['|', '/', ':'])) {
            return Err(Error::config(format!(
                "{origin}:{line}: {unsupported:?}: smtpsend delivers to addresses only, not to commands, files or includes"
            )));
        }
        aliases.insert(name.trim().to_ascii_lowercase(), targets);
    }
    Ok(Aliases(aliases))
}

/// Local names (no `@`) through the aliases, recursively, then `default:`, then the local
/// domain; addresses with a domain pass unchanged. Duplicates are dropped.
pub fn expand_recipients(
    recipients: &[String],
    aliases: &Aliases,
    local_domain: Option<&str>,
) -> Result<Vec<String>, Error> {
    let mut out: Vec<String> = Vec::new();
    let mut pending: Vec<(String, usize)> =
        recipients.iter().rev().map(|r| (r.clone(), 0)).collect();
    while let Some((name, depth)) = pending.pop() {
        let name = name
            .trim()
            .trim_start_matches('<')
            .trim_end_matches('>')
            .to_string();
        let address = if name.contains('@') {
            parse_mailbox(&name, "recipient")?.address
        } else {
            if depth > 10 {
                return Err(Error::config(format!(
                    "aliases: {name:?} expands in a loop"
                )));
            }
            let key = name.to_ascii_lowercase();
            let targets = aliases
                .0
                .get(&key)
                .or_else(|| (depth == 0).then(|| aliases.0.get("default")).flatten());
            match (targets, local_domain) {
                (Some(targets), _) => {
                    pending.extend(targets.iter().rev().map(|t| (t.clone(), depth + 1)));
                    continue;
                }
                (None, Some(domain)) => {
                    parse_mailbox(&format!("{name}@{domain}"), "recipient")?.address
                }
                (None, None) => {
                    return Err(Error::usage(format!(
                        "sendmail: {name:?} is a local name with no alias and no local domain to add"
                    ))
                    .with_hint(format!(
                        "map it with SMTPSEND_ALIASES (e.g. '{name}: you@example.com') or `aliases` in the account, or qualify it with SMTPSEND_LOCAL_DOMAIN or `local_domain`"
                    )));
                }
            }
        };
        if !out.iter().any(|a| a.eq_ignore_ascii_case(&address)) {
            out.push(address);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_expand_recursively_with_default_and_domain() {
        let aliases = parse_aliases(
            "# system\nroot: admin\nadmin: alice@example.org,\n  bob@example.org\npostmaster: root\ndefault: ops@example.org\n",
            "/etc/aliases",
        )
        .unwrap();
        let expand = |names: &[&str], domain| {
            expand_recipients(
                &names.iter().map(|n| n.to_string()).collect::<Vec<_>>(),
                &aliases,
                domain,
            )
        };
        assert_eq!(
            expand(&["root"], None).unwrap(),
            ["alice@example.org", "bob@example.org"]
        );
        assert_eq!(
            expand(&["postmaster", "carol@x.org"], None).unwrap(),
            ["alice@example.org", "bob@example.org", "carol@x.org"]
        );
        assert_eq!(expand(&["www-data"], None).unwrap(), ["ops@example.org"]);
        let none = parse_aliases("", "/etc/aliases").unwrap();
        assert_eq!(
            expand_recipients(&["backup".into()], &none, Some("host.example")).unwrap(),
            ["backup@host.example"]
        );
        assert_eq!(
            expand_recipients(&["backup".into()], &none, None)
                .unwrap_err()
                .exit_code(),
            64
        );
        let looped = parse_aliases("a: b\nb: a\n", "/etc/aliases").unwrap();
        assert!(expand_recipients(&["a".into()], &looped, None).is_err());
        assert!(parse_aliases("x: |/usr/bin/procmail\n", "/etc/aliases").is_err());
    }

    #[test]
    fn the_variable_holds_entries_separated_by_semicolons() {
        let source = AliasSource::Inline("root: admin; admin: a@example.org, b@example.org".into());
        let aliases = read_aliases(&source).unwrap();
        assert_eq!(
            expand_recipients(&["root".into()], &aliases, None).unwrap(),
            ["a@example.org", "b@example.org"]
        );
        let err = read_aliases(&AliasSource::Inline("root: admin; nonsense".into())).unwrap_err();
        assert!(
            err.message.starts_with("SMTPSEND_ALIASES:2: "),
            "{}",
            err.message
        );
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;
        use crate::sendmail::strategies::hostile;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(128))]

            #[test]
            fn the_aliases_take_any_bytes(raw in hostile()) {
                let text = String::from_utf8_lossy(&raw);
                if let Ok(aliases) = parse_aliases(&text, "aliases") {
                    let names: Vec<String> = text.split([',', '\n']).map(str::to_string).collect();
                    let _ = expand_recipients(&names, &aliases, Some("x.org"));
                }
            }
        }
    }
}
