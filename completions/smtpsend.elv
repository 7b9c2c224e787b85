
use builtin;
use str;

set edit:completion:arg-completer[smtpsend] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'smtpsend'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'smtpsend'= {
            cand -t 'A To recipient; repeatable, and a comma-separated list is accepted'
            cand --to 'A To recipient; repeatable, and a comma-separated list is accepted'
            cand -c 'A Cc recipient; repeatable'
            cand --cc 'A Cc recipient; repeatable'
            cand -b 'A Bcc recipient; repeatable. Used in the envelope only, never written into the message'
            cand --bcc 'A Bcc recipient; repeatable. Used in the envelope only, never written into the message'
            cand -f 'The From address: `Name <addr>` or `addr`; also the envelope sender [env: SMTPSEND_FROM]'
            cand --from 'The From address: `Name <addr>` or `addr`; also the envelope sender [env: SMTPSEND_FROM]'
            cand --envelope-from 'The envelope sender (MAIL FROM), where it differs from --from: bounces go there'
            cand -s 'The subject'
            cand --subject 'The subject'
            cand --reply-to 'The Reply-To address'
            cand -H 'An extra header, ''Name: value''; repeatable. CR or LF in a value is refused'
            cand --header 'An extra header, ''Name: value''; repeatable. CR or LF in a value is refused'
            cand -m 'The body text'
            cand --body 'The body text'
            cand --body-file 'Read the body text from a file; `-` is standard input'
            cand --html 'An HTML alternative to the text body, read from a file; `-` is standard input'
            cand --markdown 'The body from a Markdown file, sent as its text and rendered as an HTML alternative; `-` is standard input'
            cand --inline 'A file the HTML shows in place as `cid:CID` (an image in the page); repeatable'
            cand --template 'A message template: header fields (Subject: and others, as -H takes them), a blank line, the body; `{{ NAME }}` in it is filled from --var, `{{ env.NAME }}` from the environment'
            cand --var 'A value for the template''s `{{ NAME }}`; repeatable'
            cand --max-size 'Refuse a message larger than SIZE, before connecting: bytes, or with K, M or G (KiB, MiB, GiB), e.g. 25M'
            cand --dkim-key 'Sign the message with DKIM using this private key (PEM: RSA or Ed25519) [env: SMTPSEND_DKIM_KEY]'
            cand --dkim-selector 'The DKIM selector: the key is published at SELECTOR._domainkey.DOMAIN [env: SMTPSEND_DKIM_SELECTOR]'
            cand --dkim-domain 'The signing domain (d=) [default: the From address''s domain] [env: SMTPSEND_DKIM_DOMAIN]'
            cand -a 'Attach a file; repeatable. The content type comes from the extension, then the content'
            cand --attach 'Attach a file; repeatable. The content type comes from the extension, then the content'
            cand --account 'An account from the configuration file; else the one whose `from` matches --from, else the default account'
            cand --retry 'Try to connect up to N more times when the connection fails (1, 2, 4, ... s apart)'
            cand --config 'The configuration file [default: $XDG_CONFIG_HOME/smtpsend/config.toml]'
            cand --server 'The server: smtp://HOST[:PORT] (STARTTLS, 587), smtps://HOST[:PORT] (TLS, 465)'
            cand --host 'The server''s host name, as an alternative to --server [env: SMTPSEND_HOST]'
            cand --port 'The server''s port; the default follows --tls [env: SMTPSEND_PORT]'
            cand --tls 'How the connection is encrypted [env: SMTPSEND_TLS] [default: starttls]'
            cand --ca-file 'Extra trust anchors (PEM), e.g. a private CA. The system''s roots stay trusted'
            cand --tls-pin 'The server''s public key must have this pin (repeatable): sha256//BASE64'
            cand --tls-min 'The lowest TLS version accepted: 1.2 or 1.3 [default: 1.2]'
            cand --tls-server-name 'The name the certificate is verified for and sent in SNI [default: the host]'
            cand --client-cert 'A client certificate (PEM, any intermediates after it), for a server that asks for one'
            cand --client-key 'The client certificate''s private key (PEM) [default: in the --client-cert file]'
            cand --timeout 'Seconds to wait for the connection and for each server reply [default: 60]'
            cand --deadline 'Seconds the whole send may take, whatever the server does'
            cand --user 'The login name. Without it, smtpsend does not authenticate'
            cand --auth 'The SASL mechanism; `auto` picks the strongest the server offers [default: auto]'
            cand --password-command 'A command whose first line of output is the password, e.g. ''pass show smtp'''
            cand --ehlo-name 'The name to give the server in EHLO (and HELO) [default: this host''s fully qualified name, else its address as a literal such as [192.0.2.1]]'
            cand --source-address 'The local address to connect from, on a machine with several'
            cand --proxy 'Connect through this SOCKS5 proxy: socks5h://HOST[:PORT] (the proxy resolves the server''s name, as Tor needs) or socks5://HOST[:PORT] [default port: 1080]'
            cand --dry-run 'Show what would be sent, and connect to nothing'
            cand --markdown-body 'The body (-m, --body-file or standard input) is Markdown: render it as --markdown does'
            cand --markdown-allow-html 'Let raw HTML in the Markdown through as HTML instead of showing it as text'
            cand --allow-partial 'When some recipients are refused, still send to the accepted ones (default: send nothing)'
            cand --require-tls 'Ask that the message travel over TLS on every hop to the recipient, or not at all'
            cand --ignore-tls-policy 'Add `TLS-Required: No`: relays may deliver without the TLS a recipient''s policy asks for'
            cand --queue 'On a temporary failure, keep the message in the outbox for `smtpsend queue flush`'
            cand --tls-pin-only 'Trust the pinned key alone: no CA chain, host name or validity dates are checked'
            cand -4 'Connect over IPv4 only [env: SMTPSEND_IP_FAMILY=4]'
            cand --ipv4 'Connect over IPv4 only [env: SMTPSEND_IP_FAMILY=4]'
            cand -6 'Connect over IPv6 only [env: SMTPSEND_IP_FAMILY=6]'
            cand --ipv6 'Connect over IPv6 only [env: SMTPSEND_IP_FAMILY=6]'
            cand -q 'Print nothing on success'
            cand --quiet 'Print nothing on success'
            cand -v 'Print the SMTP dialogue on standard error, secrets replaced by <redacted>'
            cand --verbose 'Print the SMTP dialogue on standard error, secrets replaced by <redacted>'
            cand --json 'Print one JSON object on standard output: each recipient''s reply, the final reply, TLS, timings'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand init 'Set up an account from an e-mail address: find its server, check it, store the secret'
            cand login 'Store an account''s password in the OS keyring, after checking it with the server'
            cand logout 'Remove an account''s password from the OS keyring (OAuth2: revoke the sign-in, then forget it)'
            cand check 'Connect, show TLS, the certificate and the server''s extensions, and try AUTH; send nothing'
            cand config 'Show or import configuration'
            cand sendmail 'Read a complete message on standard input and send it, as /usr/sbin/sendmail does'
            cand mail 'Send the body on standard input as `mail -s SUBJECT ADDR...` does (bsd-mailx, mailutils)'
            cand install-mta 'Make this binary the system''s MTA: sendmail, mail and mailx as symbolic links to it'
            cand batch 'Send every message file in a directory over one connection'
            cand queue 'The outbox: messages kept after a temporary failure, and dead letters'
            cand serve 'Run a local SMTP relay for programs that speak only SMTP, durable before it says yes'
            cand completions 'Print a shell completion script to standard output'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'smtpsend;init'= {
            cand --name 'The account''s name [default: from the address''s domain, e.g. `example` for me@example.com]'
            cand --server 'The server, instead of searching: smtp://HOST[:PORT] (STARTTLS) or smtps://HOST[:PORT]'
            cand --provider 'A built-in provider or sending service, for a domain the table does not know (a Google Workspace or Microsoft 365 domain) or a service chosen by name: ses, sendgrid, mailgun, postmark, brevo, google, microsoft, ...'
            cand --region 'The region of --provider ses (e.g. eu-west-1) or mailgun (us or eu)'
            cand --user 'The login name [default: what the server''s description says, else the address]'
            cand --oauth2-client-id 'OAuth2 providers: the client ID of your own application registration, written into the account (see smtpsend-login(1))'
            cand --config 'The configuration file to add the account to [default: $XDG_CONFIG_HOME/smtpsend/config.toml]'
            cand --ca-file 'Extra trust anchors (PEM) for the server and the autoconfiguration document'
            cand --timeout 'Seconds to wait for each DNS, HTTPS and SMTP answer [default: 15]'
            cand --no-login 'Store no password and start no sign-in: only find, check and write the account'
            cand -y 'Take a server outside the address''s domain without asking'
            cand --yes 'Take a server outside the address''s domain without asking'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'smtpsend;login'= {
            cand --config 'The configuration file [default: $XDG_CONFIG_HOME/smtpsend/config.toml]'
            cand --server 'The server: smtp://HOST[:PORT] (STARTTLS, 587), smtps://HOST[:PORT] (TLS, 465)'
            cand --host 'The server''s host name, as an alternative to --server [env: SMTPSEND_HOST]'
            cand --port 'The server''s port; the default follows --tls [env: SMTPSEND_PORT]'
            cand --tls 'How the connection is encrypted [env: SMTPSEND_TLS] [default: starttls]'
            cand --ca-file 'Extra trust anchors (PEM), e.g. a private CA. The system''s roots stay trusted'
            cand --tls-pin 'The server''s public key must have this pin (repeatable): sha256//BASE64'
            cand --tls-min 'The lowest TLS version accepted: 1.2 or 1.3 [default: 1.2]'
            cand --tls-server-name 'The name the certificate is verified for and sent in SNI [default: the host]'
            cand --client-cert 'A client certificate (PEM, any intermediates after it), for a server that asks for one'
            cand --client-key 'The client certificate''s private key (PEM) [default: in the --client-cert file]'
            cand --timeout 'Seconds to wait for the connection and for each server reply [default: 60]'
            cand --deadline 'Seconds the whole send may take, whatever the server does'
            cand --user 'The login name. Without it, smtpsend does not authenticate'
            cand --auth 'The SASL mechanism; `auto` picks the strongest the server offers [default: auto]'
            cand --password-command 'A command whose first line of output is the password, e.g. ''pass show smtp'''
            cand --ehlo-name 'The name to give the server in EHLO (and HELO) [default: this host''s fully qualified name, else its address as a literal such as [192.0.2.1]]'
            cand --source-address 'The local address to connect from, on a machine with several'
            cand --proxy 'Connect through this SOCKS5 proxy: socks5h://HOST[:PORT] (the proxy resolves the server''s name, as Tor needs) or socks5://HOST[:PORT] [default port: 1080]'
            cand --password-stdin 'Read the password from the first line of standard input instead of asking'
            cand --no-verify 'Store the password without checking it with the server first'
            cand --device 'OAuth2 accounts: sign in with the device authorization grant (a code to enter on any device with a browser), for machines without one'
            cand --no-browser 'OAuth2 accounts: print the sign-in address instead of opening a browser, and read back the address the browser was sent to'
            cand --tls-pin-only 'Trust the pinned key alone: no CA chain, host name or validity dates are checked'
            cand -4 'Connect over IPv4 only [env: SMTPSEND_IP_FAMILY=4]'
            cand --ipv4 'Connect over IPv4 only [env: SMTPSEND_IP_FAMILY=4]'
            cand -6 'Connect over IPv6 only [env: SMTPSEND_IP_FAMILY=6]'
            cand --ipv6 'Connect over IPv6 only [env: SMTPSEND_IP_FAMILY=6]'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'smtpsend;logout'= {
            cand --config 'The configuration file [default: $XDG_CONFIG_HOME/smtpsend/config.toml]'
            cand --server 'The server: smtp://HOST[:PORT] (STARTTLS, 587), smtps://HOST[:PORT] (TLS, 465)'
            cand --host 'The server''s host name, as an alternative to --server [env: SMTPSEND_HOST]'
            cand --port 'The server''s port; the default follows --tls [env: SMTPSEND_PORT]'
            cand --tls 'How the connection is encrypted [env: SMTPSEND_TLS] [default: starttls]'
            cand --ca-file 'Extra trust anchors (PEM), e.g. a private CA. The system''s roots stay trusted'
            cand --tls-pin 'The server''s public key must have this pin (repeatable): sha256//BASE64'
            cand --tls-min 'The lowest TLS version accepted: 1.2 or 1.3 [default: 1.2]'
            cand --tls-server-name 'The name the certificate is verified for and sent in SNI [default: the host]'
            cand --client-cert 'A client certificate (PEM, any intermediates after it), for a server that asks for one'
            cand --client-key 'The client certificate''s private key (PEM) [default: in the --client-cert file]'
            cand --timeout 'Seconds to wait for the connection and for each server reply [default: 60]'
            cand --deadline 'Seconds the whole send may take, whatever the server does'
            cand --user 'The login name. Without it, smtpsend does not authenticate'
            cand --auth 'The SASL mechanism; `auto` picks the strongest the server offers [default: auto]'
            cand --password-command 'A command whose first line of output is the password, e.g. ''pass show smtp'''
            cand --ehlo-name 'The name to give the server in EHLO (and HELO) [default: this host''s fully qualified name, else its address as a literal such as [192.0.2.1]]'
            cand --source-address 'The local address to connect from, on a machine with several'
            cand --proxy 'Connect through this SOCKS5 proxy: socks5h://HOST[:PORT] (the proxy resolves the server''s name, as Tor needs) or socks5://HOST[:PORT] [default port: 1080]'
            cand --tls-pin-only 'Trust the pinned key alone: no CA chain, host name or validity dates are checked'
            cand -4 'Connect over IPv4 only [env: SMTPSEND_IP_FAMILY=4]'
            cand --ipv4 'Connect over IPv4 only [env: SMTPSEND_IP_FAMILY=4]'
            cand -6 'Connect over IPv6 only [env: SMTPSEND_IP_FAMILY=6]'
            cand --ipv6 'Connect over IPv6 only [env: SMTPSEND_IP_FAMILY=6]'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'smtpsend;check'= {
            cand --rcpt 'Also try MAIL FROM and RCPT TO for this address (then RSET); repeatable'
            cand -f 'The sender for --rcpt; the account''s From address without it [env: SMTPSEND_FROM]'
            cand --from 'The sender for --rcpt; the account''s From address without it [env: SMTPSEND_FROM]'
            cand --config 'The configuration file [default: $XDG_CONFIG_HOME/smtpsend/config.toml]'
            cand --server 'The server: smtp://HOST[:PORT] (STARTTLS, 587), smtps://HOST[:PORT] (TLS, 465)'
            cand --host 'The server''s host name, as an alternative to --server [env: SMTPSEND_HOST]'
            cand --port 'The server''s port; the default follows --tls [env: SMTPSEND_PORT]'
            cand --tls 'How the connection is encrypted [env: SMTPSEND_TLS] [default: starttls]'
            cand --ca-file 'Extra trust anchors (PEM), e.g. a private CA. The system''s roots stay trusted'
            cand --tls-pin 'The server''s public key must have this pin (repeatable): sha256//BASE64'
            cand --tls-min 'The lowest TLS version accepted: 1.2 or 1.3 [default: 1.2]'
            cand --tls-server-name 'The name the certificate is verified for and sent in SNI [default: the host]'
            cand --client-cert 'A client certificate (PEM, any intermediates after it), for a server that asks for one'
            cand --client-key 'The client certificate''s private key (PEM) [default: in the --client-cert file]'
            cand --timeout 'Seconds to wait for the connection and for each server reply [default: 60]'
            cand --deadline 'Seconds the whole send may take, whatever the server does'
            cand --user 'The login name. Without it, smtpsend does not authenticate'
            cand --auth 'The SASL mechanism; `auto` picks the strongest the server offers [default: auto]'
            cand --password-command 'A command whose first line of output is the password, e.g. ''pass show smtp'''
            cand --ehlo-name 'The name to give the server in EHLO (and HELO) [default: this host''s fully qualified name, else its address as a literal such as [192.0.2.1]]'
            cand --source-address 'The local address to connect from, on a machine with several'
            cand --proxy 'Connect through this SOCKS5 proxy: socks5h://HOST[:PORT] (the proxy resolves the server''s name, as Tor needs) or socks5://HOST[:PORT] [default port: 1080]'
            cand -v 'Print the SMTP dialogue on standard error, secrets replaced by <redacted>'
            cand --verbose 'Print the SMTP dialogue on standard error, secrets replaced by <redacted>'
            cand --json 'Print one JSON object on standard output'
            cand --tls-pin-only 'Trust the pinned key alone: no CA chain, host name or validity dates are checked'
            cand -4 'Connect over IPv4 only [env: SMTPSEND_IP_FAMILY=4]'
            cand --ipv4 'Connect over IPv4 only [env: SMTPSEND_IP_FAMILY=4]'
            cand -6 'Connect over IPv6 only [env: SMTPSEND_IP_FAMILY=6]'
            cand --ipv6 'Connect over IPv6 only [env: SMTPSEND_IP_FAMILY=6]'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'smtpsend;config'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand show 'Print the effective settings of an account and where each value comes from'
            cand import-msmtprc 'Convert an msmtp configuration file into smtpsend accounts, printed on standard output'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'smtpsend;config;show'= {
            cand --account 'The account, as the main command takes it; an ACCOUNT argument wins over it'
            cand --config 'The configuration file [default: $XDG_CONFIG_HOME/smtpsend/config.toml]'
            cand --server 'The server: smtp://HOST[:PORT] (STARTTLS, 587), smtps://HOST[:PORT] (TLS, 465)'
            cand --host 'The server''s host name, as an alternative to --server [env: SMTPSEND_HOST]'
            cand --port 'The server''s port; the default follows --tls [env: SMTPSEND_PORT]'
            cand --tls 'How the connection is encrypted [env: SMTPSEND_TLS] [default: starttls]'
            cand --ca-file 'Extra trust anchors (PEM), e.g. a private CA. The system''s roots stay trusted'
            cand --tls-pin 'The server''s public key must have this pin (repeatable): sha256//BASE64'
            cand --tls-min 'The lowest TLS version accepted: 1.2 or 1.3 [default: 1.2]'
            cand --tls-server-name 'The name the certificate is verified for and sent in SNI [default: the host]'
            cand --client-cert 'A client certificate (PEM, any intermediates after it), for a server that asks for one'
            cand --client-key 'The client certificate''s private key (PEM) [default: in the --client-cert file]'
            cand --timeout 'Seconds to wait for the connection and for each server reply [default: 60]'
            cand --deadline 'Seconds the whole send may take, whatever the server does'
            cand --user 'The login name. Without it, smtpsend does not authenticate'
            cand --auth 'The SASL mechanism; `auto` picks the strongest the server offers [default: auto]'
            cand --password-command 'A command whose first line of output is the password, e.g. ''pass show smtp'''
            cand --ehlo-name 'The name to give the server in EHLO (and HELO) [default: this host''s fully qualified name, else its address as a literal such as [192.0.2.1]]'
            cand --source-address 'The local address to connect from, on a machine with several'
            cand --proxy 'Connect through this SOCKS5 proxy: socks5h://HOST[:PORT] (the proxy resolves the server''s name, as Tor needs) or socks5://HOST[:PORT] [default port: 1080]'
            cand --tls-pin-only 'Trust the pinned key alone: no CA chain, host name or validity dates are checked'
            cand -4 'Connect over IPv4 only [env: SMTPSEND_IP_FAMILY=4]'
            cand --ipv4 'Connect over IPv4 only [env: SMTPSEND_IP_FAMILY=4]'
            cand -6 'Connect over IPv6 only [env: SMTPSEND_IP_FAMILY=6]'
            cand --ipv6 'Connect over IPv6 only [env: SMTPSEND_IP_FAMILY=6]'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'smtpsend;config;import-msmtprc'= {
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'smtpsend;config;help'= {
            cand show 'Print the effective settings of an account and where each value comes from'
            cand import-msmtprc 'Convert an msmtp configuration file into smtpsend accounts, printed on standard output'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'smtpsend;config;help;show'= {
        }
        &'smtpsend;config;help;import-msmtprc'= {
        }
        &'smtpsend;config;help;help'= {
        }
        &'smtpsend;sendmail'= {
        }
        &'smtpsend;mail'= {
        }
        &'smtpsend;install-mta'= {
            cand --root 'Create the links below this directory instead of / (for packages and tests)'
            cand --dry-run 'Print the links that would be created, and create none'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'smtpsend;batch'= {
            cand --account 'An account from the configuration file'
            cand --config 'The configuration file [default: $XDG_CONFIG_HOME/smtpsend/config.toml]'
            cand --server 'The server: smtp://HOST[:PORT] (STARTTLS, 587), smtps://HOST[:PORT] (TLS, 465)'
            cand --host 'The server''s host name, as an alternative to --server [env: SMTPSEND_HOST]'
            cand --port 'The server''s port; the default follows --tls [env: SMTPSEND_PORT]'
            cand --tls 'How the connection is encrypted [env: SMTPSEND_TLS] [default: starttls]'
            cand --ca-file 'Extra trust anchors (PEM), e.g. a private CA. The system''s roots stay trusted'
            cand --tls-pin 'The server''s public key must have this pin (repeatable): sha256//BASE64'
            cand --tls-min 'The lowest TLS version accepted: 1.2 or 1.3 [default: 1.2]'
            cand --tls-server-name 'The name the certificate is verified for and sent in SNI [default: the host]'
            cand --client-cert 'A client certificate (PEM, any intermediates after it), for a server that asks for one'
            cand --client-key 'The client certificate''s private key (PEM) [default: in the --client-cert file]'
            cand --timeout 'Seconds to wait for the connection and for each server reply [default: 60]'
            cand --deadline 'Seconds the whole send may take, whatever the server does'
            cand --user 'The login name. Without it, smtpsend does not authenticate'
            cand --auth 'The SASL mechanism; `auto` picks the strongest the server offers [default: auto]'
            cand --password-command 'A command whose first line of output is the password, e.g. ''pass show smtp'''
            cand --ehlo-name 'The name to give the server in EHLO (and HELO) [default: this host''s fully qualified name, else its address as a literal such as [192.0.2.1]]'
            cand --source-address 'The local address to connect from, on a machine with several'
            cand --proxy 'Connect through this SOCKS5 proxy: socks5h://HOST[:PORT] (the proxy resolves the server''s name, as Tor needs) or socks5://HOST[:PORT] [default port: 1080]'
            cand --json 'Print one JSON object on standard output'
            cand -v 'Print the SMTP dialogue on standard error, secrets replaced by <redacted>'
            cand --verbose 'Print the SMTP dialogue on standard error, secrets replaced by <redacted>'
            cand --tls-pin-only 'Trust the pinned key alone: no CA chain, host name or validity dates are checked'
            cand -4 'Connect over IPv4 only [env: SMTPSEND_IP_FAMILY=4]'
            cand --ipv4 'Connect over IPv4 only [env: SMTPSEND_IP_FAMILY=4]'
            cand -6 'Connect over IPv6 only [env: SMTPSEND_IP_FAMILY=6]'
            cand --ipv6 'Connect over IPv6 only [env: SMTPSEND_IP_FAMILY=6]'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'smtpsend;queue'= {
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand list 'List the queued messages and the dead letters'
            cand show 'Show one entry: envelope (Bcc recipients too), times, attempts, where its message is'
            cand flush 'Deliver what is due, one connection per server'
            cand retry 'Queue dead letters again, due now, for the next flush'
            cand drop 'Delete a queued message or a dead letter for good'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'smtpsend;queue;list'= {
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'smtpsend;queue;show'= {
            cand --json 'Print the stored description as JSON, with the path of the message file'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'smtpsend;queue;flush'= {
            cand --account 'Only the messages queued for this account'
            cand --now 'Try every message now, whatever its next attempt time'
            cand -q 'Print nothing on success, even on a terminal; what failed still goes to standard error'
            cand --quiet 'Print nothing on success, even on a terminal; what failed still goes to standard error'
            cand -v 'Say what was delivered and what waits, and print the SMTP dialogue on standard error, secrets replaced by <redacted>'
            cand --verbose 'Say what was delivered and what waits, and print the SMTP dialogue on standard error, secrets replaced by <redacted>'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'smtpsend;queue;retry'= {
            cand --all-dead 'Every dead letter'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'smtpsend;queue;drop'= {
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'smtpsend;queue;help'= {
            cand list 'List the queued messages and the dead letters'
            cand show 'Show one entry: envelope (Bcc recipients too), times, attempts, where its message is'
            cand flush 'Deliver what is due, one connection per server'
            cand retry 'Queue dead letters again, due now, for the next flush'
            cand drop 'Delete a queued message or a dead letter for good'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'smtpsend;queue;help;list'= {
        }
        &'smtpsend;queue;help;show'= {
        }
        &'smtpsend;queue;help;flush'= {
        }
        &'smtpsend;queue;help;retry'= {
        }
        &'smtpsend;queue;help;drop'= {
        }
        &'smtpsend;queue;help;help'= {
        }
        &'smtpsend;serve'= {
            cand --listen 'Where to listen: ADDRESS:PORT (127.0.0.1:2525, [::1]:2525) or a unix socket''s path'
            cand --account 'The account for mail that neither a local login nor its sender assigns to one'
            cand --config 'The configuration file [default: $XDG_CONFIG_HOME/smtpsend/config.toml]'
            cand --direct 'Relay each message within the session and answer with the upstream server''s reply: no outbox, no retries (a temporary failure upstream is a 451 to the client)'
            cand --hash-password 'Read a password (from standard input, or asked for on the terminal) and print its hash for [serve.users.NAME] password_hash; listen to nothing'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'smtpsend;completions'= {
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'smtpsend;help'= {
            cand init 'Set up an account from an e-mail address: find its server, check it, store the secret'
            cand login 'Store an account''s password in the OS keyring, after checking it with the server'
            cand logout 'Remove an account''s password from the OS keyring (OAuth2: revoke the sign-in, then forget it)'
            cand check 'Connect, show TLS, the certificate and the server''s extensions, and try AUTH; send nothing'
            cand config 'Show or import configuration'
            cand sendmail 'Read a complete message on standard input and send it, as /usr/sbin/sendmail does'
            cand mail 'Send the body on standard input as `mail -s SUBJECT ADDR...` does (bsd-mailx, mailutils)'
            cand install-mta 'Make this binary the system''s MTA: sendmail, mail and mailx as symbolic links to it'
            cand batch 'Send every message file in a directory over one connection'
            cand queue 'The outbox: messages kept after a temporary failure, and dead letters'
            cand serve 'Run a local SMTP relay for programs that speak only SMTP, durable before it says yes'
            cand completions 'Print a shell completion script to standard output'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'smtpsend;help;init'= {
        }
        &'smtpsend;help;login'= {
        }
        &'smtpsend;help;logout'= {
        }
        &'smtpsend;help;check'= {
        }
        &'smtpsend;help;config'= {
            cand show 'Print the effective settings of an account and where each value comes from'
            cand import-msmtprc 'Convert an msmtp configuration file into smtpsend accounts, printed on standard output'
        }
        &'smtpsend;help;config;show'= {
        }
        &'smtpsend;help;config;import-msmtprc'= {
        }
        &'smtpsend;help;sendmail'= {
        }
        &'smtpsend;help;mail'= {
        }
        &'smtpsend;help;install-mta'= {
        }
        &'smtpsend;help;batch'= {
        }
        &'smtpsend;help;queue'= {
            cand list 'List the queued messages and the dead letters'
            cand show 'Show one entry: envelope (Bcc recipients too), times, attempts, where its message is'
            cand flush 'Deliver what is due, one connection per server'
            cand retry 'Queue dead letters again, due now, for the next flush'
            cand drop 'Delete a queued message or a dead letter for good'
        }
        &'smtpsend;help;queue;list'= {
        }
        &'smtpsend;help;queue;show'= {
        }
        &'smtpsend;help;queue;flush'= {
        }
        &'smtpsend;help;queue;retry'= {
        }
        &'smtpsend;help;queue;drop'= {
        }
        &'smtpsend;help;serve'= {
        }
        &'smtpsend;help;completions'= {
        }
        &'smtpsend;help;help'= {
        }
    ]
    $completions[$command]
}
