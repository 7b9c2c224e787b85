
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'smtpsend' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'smtpsend'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'smtpsend' {
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'A To recipient; repeatable, and a comma-separated list is accepted')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'A To recipient; repeatable, and a comma-separated list is accepted')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'A Cc recipient; repeatable')
            [CompletionResult]::new('--cc', '--cc', [CompletionResultType]::ParameterName, 'A Cc recipient; repeatable')
            [CompletionResult]::new('-b', '-b', [CompletionResultType]::ParameterName, 'A Bcc recipient; repeatable. Used in the envelope only, never written into the message')
            [CompletionResult]::new('--bcc', '--bcc', [CompletionResultType]::ParameterName, 'A Bcc recipient; repeatable. Used in the envelope only, never written into the message')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'The From address: `Name <addr>` or `addr`; also the envelope sender [env: SMTPSEND_FROM]')
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'The From address: `Name <addr>` or `addr`; also the envelope sender [env: SMTPSEND_FROM]')
            [CompletionResult]::new('--envelope-from', '--envelope-from', [CompletionResultType]::ParameterName, 'The envelope sender (MAIL FROM), where it differs from --from: bounces go there')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'The subject')
            [CompletionResult]::new('--subject', '--subject', [CompletionResultType]::ParameterName, 'The subject')
            [CompletionResult]::new('--reply-to', '--reply-to', [CompletionResultType]::ParameterName, 'The Reply-To address')
            [CompletionResult]::new('-H', '-H ', [CompletionResultType]::ParameterName, 'An extra header, ''Name: value''; repeatable. CR or LF in a value is refused')
            [CompletionResult]::new('--header', '--header', [CompletionResultType]::ParameterName, 'An extra header, ''Name: value''; repeatable. CR or LF in a value is refused')
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'The body text')
            [CompletionResult]::new('--body', '--body', [CompletionResultType]::ParameterName, 'The body text')
            [CompletionResult]::new('--body-file', '--body-file', [CompletionResultType]::ParameterName, 'Read the body text from a file; `-` is standard input')
            [CompletionResult]::new('--html', '--html', [CompletionResultType]::ParameterName, 'An HTML alternative to the text body, read from a file; `-` is standard input')
            [CompletionResult]::new('--markdown', '--markdown', [CompletionResultType]::ParameterName, 'The body from a Markdown file, sent as its text and rendered as an HTML alternative; `-` is standard input')
            [CompletionResult]::new('--inline', '--inline', [CompletionResultType]::ParameterName, 'A file the HTML shows in place as `cid:CID` (an image in the page); repeatable')
            [CompletionResult]::new('--template', '--template', [CompletionResultType]::ParameterName, 'A message template: header fields (Subject: and others, as -H takes them), a blank line, the body; `{{ NAME }}` in it is filled from --var, `{{ env.NAME }}` from the environment')
            [CompletionResult]::new('--var', '--var', [CompletionResultType]::ParameterName, 'A value for the template''s `{{ NAME }}`; repeatable')
            [CompletionResult]::new('--max-size', '--max-size', [CompletionResultType]::ParameterName, 'Refuse a message larger than SIZE, before connecting: bytes, or with K, M or G (KiB, MiB, GiB), e.g. 25M')
            [CompletionResult]::new('--dkim-key', '--dkim-key', [CompletionResultType]::ParameterName, 'Sign the message with DKIM using this private key (PEM: RSA or Ed25519) [env: SMTPSEND_DKIM_KEY]')
            [CompletionResult]::new('--dkim-selector', '--dkim-selector', [CompletionResultType]::ParameterName, 'The DKIM selector: the key is published at SELECTOR._domainkey.DOMAIN [env: SMTPSEND_DKIM_SELECTOR]')
            [CompletionResult]::new('--dkim-domain', '--dkim-domain', [CompletionResultType]::ParameterName, 'The signing domain (d=) [default: the From address''s domain] [env: SMTPSEND_DKIM_DOMAIN]')
            [CompletionResult]::new('-a', '-a', [CompletionResultType]::ParameterName, 'Attach a file; repeatable. The content type comes from the extension, then the content')
            [CompletionResult]::new('--attach', '--attach', [CompletionResultType]::ParameterName, 'Attach a file; repeatable. The content type comes from the extension, then the content')
            [CompletionResult]::new('--account', '--account', [CompletionResultType]::ParameterName, 'An account from the configuration file; else the one whose `from` matches --from, else the default account')
            [CompletionResult]::new('--retry', '--retry', [CompletionResultType]::ParameterName, 'Try to connect up to N more times when the connection fails (1, 2, 4, ... s apart)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The configuration file [default: $XDG_CONFIG_HOME/smtpsend/config.toml]')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The server: smtp://HOST[:PORT] (STARTTLS, 587), smtps://HOST[:PORT] (TLS, 465)')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'The server''s host name, as an alternative to --server [env: SMTPSEND_HOST]')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'The server''s port; the default follows --tls [env: SMTPSEND_PORT]')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'How the connection is encrypted [env: SMTPSEND_TLS] [default: starttls]')
            [CompletionResult]::new('--ca-file', '--ca-file', [CompletionResultType]::ParameterName, 'Extra trust anchors (PEM), e.g. a private CA. The system''s roots stay trusted')
            [CompletionResult]::new('--tls-pin', '--tls-pin', [CompletionResultType]::ParameterName, 'The server''s public key must have this pin (repeatable): sha256//BASE64')
            [CompletionResult]::new('--tls-min', '--tls-min', [CompletionResultType]::ParameterName, 'The lowest TLS version accepted: 1.2 or 1.3 [default: 1.2]')
            [CompletionResult]::new('--tls-server-name', '--tls-server-name', [CompletionResultType]::ParameterName, 'The name the certificate is verified for and sent in SNI [default: the host]')
            [CompletionResult]::new('--client-cert', '--client-cert', [CompletionResultType]::ParameterName, 'A client certificate (PEM, any intermediates after it), for a server that asks for one')
            [CompletionResult]::new('--client-key', '--client-key', [CompletionResultType]::ParameterName, 'The client certificate''s private key (PEM) [default: in the --client-cert file]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the connection and for each server reply [default: 60]')
            [CompletionResult]::new('--deadline', '--deadline', [CompletionResultType]::ParameterName, 'Seconds the whole send may take, whatever the server does')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The login name. Without it, smtpsend does not authenticate')
            [CompletionResult]::new('--auth', '--auth', [CompletionResultType]::ParameterName, 'The SASL mechanism; `auto` picks the strongest the server offers [default: auto]')
            [CompletionResult]::new('--password-command', '--password-command', [CompletionResultType]::ParameterName, 'A command whose first line of output is the password, e.g. ''pass show smtp''')
            [CompletionResult]::new('--ehlo-name', '--ehlo-name', [CompletionResultType]::ParameterName, 'The name to give the server in EHLO (and HELO) [default: this host''s fully qualified name, else its address as a literal such as [192.0.2.1]]')
            [CompletionResult]::new('--source-address', '--source-address', [CompletionResultType]::ParameterName, 'The local address to connect from, on a machine with several')
            [CompletionResult]::new('--proxy', '--proxy', [CompletionResultType]::ParameterName, 'Connect through this SOCKS5 proxy: socks5h://HOST[:PORT] (the proxy resolves the server''s name, as Tor needs) or socks5://HOST[:PORT] [default port: 1080]')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would be sent, and connect to nothing')
            [CompletionResult]::new('--markdown-body', '--markdown-body', [CompletionResultType]::ParameterName, 'The body (-m, --body-file or standard input) is Markdown: render it as --markdown does')
            [CompletionResult]::new('--markdown-allow-html', '--markdown-allow-html', [CompletionResultType]::ParameterName, 'Let raw HTML in the Markdown through as HTML instead of showing it as text')
            [CompletionResult]::new('--allow-partial', '--allow-partial', [CompletionResultType]::ParameterName, 'When some recipients are refused, still send to the accepted ones (default: send nothing)')
            [CompletionResult]::new('--require-tls', '--require-tls', [CompletionResultType]::ParameterName, 'Ask that the message travel over TLS on every hop to the recipient, or not at all')
            [CompletionResult]::new('--ignore-tls-policy', '--ignore-tls-policy', [CompletionResultType]::ParameterName, 'Add `TLS-Required: No`: relays may deliver without the TLS a recipient''s policy asks for')
            [CompletionResult]::new('--queue', '--queue', [CompletionResultType]::ParameterName, 'On a temporary failure, keep the message in the outbox for `smtpsend queue flush`')
            [CompletionResult]::new('--tls-pin-only', '--tls-pin-only', [CompletionResultType]::ParameterName, 'Trust the pinned key alone: no CA chain, host name or validity dates are checked')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'Connect over IPv4 only [env: SMTPSEND_IP_FAMILY=4]')
            [CompletionResult]::new('--ipv4', '--ipv4', [CompletionResultType]::ParameterName, 'Connect over IPv4 only [env: SMTPSEND_IP_FAMILY=4]')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'Connect over IPv6 only [env: SMTPSEND_IP_FAMILY=6]')
            [CompletionResult]::new('--ipv6', '--ipv6', [CompletionResultType]::ParameterName, 'Connect over IPv6 only [env: SMTPSEND_IP_FAMILY=6]')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print the SMTP dialogue on standard error, secrets replaced by <redacted>')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print the SMTP dialogue on standard error, secrets replaced by <redacted>')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON object on standard output: each recipient''s reply, the final reply, TLS, timings')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Set up an account from an e-mail address: find its server, check it, store the secret')
            [CompletionResult]::new('login', 'login', [CompletionResultType]::ParameterValue, 'Store an account''s password in the OS keyring, after checking it with the server')
            [CompletionResult]::new('logout', 'logout', [CompletionResultType]::ParameterValue, 'Remove an account''s password from the OS keyring (OAuth2: revoke the sign-in, then forget it)')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Connect, show TLS, the certificate and the server''s extensions, and try AUTH; send nothing')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'Show or import configuration')
            [CompletionResult]::new('sendmail', 'sendmail', [CompletionResultType]::ParameterValue, 'Read a complete message on standard input and send it, as /usr/sbin/sendmail does')
            [CompletionResult]::new('mail', 'mail', [CompletionResultType]::ParameterValue, 'Send the body on standard input as `mail -s SUBJECT ADDR...` does (bsd-mailx, mailutils)')
            [CompletionResult]::new('install-mta', 'install-mta', [CompletionResultType]::ParameterValue, 'Make this binary the system''s MTA: sendmail, mail and mailx as symbolic links to it')
            [CompletionResult]::new('batch', 'batch', [CompletionResultType]::ParameterValue, 'Send every message file in a directory over one connection')
            [CompletionResult]::new('queue', 'queue', [CompletionResultType]::ParameterValue, 'The outbox: messages kept after a temporary failure, and dead letters')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Run a local SMTP relay for programs that speak only SMTP, durable before it says yes')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script to standard output')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'smtpsend;init' {
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'The account''s name [default: from the address''s domain, e.g. `example` for me@example.com]')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The server, instead of searching: smtp://HOST[:PORT] (STARTTLS) or smtps://HOST[:PORT]')
            [CompletionResult]::new('--provider', '--provider', [CompletionResultType]::ParameterName, 'A built-in provider or sending service, for a domain the table does not know (a Google Workspace or Microsoft 365 domain) or a service chosen by name: ses, sendgrid, mailgun, postmark, brevo, google, microsoft, ...')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'The region of --provider ses (e.g. eu-west-1) or mailgun (us or eu)')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The login name [default: what the server''s description says, else the address]')
            [CompletionResult]::new('--oauth2-client-id', '--oauth2-client-id', [CompletionResultType]::ParameterName, 'OAuth2 providers: the client ID of your own application registration, written into the account (see smtpsend-login(1))')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The configuration file to add the account to [default: $XDG_CONFIG_HOME/smtpsend/config.toml]')
            [CompletionResult]::new('--ca-file', '--ca-file', [CompletionResultType]::ParameterName, 'Extra trust anchors (PEM) for the server and the autoconfiguration document')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for each DNS, HTTPS and SMTP answer [default: 15]')
            [CompletionResult]::new('--no-login', '--no-login', [CompletionResultType]::ParameterName, 'Store no password and start no sign-in: only find, check and write the account')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Take a server outside the address''s domain without asking')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Take a server outside the address''s domain without asking')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'smtpsend;login' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The configuration file [default: $XDG_CONFIG_HOME/smtpsend/config.toml]')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The server: smtp://HOST[:PORT] (STARTTLS, 587), smtps://HOST[:PORT] (TLS, 465)')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'The server''s host name, as an alternative to --server [env: SMTPSEND_HOST]')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'The server''s port; the default follows --tls [env: SMTPSEND_PORT]')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'How the connection is encrypted [env: SMTPSEND_TLS] [default: starttls]')
            [CompletionResult]::new('--ca-file', '--ca-file', [CompletionResultType]::ParameterName, 'Extra trust anchors (PEM), e.g. a private CA. The system''s roots stay trusted')
            [CompletionResult]::new('--tls-pin', '--tls-pin', [CompletionResultType]::ParameterName, 'The server''s public key must have this pin (repeatable): sha256//BASE64')
            [CompletionResult]::new('--tls-min', '--tls-min', [CompletionResultType]::ParameterName, 'The lowest TLS version accepted: 1.2 or 1.3 [default: 1.2]')
            [CompletionResult]::new('--tls-server-name', '--tls-server-name', [CompletionResultType]::ParameterName, 'The name the certificate is verified for and sent in SNI [default: the host]')
            [CompletionResult]::new('--client-cert', '--client-cert', [CompletionResultType]::ParameterName, 'A client certificate (PEM, any intermediates after it), for a server that asks for one')
            [CompletionResult]::new('--client-key', '--client-key', [CompletionResultType]::ParameterName, 'The client certificate''s private key (PEM) [default: in the --client-cert file]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the connection and for each server reply [default: 60]')
            [CompletionResult]::new('--deadline', '--deadline', [CompletionResultType]::ParameterName, 'Seconds the whole send may take, whatever the server does')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The login name. Without it, smtpsend does not authenticate')
            [CompletionResult]::new('--auth', '--auth', [CompletionResultType]::ParameterName, 'The SASL mechanism; `auto` picks the strongest the server offers [default: auto]')
            [CompletionResult]::new('--password-command', '--password-command', [CompletionResultType]::ParameterName, 'A command whose first line of output is the password, e.g. ''pass show smtp''')
            [CompletionResult]::new('--ehlo-name', '--ehlo-name', [CompletionResultType]::ParameterName, 'The name to give the server in EHLO (and HELO) [default: this host''s fully qualified name, else its address as a literal such as [192.0.2.1]]')
            [CompletionResult]::new('--source-address', '--source-address', [CompletionResultType]::ParameterName, 'The local address to connect from, on a machine with several')
            [CompletionResult]::new('--proxy', '--proxy', [CompletionResultType]::ParameterName, 'Connect through this SOCKS5 proxy: socks5h://HOST[:PORT] (the proxy resolves the server''s name, as Tor needs) or socks5://HOST[:PORT] [default port: 1080]')
            [CompletionResult]::new('--password-stdin', '--password-stdin', [CompletionResultType]::ParameterName, 'Read the password from the first line of standard input instead of asking')
            [CompletionResult]::new('--no-verify', '--no-verify', [CompletionResultType]::ParameterName, 'Store the password without checking it with the server first')
            [CompletionResult]::new('--device', '--device', [CompletionResultType]::ParameterName, 'OAuth2 accounts: sign in with the device authorization grant (a code to enter on any device with a browser), for machines without one')
            [CompletionResult]::new('--no-browser', '--no-browser', [CompletionResultType]::ParameterName, 'OAuth2 accounts: print the sign-in address instead of opening a browser, and read back the address the browser was sent to')
            [CompletionResult]::new('--tls-pin-only', '--tls-pin-only', [CompletionResultType]::ParameterName, 'Trust the pinned key alone: no CA chain, host name or validity dates are checked')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'Connect over IPv4 only [env: SMTPSEND_IP_FAMILY=4]')
            [CompletionResult]::new('--ipv4', '--ipv4', [CompletionResultType]::ParameterName, 'Connect over IPv4 only [env: SMTPSEND_IP_FAMILY=4]')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'Connect over IPv6 only [env: SMTPSEND_IP_FAMILY=6]')
            [CompletionResult]::new('--ipv6', '--ipv6', [CompletionResultType]::ParameterName, 'Connect over IPv6 only [env: SMTPSEND_IP_FAMILY=6]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'smtpsend;logout' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The configuration file [default: $XDG_CONFIG_HOME/smtpsend/config.toml]')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The server: smtp://HOST[:PORT] (STARTTLS, 587), smtps://HOST[:PORT] (TLS, 465)')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'The server''s host name, as an alternative to --server [env: SMTPSEND_HOST]')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'The server''s port; the default follows --tls [env: SMTPSEND_PORT]')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'How the connection is encrypted [env: SMTPSEND_TLS] [default: starttls]')
            [CompletionResult]::new('--ca-file', '--ca-file', [CompletionResultType]::ParameterName, 'Extra trust anchors (PEM), e.g. a private CA. The system''s roots stay trusted')
            [CompletionResult]::new('--tls-pin', '--tls-pin', [CompletionResultType]::ParameterName, 'The server''s public key must have this pin (repeatable): sha256//BASE64')
            [CompletionResult]::new('--tls-min', '--tls-min', [CompletionResultType]::ParameterName, 'The lowest TLS version accepted: 1.2 or 1.3 [default: 1.2]')
            [CompletionResult]::new('--tls-server-name', '--tls-server-name', [CompletionResultType]::ParameterName, 'The name the certificate is verified for and sent in SNI [default: the host]')
            [CompletionResult]::new('--client-cert', '--client-cert', [CompletionResultType]::ParameterName, 'A client certificate (PEM, any intermediates after it), for a server that asks for one')
            [CompletionResult]::new('--client-key', '--client-key', [CompletionResultType]::ParameterName, 'The client certificate''s private key (PEM) [default: in the --client-cert file]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the connection and for each server reply [default: 60]')
            [CompletionResult]::new('--deadline', '--deadline', [CompletionResultType]::ParameterName, 'Seconds the whole send may take, whatever the server does')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The login name. Without it, smtpsend does not authenticate')
            [CompletionResult]::new('--auth', '--auth', [CompletionResultType]::ParameterName, 'The SASL mechanism; `auto` picks the strongest the server offers [default: auto]')
            [CompletionResult]::new('--password-command', '--password-command', [CompletionResultType]::ParameterName, 'A command whose first line of output is the password, e.g. ''pass show smtp''')
            [CompletionResult]::new('--ehlo-name', '--ehlo-name', [CompletionResultType]::ParameterName, 'The name to give the server in EHLO (and HELO) [default: this host''s fully qualified name, else its address as a literal such as [192.0.2.1]]')
            [CompletionResult]::new('--source-address', '--source-address', [CompletionResultType]::ParameterName, 'The local address to connect from, on a machine with several')
            [CompletionResult]::new('--proxy', '--proxy', [CompletionResultType]::ParameterName, 'Connect through this SOCKS5 proxy: socks5h://HOST[:PORT] (the proxy resolves the server''s name, as Tor needs) or socks5://HOST[:PORT] [default port: 1080]')
            [CompletionResult]::new('--tls-pin-only', '--tls-pin-only', [CompletionResultType]::ParameterName, 'Trust the pinned key alone: no CA chain, host name or validity dates are checked')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'Connect over IPv4 only [env: SMTPSEND_IP_FAMILY=4]')
            [CompletionResult]::new('--ipv4', '--ipv4', [CompletionResultType]::ParameterName, 'Connect over IPv4 only [env: SMTPSEND_IP_FAMILY=4]')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'Connect over IPv6 only [env: SMTPSEND_IP_FAMILY=6]')
            [CompletionResult]::new('--ipv6', '--ipv6', [CompletionResultType]::ParameterName, 'Connect over IPv6 only [env: SMTPSEND_IP_FAMILY=6]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'smtpsend;check' {
            [CompletionResult]::new('--rcpt', '--rcpt', [CompletionResultType]::ParameterName, 'Also try MAIL FROM and RCPT TO for this address (then RSET); repeatable')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'The sender for --rcpt; the account''s From address without it [env: SMTPSEND_FROM]')
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'The sender for --rcpt; the account''s From address without it [env: SMTPSEND_FROM]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The configuration file [default: $XDG_CONFIG_HOME/smtpsend/config.toml]')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The server: smtp://HOST[:PORT] (STARTTLS, 587), smtps://HOST[:PORT] (TLS, 465)')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'The server''s host name, as an alternative to --server [env: SMTPSEND_HOST]')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'The server''s port; the default follows --tls [env: SMTPSEND_PORT]')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'How the connection is encrypted [env: SMTPSEND_TLS] [default: starttls]')
            [CompletionResult]::new('--ca-file', '--ca-file', [CompletionResultType]::ParameterName, 'Extra trust anchors (PEM), e.g. a private CA. The system''s roots stay trusted')
            [CompletionResult]::new('--tls-pin', '--tls-pin', [CompletionResultType]::ParameterName, 'The server''s public key must have this pin (repeatable): sha256//BASE64')
            [CompletionResult]::new('--tls-min', '--tls-min', [CompletionResultType]::ParameterName, 'The lowest TLS version accepted: 1.2 or 1.3 [default: 1.2]')
            [CompletionResult]::new('--tls-server-name', '--tls-server-name', [CompletionResultType]::ParameterName, 'The name the certificate is verified for and sent in SNI [default: the host]')
            [CompletionResult]::new('--client-cert', '--client-cert', [CompletionResultType]::ParameterName, 'A client certificate (PEM, any intermediates after it), for a server that asks for one')
            [CompletionResult]::new('--client-key', '--client-key', [CompletionResultType]::ParameterName, 'The client certificate''s private key (PEM) [default: in the --client-cert file]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the connection and for each server reply [default: 60]')
            [CompletionResult]::new('--deadline', '--deadline', [CompletionResultType]::ParameterName, 'Seconds the whole send may take, whatever the server does')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The login name. Without it, smtpsend does not authenticate')
            [CompletionResult]::new('--auth', '--auth', [CompletionResultType]::ParameterName, 'The SASL mechanism; `auto` picks the strongest the server offers [default: auto]')
            [CompletionResult]::new('--password-command', '--password-command', [CompletionResultType]::ParameterName, 'A command whose first line of output is the password, e.g. ''pass show smtp''')
            [CompletionResult]::new('--ehlo-name', '--ehlo-name', [CompletionResultType]::ParameterName, 'The name to give the server in EHLO (and HELO) [default: this host''s fully qualified name, else its address as a literal such as [192.0.2.1]]')
            [CompletionResult]::new('--source-address', '--source-address', [CompletionResultType]::ParameterName, 'The local address to connect from, on a machine with several')
            [CompletionResult]::new('--proxy', '--proxy', [CompletionResultType]::ParameterName, 'Connect through this SOCKS5 proxy: socks5h://HOST[:PORT] (the proxy resolves the server''s name, as Tor needs) or socks5://HOST[:PORT] [default port: 1080]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print the SMTP dialogue on standard error, secrets replaced by <redacted>')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print the SMTP dialogue on standard error, secrets replaced by <redacted>')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON object on standard output')
            [CompletionResult]::new('--tls-pin-only', '--tls-pin-only', [CompletionResultType]::ParameterName, 'Trust the pinned key alone: no CA chain, host name or validity dates are checked')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'Connect over IPv4 only [env: SMTPSEND_IP_FAMILY=4]')
            [CompletionResult]::new('--ipv4', '--ipv4', [CompletionResultType]::ParameterName, 'Connect over IPv4 only [env: SMTPSEND_IP_FAMILY=4]')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'Connect over IPv6 only [env: SMTPSEND_IP_FAMILY=6]')
            [CompletionResult]::new('--ipv6', '--ipv6', [CompletionResultType]::ParameterName, 'Connect over IPv6 only [env: SMTPSEND_IP_FAMILY=6]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'smtpsend;config' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print the effective settings of an account and where each value comes from')
            [CompletionResult]::new('import-msmtprc', 'import-msmtprc', [CompletionResultType]::ParameterValue, 'Convert an msmtp configuration file into smtpsend accounts, printed on standard output')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'smtpsend;config;show' {
            [CompletionResult]::new('--account', '--account', [CompletionResultType]::ParameterName, 'The account, as the main command takes it; an ACCOUNT argument wins over it')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The configuration file [default: $XDG_CONFIG_HOME/smtpsend/config.toml]')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The server: smtp://HOST[:PORT] (STARTTLS, 587), smtps://HOST[:PORT] (TLS, 465)')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'The server''s host name, as an alternative to --server [env: SMTPSEND_HOST]')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'The server''s port; the default follows --tls [env: SMTPSEND_PORT]')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'How the connection is encrypted [env: SMTPSEND_TLS] [default: starttls]')
            [CompletionResult]::new('--ca-file', '--ca-file', [CompletionResultType]::ParameterName, 'Extra trust anchors (PEM), e.g. a private CA. The system''s roots stay trusted')
            [CompletionResult]::new('--tls-pin', '--tls-pin', [CompletionResultType]::ParameterName, 'The server''s public key must have this pin (repeatable): sha256//BASE64')
            [CompletionResult]::new('--tls-min', '--tls-min', [CompletionResultType]::ParameterName, 'The lowest TLS version accepted: 1.2 or 1.3 [default: 1.2]')
            [CompletionResult]::new('--tls-server-name', '--tls-server-name', [CompletionResultType]::ParameterName, 'The name the certificate is verified for and sent in SNI [default: the host]')
            [CompletionResult]::new('--client-cert', '--client-cert', [CompletionResultType]::ParameterName, 'A client certificate (PEM, any intermediates after it), for a server that asks for one')
            [CompletionResult]::new('--client-key', '--client-key', [CompletionResultType]::ParameterName, 'The client certificate''s private key (PEM) [default: in the --client-cert file]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the connection and for each server reply [default: 60]')
            [CompletionResult]::new('--deadline', '--deadline', [CompletionResultType]::ParameterName, 'Seconds the whole send may take, whatever the server does')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The login name. Without it, smtpsend does not authenticate')
            [CompletionResult]::new('--auth', '--auth', [CompletionResultType]::ParameterName, 'The SASL mechanism; `auto` picks the strongest the server offers [default: auto]')
            [CompletionResult]::new('--password-command', '--password-command', [CompletionResultType]::ParameterName, 'A command whose first line of output is the password, e.g. ''pass show smtp''')
            [CompletionResult]::new('--ehlo-name', '--ehlo-name', [CompletionResultType]::ParameterName, 'The name to give the server in EHLO (and HELO) [default: this host''s fully qualified name, else its address as a literal such as [192.0.2.1]]')
            [CompletionResult]::new('--source-address', '--source-address', [CompletionResultType]::ParameterName, 'The local address to connect from, on a machine with several')
            [CompletionResult]::new('--proxy', '--proxy', [CompletionResultType]::ParameterName, 'Connect through this SOCKS5 proxy: socks5h://HOST[:PORT] (the proxy resolves the server''s name, as Tor needs) or socks5://HOST[:PORT] [default port: 1080]')
            [CompletionResult]::new('--tls-pin-only', '--tls-pin-only', [CompletionResultType]::ParameterName, 'Trust the pinned key alone: no CA chain, host name or validity dates are checked')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'Connect over IPv4 only [env: SMTPSEND_IP_FAMILY=4]')
            [CompletionResult]::new('--ipv4', '--ipv4', [CompletionResultType]::ParameterName, 'Connect over IPv4 only [env: SMTPSEND_IP_FAMILY=4]')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'Connect over IPv6 only [env: SMTPSEND_IP_FAMILY=6]')
            [CompletionResult]::new('--ipv6', '--ipv6', [CompletionResultType]::ParameterName, 'Connect over IPv6 only [env: SMTPSEND_IP_FAMILY=6]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'smtpsend;config;import-msmtprc' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'smtpsend;config;help' {
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print the effective settings of an account and where each value comes from')
            [CompletionResult]::new('import-msmtprc', 'import-msmtprc', [CompletionResultType]::ParameterValue, 'Convert an msmtp configuration file into smtpsend accounts, printed on standard output')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'smtpsend;config;help;show' {
            break
        }
        'smtpsend;config;help;import-msmtprc' {
            break
        }
        'smtpsend;config;help;help' {
            break
        }
        'smtpsend;sendmail' {
            break
        }
        'smtpsend;mail' {
            break
        }
        'smtpsend;install-mta' {
            [CompletionResult]::new('--root', '--root', [CompletionResultType]::ParameterName, 'Create the links below this directory instead of / (for packages and tests)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the links that would be created, and create none')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'smtpsend;batch' {
            [CompletionResult]::new('--account', '--account', [CompletionResultType]::ParameterName, 'An account from the configuration file')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The configuration file [default: $XDG_CONFIG_HOME/smtpsend/config.toml]')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The server: smtp://HOST[:PORT] (STARTTLS, 587), smtps://HOST[:PORT] (TLS, 465)')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'The server''s host name, as an alternative to --server [env: SMTPSEND_HOST]')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'The server''s port; the default follows --tls [env: SMTPSEND_PORT]')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'How the connection is encrypted [env: SMTPSEND_TLS] [default: starttls]')
            [CompletionResult]::new('--ca-file', '--ca-file', [CompletionResultType]::ParameterName, 'Extra trust anchors (PEM), e.g. a private CA. The system''s roots stay trusted')
            [CompletionResult]::new('--tls-pin', '--tls-pin', [CompletionResultType]::ParameterName, 'The server''s public key must have this pin (repeatable): sha256//BASE64')
            [CompletionResult]::new('--tls-min', '--tls-min', [CompletionResultType]::ParameterName, 'The lowest TLS version accepted: 1.2 or 1.3 [default: 1.2]')
            [CompletionResult]::new('--tls-server-name', '--tls-server-name', [CompletionResultType]::ParameterName, 'The name the certificate is verified for and sent in SNI [default: the host]')
            [CompletionResult]::new('--client-cert', '--client-cert', [CompletionResultType]::ParameterName, 'A client certificate (PEM, any intermediates after it), for a server that asks for one')
            [CompletionResult]::new('--client-key', '--client-key', [CompletionResultType]::ParameterName, 'The client certificate''s private key (PEM) [default: in the --client-cert file]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the connection and for each server reply [default: 60]')
            [CompletionResult]::new('--deadline', '--deadline', [CompletionResultType]::ParameterName, 'Seconds the whole send may take, whatever the server does')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The login name. Without it, smtpsend does not authenticate')
            [CompletionResult]::new('--auth', '--auth', [CompletionResultType]::ParameterName, 'The SASL mechanism; `auto` picks the strongest the server offers [default: auto]')
            [CompletionResult]::new('--password-command', '--password-command', [CompletionResultType]::ParameterName, 'A command whose first line of output is the password, e.g. ''pass show smtp''')
            [CompletionResult]::new('--ehlo-name', '--ehlo-name', [CompletionResultType]::ParameterName, 'The name to give the server in EHLO (and HELO) [default: this host''s fully qualified name, else its address as a literal such as [192.0.2.1]]')
            [CompletionResult]::new('--source-address', '--source-address', [CompletionResultType]::ParameterName, 'The local address to connect from, on a machine with several')
            [CompletionResult]::new('--proxy', '--proxy', [CompletionResultType]::ParameterName, 'Connect through this SOCKS5 proxy: socks5h://HOST[:PORT] (the proxy resolves the server''s name, as Tor needs) or socks5://HOST[:PORT] [default port: 1080]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON object on standard output')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print the SMTP dialogue on standard error, secrets replaced by <redacted>')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print the SMTP dialogue on standard error, secrets replaced by <redacted>')
            [CompletionResult]::new('--tls-pin-only', '--tls-pin-only', [CompletionResultType]::ParameterName, 'Trust the pinned key alone: no CA chain, host name or validity dates are checked')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'Connect over IPv4 only [env: SMTPSEND_IP_FAMILY=4]')
            [CompletionResult]::new('--ipv4', '--ipv4', [CompletionResultType]::ParameterName, 'Connect over IPv4 only [env: SMTPSEND_IP_FAMILY=4]')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'Connect over IPv6 only [env: SMTPSEND_IP_FAMILY=6]')
            [CompletionResult]::new('--ipv6', '--ipv6', [CompletionResultType]::ParameterName, 'Connect over IPv6 only [env: SMTPSEND_IP_FAMILY=6]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'smtpsend;queue' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the queued messages and the dead letters')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one entry: envelope (Bcc recipients too), times, attempts, where its message is')
            [CompletionResult]::new('flush', 'flush', [CompletionResultType]::ParameterValue, 'Deliver what is due, one connection per server')
            [CompletionResult]::new('retry', 'retry', [CompletionResultType]::ParameterValue, 'Queue dead letters again, due now, for the next flush')
            [CompletionResult]::new('drop', 'drop', [CompletionResultType]::ParameterValue, 'Delete a queued message or a dead letter for good')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'smtpsend;queue;list' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'smtpsend;queue;show' {
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the stored description as JSON, with the path of the message file')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'smtpsend;queue;flush' {
            [CompletionResult]::new('--account', '--account', [CompletionResultType]::ParameterName, 'Only the messages queued for this account')
            [CompletionResult]::new('--now', '--now', [CompletionResultType]::ParameterName, 'Try every message now, whatever its next attempt time')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success, even on a terminal; what failed still goes to standard error')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success, even on a terminal; what failed still goes to standard error')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say what was delivered and what waits, and print the SMTP dialogue on standard error, secrets replaced by <redacted>')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say what was delivered and what waits, and print the SMTP dialogue on standard error, secrets replaced by <redacted>')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'smtpsend;queue;retry' {
            [CompletionResult]::new('--all-dead', '--all-dead', [CompletionResultType]::ParameterName, 'Every dead letter')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'smtpsend;queue;drop' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'smtpsend;queue;help' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the queued messages and the dead letters')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one entry: envelope (Bcc recipients too), times, attempts, where its message is')
            [CompletionResult]::new('flush', 'flush', [CompletionResultType]::ParameterValue, 'Deliver what is due, one connection per server')
            [CompletionResult]::new('retry', 'retry', [CompletionResultType]::ParameterValue, 'Queue dead letters again, due now, for the next flush')
            [CompletionResult]::new('drop', 'drop', [CompletionResultType]::ParameterValue, 'Delete a queued message or a dead letter for good')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'smtpsend;queue;help;list' {
            break
        }
        'smtpsend;queue;help;show' {
            break
        }
        'smtpsend;queue;help;flush' {
            break
        }
        'smtpsend;queue;help;retry' {
            break
        }
        'smtpsend;queue;help;drop' {
            break
        }
        'smtpsend;queue;help;help' {
            break
        }
        'smtpsend;serve' {
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Where to listen: ADDRESS:PORT (127.0.0.1:2525, [::1]:2525) or a unix socket''s path')
            [CompletionResult]::new('--account', '--account', [CompletionResultType]::ParameterName, 'The account for mail that neither a local login nor its sender assigns to one')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The configuration file [default: $XDG_CONFIG_HOME/smtpsend/config.toml]')
            [CompletionResult]::new('--direct', '--direct', [CompletionResultType]::ParameterName, 'Relay each message within the session and answer with the upstream server''s reply: no outbox, no retries (a temporary failure upstream is a 451 to the client)')
            [CompletionResult]::new('--hash-password', '--hash-password', [CompletionResultType]::ParameterName, 'Read a password (from standard input, or asked for on the terminal) and print its hash for [serve.users.NAME] password_hash; listen to nothing')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'smtpsend;completions' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'smtpsend;help' {
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Set up an account from an e-mail address: find its server, check it, store the secret')
            [CompletionResult]::new('login', 'login', [CompletionResultType]::ParameterValue, 'Store an account''s password in the OS keyring, after checking it with the server')
            [CompletionResult]::new('logout', 'logout', [CompletionResultType]::ParameterValue, 'Remove an account''s password from the OS keyring (OAuth2: revoke the sign-in, then forget it)')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Connect, show TLS, the certificate and the server''s extensions, and try AUTH; send nothing')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'Show or import configuration')
            [CompletionResult]::new('sendmail', 'sendmail', [CompletionResultType]::ParameterValue, 'Read a complete message on standard input and send it, as /usr/sbin/sendmail does')
            [CompletionResult]::new('mail', 'mail', [CompletionResultType]::ParameterValue, 'Send the body on standard input as `mail -s SUBJECT ADDR...` does (bsd-mailx, mailutils)')
            [CompletionResult]::new('install-mta', 'install-mta', [CompletionResultType]::ParameterValue, 'Make this binary the system''s MTA: sendmail, mail and mailx as symbolic links to it')
            [CompletionResult]::new('batch', 'batch', [CompletionResultType]::ParameterValue, 'Send every message file in a directory over one connection')
            [CompletionResult]::new('queue', 'queue', [CompletionResultType]::ParameterValue, 'The outbox: messages kept after a temporary failure, and dead letters')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Run a local SMTP relay for programs that speak only SMTP, durable before it says yes')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script to standard output')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'smtpsend;help;init' {
            break
        }
        'smtpsend;help;login' {
            break
        }
        'smtpsend;help;logout' {
            break
        }
        'smtpsend;help;check' {
            break
        }
        'smtpsend;help;config' {
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print the effective settings of an account and where each value comes from')
            [CompletionResult]::new('import-msmtprc', 'import-msmtprc', [CompletionResultType]::ParameterValue, 'Convert an msmtp configuration file into smtpsend accounts, printed on standard output')
            break
        }
        'smtpsend;help;config;show' {
            break
        }
        'smtpsend;help;config;import-msmtprc' {
            break
        }
        'smtpsend;help;sendmail' {
            break
        }
        'smtpsend;help;mail' {
            break
        }
        'smtpsend;help;install-mta' {
            break
        }
        'smtpsend;help;batch' {
            break
        }
        'smtpsend;help;queue' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the queued messages and the dead letters')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one entry: envelope (Bcc recipients too), times, attempts, where its message is')
            [CompletionResult]::new('flush', 'flush', [CompletionResultType]::ParameterValue, 'Deliver what is due, one connection per server')
            [CompletionResult]::new('retry', 'retry', [CompletionResultType]::ParameterValue, 'Queue dead letters again, due now, for the next flush')
            [CompletionResult]::new('drop', 'drop', [CompletionResultType]::ParameterValue, 'Delete a queued message or a dead letter for good')
            break
        }
        'smtpsend;help;queue;list' {
            break
        }
        'smtpsend;help;queue;show' {
            break
        }
        'smtpsend;help;queue;flush' {
            break
        }
        'smtpsend;help;queue;retry' {
            break
        }
        'smtpsend;help;queue;drop' {
            break
        }
        'smtpsend;help;serve' {
            break
        }
        'smtpsend;help;completions' {
            break
        }
        'smtpsend;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
