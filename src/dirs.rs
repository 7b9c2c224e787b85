//! The XDG base directories (the Base Directory Specification 0.8): `$XDG_CONFIG_HOME`,
//! `$XDG_DATA_HOME` and `$XDG_STATE_HOME`, each falling back under `$HOME` when unset, empty or
//! relative (the specification says such a value is to be ignored). Read through the
//! environment function a command was given, so tests and `settings` see the same values.

use std::path::PathBuf;

/// `$XDG_CONFIG_HOME`, else `~/.config`.
pub fn config_home(var: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    base(var, "XDG_CONFIG_HOME", ".config")
}

/// `$XDG_DATA_HOME`, else `~/.local/share`.
pub fn data_home(var: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    base(var, "XDG_DATA_HOME", ".local/share")
}

/// `$XDG_STATE_HOME`, else `~/.local/state`.
pub fn state_home(var: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    base(var, "XDG_STATE_HOME", ".local/state")
}

fn base(var: &dyn Fn(&str) -> Option<String>, key: &str, under_home: &str) -> Option<PathBuf> {
    var(key)
        .filter(|dir| dir.starts_with('/'))
        .map(PathBuf::from)
        .or_else(|| {
            var("HOME")
                .filter(|home| !home.is_empty())
                .map(|home| PathBuf::from(home).join(under_home))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_variable_else_home_else_nothing() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |key: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == key)
                    .map(|(_, v)| v.to_string())
            }
        };
        let both = vars(&[("XDG_DATA_HOME", "/xdg"), ("HOME", "/home/u")]);
        assert_eq!(data_home(&both), Some("/xdg".into()));
        let empty = vars(&[("XDG_CONFIG_HOME", ""), ("HOME", "/home/u")]);
        assert_eq!(config_home(&empty), Some("/home/u/.config".into()));
        let relative = vars(&[("XDG_STATE_HOME", "state"), ("HOME", "/home/u")]);
        assert_eq!(state_home(&relative), Some("/home/u/.local/state".into()));
        assert_eq!(data_home(&vars(&[])), None);
    }
}
