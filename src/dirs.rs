//! The XDG base directories (the Base Directory Specification 0.8): `$XDG_CONFIG_HOME`,
//! `$XDG_DATA_HOME` and `$XDG_STATE_HOME`, each falling back under the home directory when
//! unset, empty or relative (the specification says such a value is to be ignored). Read
//! through the environment function a command was given, so tests and `settings` see the same
//! values.
//!
//! The home directory is `$HOME`; when HOME is unset or empty (`env -i`, some service
//! managers) it is the user's entry in the password database, as the shell's `~` would be. A
//! HOME that does not exist (`/nonexistent`) is never created: nothing falls back under it.

use std::ffi::CStr;
use std::path::{Path, PathBuf};

/// `$XDG_CONFIG_HOME`, else `~/.config`.
pub fn config_home(var: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    base(var, "XDG_CONFIG_HOME", ".config", &passwd_home).ok()
}

/// `$XDG_DATA_HOME`, else `~/.local/share`; else why there is none.
pub fn data_home(var: &dyn Fn(&str) -> Option<String>) -> Result<PathBuf, String> {
    base(var, "XDG_DATA_HOME", ".local/share", &passwd_home)
}

/// `$XDG_STATE_HOME`, else `~/.local/state`.
pub fn state_home(var: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    base(var, "XDG_STATE_HOME", ".local/state", &passwd_home).ok()
}

fn base(
    var: &dyn Fn(&str) -> Option<String>,
    key: &str,
    under_home: &str,
    passwd_home: &dyn Fn() -> Option<PathBuf>,
) -> Result<PathBuf, String> {
    if let Some(dir) = var(key).filter(|dir| dir.starts_with('/')) {
        return Ok(PathBuf::from(dir));
    }
    let home = match var("HOME").filter(|home| !home.is_empty()) {
        Some(home) if Path::new(&home).is_dir() => PathBuf::from(home),
        Some(home) => return Err(format!("{key} is not set and HOME ({home}) does not exist")),
        None => passwd_home().filter(|home| home.is_dir()).ok_or_else(|| {
            format!("{key} and HOME are not set, and the user has no home directory")
        })?,
    };
    Ok(home.join(under_home))
}

/// The home directory of this process's user in the password database.
fn passwd_home() -> Option<PathBuf> {
    // SAFETY: getuid cannot fail.
    let (_, home) = passwd_entry(unsafe { libc::getuid() })?;
    (!home.as_os_str().is_empty()).then_some(home)
}

/// The name of a user in the password database (for `serve`, the user at the other end of a
/// unix socket).
pub fn user_name(uid: u32) -> Option<String> {
    passwd_entry(uid).map(|(name, _)| name)
}

/// A user's name and home directory in the password database.
fn passwd_entry(uid: libc::uid_t) -> Option<(String, PathBuf)> {
    use std::os::unix::ffi::OsStrExt;
    let mut buffer = vec![0u8; 16 * 1024];
    // SAFETY: getpwuid_r writes only into `entry` and `buffer`, whose sizes it is given, and
    // sets `found` to `entry` or null; the strings it points to live in `buffer`, read before
    // `buffer` is dropped.
    unsafe {
        let mut entry: libc::passwd = std::mem::zeroed();
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        let status = libc::getpwuid_r(
            uid,
            &mut entry,
            buffer.as_mut_ptr().cast(),
            buffer.len(),
            &mut found,
        );
        if status != 0 || found.is_null() || entry.pw_dir.is_null() || entry.pw_name.is_null() {
            return None;
        }
        let name = CStr::from_ptr(entry.pw_name).to_string_lossy().into_owned();
        let dir = CStr::from_ptr(entry.pw_dir).to_bytes();
        Some((name, PathBuf::from(std::ffi::OsStr::from_bytes(dir))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    }

    #[test]
    fn the_variable_else_home() {
        let home = tempfile::tempdir().unwrap();
        let home_text = home.path().to_str().unwrap();
        let none = || None;
        let set = vars(&[("XDG_DATA_HOME", "/xdg")]);
        assert_eq!(
            base(&set, "XDG_DATA_HOME", ".local/share", &none),
            Ok("/xdg".into())
        );
        let empty = vars(&[("XDG_CONFIG_HOME", ""), ("HOME", home_text)]);
        assert_eq!(
            base(&empty, "XDG_CONFIG_HOME", ".config", &none),
            Ok(home.path().join(".config"))
        );
        let relative = vars(&[("XDG_STATE_HOME", "state"), ("HOME", home_text)]);
        assert_eq!(
            base(&relative, "XDG_STATE_HOME", ".local/state", &none),
            Ok(home.path().join(".local/state"))
        );
    }

    #[test]
    fn no_home_is_the_password_database_and_a_missing_home_is_nothing() {
        let home = tempfile::tempdir().unwrap();
        let from_passwd = || Some(home.path().to_path_buf());
        assert_eq!(
            base(&vars(&[]), "XDG_DATA_HOME", ".local/share", &from_passwd),
            Ok(home.path().join(".local/share"))
        );
        let err = base(
            &vars(&[("HOME", "/nonexistent")]),
            "XDG_DATA_HOME",
            ".local/share",
            &from_passwd,
        )
        .unwrap_err();
        assert!(err.contains("HOME (/nonexistent) does not exist"), "{err}");
        let gone = || Some(PathBuf::from("/nonexistent"));
        assert!(base(&vars(&[]), "XDG_DATA_HOME", ".local/share", &gone).is_err());
    }
}
