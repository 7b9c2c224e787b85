//! Password commands (`--password-command`, `password_command`, `oauth2_token_command`) and
//! password files, read within bounds: in time, in output, and in the processes they leave.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::Secret;
use crate::error::{Error, Kind, io_reason};

/// A password file or command output ends with a newline that is not part of the password.
pub(super) fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

/// The first line of the file `path` (named by `what`, a variable), read within bounds.
pub(super) fn read_password_file(path: &Path, what: &str) -> Result<Secret, Error> {
    let what = format!("{what} {}", path.display());
    let cannot_read =
        |err: &std::io::Error| Error::config(format!("cannot read {what}: {}", io_reason(err)));
    let file = std::fs::File::open(path).map_err(|err| cannot_read(&err))?;
    let contents = match read_bounded(file, MAX_SECRET_SOURCE) {
        Ok(Bounded::Whole(contents)) => contents,
        Ok(Bounded::TooLong) => return Err(too_much(&what)),
        Err(err) => return Err(cannot_read(&err)),
    };
    let contents = String::from_utf8(contents)
        .map_err(|_| Error::config(format!("{what} is not UTF-8 text")))?;
    Ok(Secret::new(first_line(&contents).to_string()))
}

/// The most a password source may give. A password, or an OAuth2 token with the JSON around it
/// (access tokens run to a few KiB), fits many times over; `yes` or `/dev/zero` does not, and
/// reading them must not grow memory without bound.
pub const MAX_SECRET_SOURCE: usize = 32 * 1024;

/// What a password command may write to stderr that is kept for the error message.
const MAX_COMMAND_STDERR: usize = 4 * 1024;

/// What `read_bounded` found.
enum Bounded {
    Whole(Vec<u8>),
    TooLong,
}

/// Reads `reader` to its end, or stops once it has given more than `limit` bytes.
fn read_bounded(reader: impl Read, limit: usize) -> std::io::Result<Bounded> {
    let mut buf = Vec::new();
    reader.take(limit as u64 + 1).read_to_end(&mut buf)?;
    Ok(if buf.len() > limit {
        Bounded::TooLong
    } else {
        Bounded::Whole(buf)
    })
}

/// The error for a source that gave more than a password could be.
pub fn too_much(what: &str) -> Error {
    Error::config(format!(
        "{what} gave more than {} KiB; a password or token is far shorter",
        MAX_SECRET_SOURCE / 1024
    ))
}

/// What the reader threads of a password command report.
enum Pipe {
    Stdout(std::io::Result<Bounded>),
    Stderr(Vec<u8>),
}

/// Runs `sh -c COMMAND`, bounded in time and in output, and takes the first line of its output.
///
/// The command runs in a process group of its own, and the whole group is killed when it takes
/// too long or says too much: killing `sh` alone would leave `sleep 60` or a pipeline's other
/// members running after smtpsend has given up on them.
pub fn run_password_command(command: &str, what: &str, timeout: Duration) -> Result<Secret, Error> {
    let failed = |reason: String| Error::new(Kind::Config, format!("{what} failed: {reason}"));
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command)
        // The message body may be on our stdin; the command must not eat it.
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|err| failed(format!("cannot run sh: {}", io_reason(&err))))?;

    // Read both pipes on threads so a chatty command cannot block on a full pipe.
    let (sender, pipes) = mpsc::channel();
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let stdout_sender = sender.clone();
    std::thread::spawn(move || {
        let _ = stdout_sender.send(Pipe::Stdout(read_bounded(&mut stdout, MAX_SECRET_SOURCE)));
    });
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        let _ = (&mut stderr)
            .take(MAX_COMMAND_STDERR as u64)
            .read_to_end(&mut kept);
        // Drain the rest unkept, so the command is not blocked writing to a full pipe.
        let _ = std::io::copy(&mut stderr, &mut std::io::sink());
        let _ = sender.send(Pipe::Stderr(kept));
    });

    // Done when the command has exited and both pipes are closed: a background child still
    // holding the pipe open counts as the command not having answered.
    let deadline = Instant::now() + timeout;
    let (mut status, mut output, mut errors) = (None, None, None);
    while status.is_none() || output.is_none() || errors.is_none() {
        if status.is_none() {
            match child.try_wait() {
                Ok(found) => status = found,
                Err(err) => {
                    kill_group(&mut child);
                    return Err(failed(io_reason(&err)));
                }
            }
        }
        let now = Instant::now();
        if now >= deadline {
            kill_group(&mut child);
            return Err(failed(format!(
                "no answer within {} s (a command waiting for input?)",
                timeout.as_secs()
            )));
        }
        match pipes.recv_timeout((deadline - now).min(Duration::from_millis(10))) {
            Ok(Pipe::Stdout(Ok(Bounded::TooLong))) => {
                kill_group(&mut child);
                return Err(too_much(what));
            }
            Ok(Pipe::Stdout(Ok(Bounded::Whole(read)))) => output = Some(read),
            Ok(Pipe::Stdout(Err(err))) => {
                kill_group(&mut child);
                return Err(failed(io_reason(&err)));
            }
            Ok(Pipe::Stderr(kept)) => errors = Some(kept),
            Err(_) => {}
        }
    }
    let (Some(status), Some(stdout), Some(stderr)) = (status, output, errors) else {
        unreachable!("the loop ends only with all three");
    };
    let stderr = String::from_utf8_lossy(&stderr);
    let stderr = stderr.trim();
    if !status.success() {
        let code = status.code().map_or_else(
            || "killed by a signal".to_string(),
            |c| format!("exit status {c}"),
        );
        let detail = if stderr.is_empty() {
            String::new()
        } else {
            format!(": {}", stderr.lines().collect::<Vec<_>>().join(" / "))
        };
        return Err(failed(format!("{code}{detail}")));
    }
    let stdout = String::from_utf8(stdout).map_err(|_| failed("its output is not UTF-8".into()))?;
    let password = first_line(&stdout);
    if password.is_empty() {
        return Err(failed("it printed no password".into()));
    }
    Ok(Secret::new(password.to_string()))
}

/// Kills the command's whole process group, then reaps the command itself.
fn kill_group(child: &mut Child) {
    // The group's id is the command's pid (`process_group(0)`); a negative pid names the group.
    if let Ok(pid) = libc::pid_t::try_from(child.id()) {
        // SAFETY: kill(2) takes plain integers and touches no memory of ours.
        unsafe { libc::kill(-pid, libc::SIGKILL) };
    }
    let _ = child.wait();
}
