//! RFC 6186 / RFC 8314 SRV records: `_submissions._tcp.DOMAIN` (implicit TLS) before
//! `_submission._tcp.DOMAIN` (STARTTLS), each service's targets in RFC 2782 order. The lookup
//! goes through hickory-resolver with the system's resolver configuration (/etc/resolv.conf);
//! the ordering is a pure function, tested on given records.

use std::time::Duration;

use crate::server::{Endpoint, Security};

/// One SRV record as the answer gave it; `target` without its final dot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub priority: u16,
    pub weight: u16,
    pub port: u16,
    pub target: String,
}

/// What a service's records say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The targets, in the order to try them.
    Targets(Vec<Record>),
    /// A lone target "." (RFC 2782): the domain says it offers no such service.
    NotOffered,
    /// No records (or the name does not exist).
    Nothing,
}

/// The two services, in the order RFC 8314 section 5.1 prefers them.
pub const SERVICES: [(&str, Security); 2] = [
    ("_submissions._tcp", Security::Implicit),
    ("_submission._tcp", Security::StartTls),
];

/// The records of one service in the order to try them: by priority, lowest first, and within
/// a priority by RFC 2782's weighted random choice, with `random(n)` a number in `0..=n`.
pub fn order(records: Vec<Record>, random: &mut dyn FnMut(u32) -> u32) -> Answer {
    let records: Vec<Record> = records
        .into_iter()
        .map(|r| Record {
            target: r.target.trim_end_matches('.').to_ascii_lowercase(),
            ..r
        })
        .collect();
    if records.is_empty() {
        return Answer::Nothing;
    }
    if records.len() == 1 && records[0].target.is_empty() {
        return Answer::NotOffered;
    }
    // A "." among others, or port 0, names no server: leave it out.
    let mut usable: Vec<Record> = records
        .into_iter()
        .filter(|r| !r.target.is_empty() && r.port != 0)
        .collect();
    if usable.is_empty() {
        return Answer::NotOffered;
    }
    usable.sort_by_key(|r| r.priority);
    let mut ordered = Vec::with_capacity(usable.len());
    while !usable.is_empty() {
        let priority = usable[0].priority;
        let end = usable.iter().take_while(|r| r.priority == priority).count();
        let mut group: Vec<Record> = usable.drain(..end).collect();
        // Zero weights first, as RFC 2782 says, so they keep a small chance.
        group.sort_by_key(|r| r.weight != 0);
        while !group.is_empty() {
            let total: u32 = group.iter().map(|r| u32::from(r.weight)).sum();
            let pick = random(total);
            let mut running = 0;
            let index = group
                .iter()
                .position(|r| {
                    running += u32::from(r.weight);
                    running >= pick
                })
                .unwrap_or(0);
            ordered.push(group.remove(index));
        }
    }
    Answer::Targets(ordered)
}

/// Looks up `name` (e.g. `_submissions._tcp.example.com`). An error is the resolver's reason:
/// no answer, a server failure; "no such name" and "no records" are `Nothing`.
pub fn lookup(name: &str, timeout: Duration) -> Result<Answer, String> {
    use hickory_resolver::net::{DnsError, NetError};
    use hickory_resolver::proto::rr::RData;

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(|err| format!("cannot start the resolver: {err}"))?;
    let mut builder = hickory_resolver::TokioResolver::builder_tokio()
        .map_err(|err| format!("cannot read the resolver configuration: {err}"))?;
    builder.options_mut().timeout = timeout;
    builder.options_mut().attempts = 2;
    let resolver = builder
        .build()
        .map_err(|err| format!("cannot start the resolver: {err}"))?;
    let fqdn = format!("{}.", name.trim_end_matches('.'));
    let answer = runtime.block_on(resolver.srv_lookup(fqdn.as_str()));
    let lookup = match answer {
        Ok(lookup) => lookup,
        Err(NetError::Dns(DnsError::NoRecordsFound(_))) => return Ok(Answer::Nothing),
        Err(err) => return Err(err.to_string()),
    };
    let records = lookup
        .answers()
        .iter()
        .filter_map(|record| match &record.data {
            RData::SRV(srv) => Some(Record {
                priority: srv.priority,
                weight: srv.weight,
                port: srv.port,
                target: srv.target.to_ascii(),
            }),
            _ => None,
        })
        .collect();
    Ok(order(records, &mut |n| {
        (crate::clock::random_u64() % (u64::from(n) + 1)) as u32
    }))
}

/// The endpoint a record names for a service; an error when its target is no host name.
pub fn endpoint(record: &Record, security: Security) -> Result<Endpoint, String> {
    Endpoint::new(&record.target, Some(record.port), security, "SRV target")
        .map_err(|err| err.message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(priority: u16, weight: u16, target: &str) -> Record {
        Record {
            priority,
            weight,
            port: 465,
            target: target.into(),
        }
    }

    fn targets(answer: Answer) -> Vec<String> {
        match answer {
            Answer::Targets(records) => records.into_iter().map(|r| r.target).collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn lowest_priority_first_whatever_the_weights() {
        let records = vec![
            record(20, 100, "b.example.com."),
            record(10, 0, "A.example.com."),
            record(30, 5, "c.example.com"),
        ];
        assert_eq!(
            targets(order(records, &mut |_| 0)),
            ["a.example.com", "b.example.com", "c.example.com"]
        );
    }

    #[test]
    fn weights_choose_within_a_priority() {
        let records = || {
            vec![
                record(10, 1, "light.example.com"),
                record(10, 9, "heavy.example.com"),
                record(10, 0, "zero.example.com"),
            ]
        };
        // random(total) = total: the running sum reaches it at the last record.
        assert_eq!(
            targets(order(records(), &mut |total| total)),
            ["heavy.example.com", "light.example.com", "zero.example.com"]
        );
        // random = 0: the zero-weight record, placed first, is chosen first.
        assert_eq!(
            targets(order(records(), &mut |_| 0)),
            ["zero.example.com", "light.example.com", "heavy.example.com"]
        );
        // random = 1 of 10: the light one.
        let mut calls = 0;
        let picked = targets(order(records(), &mut |total| {
            calls += 1;
            if calls == 1 { 1 } else { total }
        }));
        assert_eq!(picked[0], "light.example.com");
    }

    #[test]
    fn a_lone_dot_means_no_service() {
        assert_eq!(
            order(vec![record(0, 0, ".")], &mut |_| 0),
            Answer::NotOffered
        );
        assert_eq!(order(Vec::new(), &mut |_| 0), Answer::Nothing);
        let mixed = vec![record(0, 0, "."), record(5, 0, "mail.example.com.")];
        assert_eq!(targets(order(mixed, &mut |_| 0)), ["mail.example.com"]);
        let no_port = Record {
            port: 0,
            ..record(0, 0, "mail.example.com")
        };
        assert_eq!(order(vec![no_port], &mut |_| 0), Answer::NotOffered);
    }

    #[test]
    fn submissions_comes_before_submission() {
        assert_eq!(SERVICES[0], ("_submissions._tcp", Security::Implicit));
        assert_eq!(SERVICES[1], ("_submission._tcp", Security::StartTls));
    }
}
