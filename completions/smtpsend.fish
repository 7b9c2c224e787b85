# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_smtpsend_global_optspecs
    string join \n t/to= c/cc= b/bcc= f/from= envelope-from= s/subject= reply-to= H/header= m/body= body-file= html= markdown= markdown-body markdown-allow-html inline= template= var= max-size= dkim-key= dkim-selector= dkim-domain= a/attach= account= allow-partial require-tls ignore-tls-policy queue retry= config= server= host= port= tls= ca-file= tls-pin= tls-pin-only tls-min= tls-server-name= client-cert= client-key= timeout= deadline= user= auth= password-command= ehlo-name= 4/ipv4 6/ipv6 source-address= proxy= q/quiet v/verbose json dry-run= h/help V/version
end

function __fish_smtpsend_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_smtpsend_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_smtpsend_using_subcommand
    set -l cmd (__fish_smtpsend_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c smtpsend -n "__fish_smtpsend_needs_command" -s t -l to -d 'A To recipient; repeatable, and a comma-separated list is accepted' -r
complete -c smtpsend -n "__fish_smtpsend_needs_command" -s c -l cc -d 'A Cc recipient; repeatable' -r
complete -c smtpsend -n "__fish_smtpsend_needs_command" -s b -l bcc -d 'A Bcc recipient; repeatable. Used in the envelope only, never written into the message' -r
complete -c smtpsend -n "__fish_smtpsend_needs_command" -s f -l from -d 'The From address: `Name <addr>` or `addr`; also the envelope sender [env: SMTPSEND_FROM]' -r
complete -c smtpsend -n "__fish_smtpsend_needs_command" -l envelope-from -d 'The envelope sender (MAIL FROM), where it differs from --from: bounces go there' -r
complete -c smtpsend -n "__fish_smtpsend_needs_command" -s s -l subject -d 'The subject' -r
complete -c smtpsend -n "__fish_smtpsend_needs_command" -l reply-to -d 'The Reply-To address' -r
complete -c smtpsend -n "__fish_smtpsend_needs_command" -s H -l header -d 'An extra header, \'Name: value\'; repeatable. CR or LF in a value is refused' -r
complete -c smtpsend -n "__fish_smtpsend_needs_command" -s m -l body -d 'The body text' -r
complete -c smtpsend -n "__fish_smtpsend_needs_command" -l body-file -d 'Read the body text from a file; `-` is standard input' -r -F
complete -c smtpsend -n "__fish_smtpsend_needs_command" -l html -d 'An HTML alternative to the text body, read from a file; `-` is standard input' -r -F
complete -c smtpsend -n "__fish_smtpsend_needs_command" -l markdown -d 'The body from a Markdown file, sent as its text and rendered as an HTML alternative; `-` is standard input' -r -F
complete -c smtpsend -n "__fish_smtpsend_needs_command" -l inline -d 'A file the HTML shows in place as `cid:CID` (an image in the page); repeatable' -r -F
complete -c smtpsend -n "__fish_smtpsend_needs_command" -l template -d 'A message template: header fields (Subject: and others, as -H takes them), a blank line, the body; `{{ NAME }}` in it is filled from --var, `{{ env.NAME }}` from the environment' -r -F
complete -c smtpsend -n "__fish_smtpsend_needs_command" -l var -d 'A value for the template\'s `{{ NAME }}`; repeatable' -r
complete -c smtpsend -n "__fish_smtpsend_needs_command" -l max-size -d 'Refuse a message larger than SIZE, before connecting: bytes, or with K, M or G (KiB, MiB, GiB), e.g. 25M' -r
complete -c smtpsend -n "__fish_smtpsend_needs_command" -l dkim-key -d 'Sign the message with DKIM using this private key (PEM: RSA or Ed25519) [env: SMTPSEND_DKIM_KEY]' -r -F
complete -c smtpsend -n "__fish_smtpsend_needs_command" -l dkim-selector -d 'The DKIM selector: the key is published at SELECTOR._domainkey.DOMAIN [env: SMTPSEND_DKIM_SELECTOR]' -r
complete -c smtpsend -n "__fish_smtpsend_needs_command" -l dkim-domain -d 'The signing domain (d=) [default: the From address\'s domain] [env: SMTPSEND_DKIM_DOMAIN]' -r -f -a "(__fish_print_hostnames)"
complete -c smtpsend -n "__fish_smtpsend_needs_command" -s a -l attach -d 'Attach a file; repeatable. The content type comes from the extension, then the content' -r -F
complete -c smtpsend -n "__fish_smtpsend_needs_command" -l account -d 'An account from the configuration file; else the one whose `from` matches --from, else the default account' -r
complete -c smtpsend -n "__fish_smtpsend_needs_command" -l retry -d 'Try to connect up to N more times when the connection fails (1, 2, 4, ... s apart)' -r
complete -c smtpsend -n "__fish_smtpsend_needs_command" -l config -d 'The configuration file [default: $XDG_CONFIG_HOME/smtpsend/config.toml]' -r -F
complete -c smtpsend -n "__fish_smtpsend_needs_command" -l server -d 'The server: smtp://HOST[:PORT] (STARTTLS, 587), smtps://HOST[:PORT] (TLS, 465)' -r -f
complete -c smtpsend -n "__fish_smtpsend_needs_command" -l host -d 'The server\'s host name, as an alternative to --server [env: SMTPSEND_HOST]' -r -f -a "(__fish_print_hostnames)"
complete -c smtpsend -n "__fish_smtpsend_needs_command" -l port -d 'The server\'s port; the default follows --tls [env: SMTPSEND_PORT]' -r
complete -c smtpsend -n "__fish_smtpsend_needs_command" -l tls -d 'How the connection is encrypted [env: SMTPSEND_TLS] [default: starttls]' -r -f -a "starttls\t'Plain connection upgraded with STARTTLS, which the server must offer (port 587)'
implicit\t'TLS from the first byte (port 465)'
none\t'No encryption at all (port 25). Passwords are only sent this way to a loopback address'"
complete -c smtpsend -n "__fish_smtpsend_needs_command" -l ca-file -d 'Extra trust anchors (PEM), e.g. a private CA. The system\'s roots stay trusted' -r -F
complete -c smtpsend -n "__fish_smtpsend_needs_command" -l tls-pin -d 'The server\'s public key must have this pin (repeatable): sha256//BASE64' -r
complete -c smtpsend -n "__fish_smtpsend_needs_command" -l tls-min -d 'The lowest TLS version accepted: 1.2 or 1.3 [default: 1.2]' -r
complete -c smtpsend -n "__fish_smtpsend_needs_command" -l tls-server-name -d 'The name the certificate is verified for and sent in SNI [default: the host]' -r -f -a "(__fish_print_hostnames)"
complete -c smtpsend -n "__fish_smtpsend_needs_command" -l client-cert -d 'A client certificate (PEM, any intermediates after it), for a server that asks for one' -r -F
complete -c smtpsend -n "__fish_smtpsend_needs_command" -l client-key -d 'The client certificate\'s private key (PEM) [default: in the --client-cert file]' -r -F
complete -c smtpsend -n "__fish_smtpsend_needs_command" -l timeout -d 'Seconds to wait for the connection and for each server reply [default: 60]' -r
complete -c smtpsend -n "__fish_smtpsend_needs_command" -l deadline -d 'Seconds the whole send may take, whatever the server does' -r
complete -c smtpsend -n "__fish_smtpsend_needs_command" -l user -d 'The login name. Without it, smtpsend does not authenticate' -r
complete -c smtpsend -n "__fish_smtpsend_needs_command" -l auth -d 'The SASL mechanism; `auto` picks the strongest the server offers [default: auto]' -r -f -a "auto\t'the strongest the server offers: SCRAM-SHA-256-PLUS, SCRAM-SHA-256, SCRAM-SHA-1-PLUS, SCRAM-SHA-1, PLAIN, LOGIN'
scram-sha-256-plus\t'SCRAM bound to the TLS connection: a man in the middle cannot relay it'
scram-sha-256\t'the password is never sent, and the server proves it knows it'
scram-sha-1-plus\t'SCRAM bound to the TLS connection: a man in the middle cannot relay it'
scram-sha-1\t'the password is never sent, and the server proves it knows it'
plain\t''
login\t''
xoauth2\t'OAuth2 bearer token in place of the password (Google, Microsoft)'
oauthbearer\t'OAuth2 bearer token in place of the password, the standard way (RFC 7628)'
external\t'The TLS client certificate (--client-cert) is the login; no password'"
complete -c smtpsend -n "__fish_smtpsend_needs_command" -l password-command -d 'A command whose first line of output is the password, e.g. \'pass show smtp\'' -r -f -a "(__fish_complete_command)"
complete -c smtpsend -n "__fish_smtpsend_needs_command" -l ehlo-name -d 'The name to give the server in EHLO (and HELO) [default: this host\'s fully qualified name, else its address as a literal such as [192.0.2.1]]' -r
complete -c smtpsend -n "__fish_smtpsend_needs_command" -l source-address -d 'The local address to connect from, on a machine with several' -r
complete -c smtpsend -n "__fish_smtpsend_needs_command" -l proxy -d 'Connect through this SOCKS5 proxy: socks5h://HOST[:PORT] (the proxy resolves the server\'s name, as Tor needs) or socks5://HOST[:PORT] [default port: 1080]' -r
complete -c smtpsend -n "__fish_smtpsend_needs_command" -l dry-run -d 'Show what would be sent, and connect to nothing' -r -f -a "auto\t'Readable on a terminal, raw elsewhere'
readable\t'The envelope, the decoded header, the text, a line per attachment'
raw\t'The exact bytes that would be sent'"
complete -c smtpsend -n "__fish_smtpsend_needs_command" -l markdown-body -d 'The body (-m, --body-file or standard input) is Markdown: render it as --markdown does'
complete -c smtpsend -n "__fish_smtpsend_needs_command" -l markdown-allow-html -d 'Let raw HTML in the Markdown through as HTML instead of showing it as text'
complete -c smtpsend -n "__fish_smtpsend_needs_command" -l allow-partial -d 'When some recipients are refused, still send to the accepted ones (default: send nothing)'
complete -c smtpsend -n "__fish_smtpsend_needs_command" -l require-tls -d 'Ask that the message travel over TLS on every hop to the recipient, or not at all'
complete -c smtpsend -n "__fish_smtpsend_needs_command" -l ignore-tls-policy -d 'Add `TLS-Required: No`: relays may deliver without the TLS a recipient\'s policy asks for'
complete -c smtpsend -n "__fish_smtpsend_needs_command" -l queue -d 'On a temporary failure, keep the message in the outbox for `smtpsend queue flush`'
complete -c smtpsend -n "__fish_smtpsend_needs_command" -l tls-pin-only -d 'Trust the pinned key alone: no CA chain, host name or validity dates are checked'
complete -c smtpsend -n "__fish_smtpsend_needs_command" -s 4 -l ipv4 -d 'Connect over IPv4 only [env: SMTPSEND_IP_FAMILY=4]'
complete -c smtpsend -n "__fish_smtpsend_needs_command" -s 6 -l ipv6 -d 'Connect over IPv6 only [env: SMTPSEND_IP_FAMILY=6]'
complete -c smtpsend -n "__fish_smtpsend_needs_command" -s q -l quiet -d 'Print nothing on success'
complete -c smtpsend -n "__fish_smtpsend_needs_command" -s v -l verbose -d 'Print the SMTP dialogue on standard error, secrets replaced by <redacted>'
complete -c smtpsend -n "__fish_smtpsend_needs_command" -l json -d 'Print one JSON object on standard output: each recipient\'s reply, the final reply, TLS, timings'
complete -c smtpsend -n "__fish_smtpsend_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c smtpsend -n "__fish_smtpsend_needs_command" -s V -l version -d 'Print version'
complete -c smtpsend -n "__fish_smtpsend_needs_command" -a "init" -d 'Set up an account from an e-mail address: find its server, check it, store the secret'
complete -c smtpsend -n "__fish_smtpsend_needs_command" -a "login" -d 'Store an account\'s password in the OS keyring, after checking it with the server'
complete -c smtpsend -n "__fish_smtpsend_needs_command" -a "logout" -d 'Remove an account\'s password from the OS keyring (OAuth2: revoke the sign-in, then forget it)'
complete -c smtpsend -n "__fish_smtpsend_needs_command" -a "check" -d 'Connect, show TLS, the certificate and the server\'s extensions, and try AUTH; send nothing'
complete -c smtpsend -n "__fish_smtpsend_needs_command" -a "config" -d 'Show or import configuration'
complete -c smtpsend -n "__fish_smtpsend_needs_command" -a "sendmail" -d 'Read a complete message on standard input and send it, as /usr/sbin/sendmail does'
complete -c smtpsend -n "__fish_smtpsend_needs_command" -a "mail" -d 'Send the body on standard input as `mail -s SUBJECT ADDR...` does (bsd-mailx, mailutils)'
complete -c smtpsend -n "__fish_smtpsend_needs_command" -a "install-mta" -d 'Make this binary the system\'s MTA: sendmail, mail and mailx as symbolic links to it'
complete -c smtpsend -n "__fish_smtpsend_needs_command" -a "batch" -d 'Send every message file in a directory over one connection'
complete -c smtpsend -n "__fish_smtpsend_needs_command" -a "queue" -d 'The outbox: messages kept after a temporary failure, and dead letters'
complete -c smtpsend -n "__fish_smtpsend_needs_command" -a "serve" -d 'Run a local SMTP relay for programs that speak only SMTP, durable before it says yes'
complete -c smtpsend -n "__fish_smtpsend_needs_command" -a "completions" -d 'Print a shell completion script to standard output'
complete -c smtpsend -n "__fish_smtpsend_needs_command" -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand init" -l name -d 'The account\'s name [default: from the address\'s domain, e.g. `example` for me@example.com]' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand init" -l server -d 'The server, instead of searching: smtp://HOST[:PORT] (STARTTLS) or smtps://HOST[:PORT]' -r -f
complete -c smtpsend -n "__fish_smtpsend_using_subcommand init" -l provider -d 'A built-in provider or sending service, for a domain the table does not know (a Google Workspace or Microsoft 365 domain) or a service chosen by name: ses, sendgrid, mailgun, postmark, brevo, google, microsoft, ...' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand init" -l region -d 'The region of --provider ses (e.g. eu-west-1) or mailgun (us or eu)' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand init" -l user -d 'The login name [default: what the server\'s description says, else the address]' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand init" -l oauth2-client-id -d 'OAuth2 providers: the client ID of your own application registration, written into the account (see smtpsend-login(1))' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand init" -l config -d 'The configuration file to add the account to [default: $XDG_CONFIG_HOME/smtpsend/config.toml]' -r -F
complete -c smtpsend -n "__fish_smtpsend_using_subcommand init" -l ca-file -d 'Extra trust anchors (PEM) for the server and the autoconfiguration document' -r -F
complete -c smtpsend -n "__fish_smtpsend_using_subcommand init" -l timeout -d 'Seconds to wait for each DNS, HTTPS and SMTP answer [default: 15]' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand init" -l no-login -d 'Store no password and start no sign-in: only find, check and write the account'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand init" -s y -l yes -d 'Take a server outside the address\'s domain without asking'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand init" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand login" -l config -d 'The configuration file [default: $XDG_CONFIG_HOME/smtpsend/config.toml]' -r -F
complete -c smtpsend -n "__fish_smtpsend_using_subcommand login" -l server -d 'The server: smtp://HOST[:PORT] (STARTTLS, 587), smtps://HOST[:PORT] (TLS, 465)' -r -f
complete -c smtpsend -n "__fish_smtpsend_using_subcommand login" -l host -d 'The server\'s host name, as an alternative to --server [env: SMTPSEND_HOST]' -r -f -a "(__fish_print_hostnames)"
complete -c smtpsend -n "__fish_smtpsend_using_subcommand login" -l port -d 'The server\'s port; the default follows --tls [env: SMTPSEND_PORT]' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand login" -l tls -d 'How the connection is encrypted [env: SMTPSEND_TLS] [default: starttls]' -r -f -a "starttls\t'Plain connection upgraded with STARTTLS, which the server must offer (port 587)'
implicit\t'TLS from the first byte (port 465)'
none\t'No encryption at all (port 25). Passwords are only sent this way to a loopback address'"
complete -c smtpsend -n "__fish_smtpsend_using_subcommand login" -l ca-file -d 'Extra trust anchors (PEM), e.g. a private CA. The system\'s roots stay trusted' -r -F
complete -c smtpsend -n "__fish_smtpsend_using_subcommand login" -l tls-pin -d 'The server\'s public key must have this pin (repeatable): sha256//BASE64' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand login" -l tls-min -d 'The lowest TLS version accepted: 1.2 or 1.3 [default: 1.2]' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand login" -l tls-server-name -d 'The name the certificate is verified for and sent in SNI [default: the host]' -r -f -a "(__fish_print_hostnames)"
complete -c smtpsend -n "__fish_smtpsend_using_subcommand login" -l client-cert -d 'A client certificate (PEM, any intermediates after it), for a server that asks for one' -r -F
complete -c smtpsend -n "__fish_smtpsend_using_subcommand login" -l client-key -d 'The client certificate\'s private key (PEM) [default: in the --client-cert file]' -r -F
complete -c smtpsend -n "__fish_smtpsend_using_subcommand login" -l timeout -d 'Seconds to wait for the connection and for each server reply [default: 60]' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand login" -l deadline -d 'Seconds the whole send may take, whatever the server does' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand login" -l user -d 'The login name. Without it, smtpsend does not authenticate' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand login" -l auth -d 'The SASL mechanism; `auto` picks the strongest the server offers [default: auto]' -r -f -a "auto\t'the strongest the server offers: SCRAM-SHA-256-PLUS, SCRAM-SHA-256, SCRAM-SHA-1-PLUS, SCRAM-SHA-1, PLAIN, LOGIN'
scram-sha-256-plus\t'SCRAM bound to the TLS connection: a man in the middle cannot relay it'
scram-sha-256\t'the password is never sent, and the server proves it knows it'
scram-sha-1-plus\t'SCRAM bound to the TLS connection: a man in the middle cannot relay it'
scram-sha-1\t'the password is never sent, and the server proves it knows it'
plain\t''
login\t''
xoauth2\t'OAuth2 bearer token in place of the password (Google, Microsoft)'
oauthbearer\t'OAuth2 bearer token in place of the password, the standard way (RFC 7628)'
external\t'The TLS client certificate (--client-cert) is the login; no password'"
complete -c smtpsend -n "__fish_smtpsend_using_subcommand login" -l password-command -d 'A command whose first line of output is the password, e.g. \'pass show smtp\'' -r -f -a "(__fish_complete_command)"
complete -c smtpsend -n "__fish_smtpsend_using_subcommand login" -l ehlo-name -d 'The name to give the server in EHLO (and HELO) [default: this host\'s fully qualified name, else its address as a literal such as [192.0.2.1]]' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand login" -l source-address -d 'The local address to connect from, on a machine with several' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand login" -l proxy -d 'Connect through this SOCKS5 proxy: socks5h://HOST[:PORT] (the proxy resolves the server\'s name, as Tor needs) or socks5://HOST[:PORT] [default port: 1080]' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand login" -l password-stdin -d 'Read the password from the first line of standard input instead of asking'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand login" -l no-verify -d 'Store the password without checking it with the server first'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand login" -l device -d 'OAuth2 accounts: sign in with the device authorization grant (a code to enter on any device with a browser), for machines without one'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand login" -l no-browser -d 'OAuth2 accounts: print the sign-in address instead of opening a browser, and read back the address the browser was sent to'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand login" -l tls-pin-only -d 'Trust the pinned key alone: no CA chain, host name or validity dates are checked'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand login" -s 4 -l ipv4 -d 'Connect over IPv4 only [env: SMTPSEND_IP_FAMILY=4]'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand login" -s 6 -l ipv6 -d 'Connect over IPv6 only [env: SMTPSEND_IP_FAMILY=6]'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand login" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand logout" -l config -d 'The configuration file [default: $XDG_CONFIG_HOME/smtpsend/config.toml]' -r -F
complete -c smtpsend -n "__fish_smtpsend_using_subcommand logout" -l server -d 'The server: smtp://HOST[:PORT] (STARTTLS, 587), smtps://HOST[:PORT] (TLS, 465)' -r -f
complete -c smtpsend -n "__fish_smtpsend_using_subcommand logout" -l host -d 'The server\'s host name, as an alternative to --server [env: SMTPSEND_HOST]' -r -f -a "(__fish_print_hostnames)"
complete -c smtpsend -n "__fish_smtpsend_using_subcommand logout" -l port -d 'The server\'s port; the default follows --tls [env: SMTPSEND_PORT]' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand logout" -l tls -d 'How the connection is encrypted [env: SMTPSEND_TLS] [default: starttls]' -r -f -a "starttls\t'Plain connection upgraded with STARTTLS, which the server must offer (port 587)'
implicit\t'TLS from the first byte (port 465)'
none\t'No encryption at all (port 25). Passwords are only sent this way to a loopback address'"
complete -c smtpsend -n "__fish_smtpsend_using_subcommand logout" -l ca-file -d 'Extra trust anchors (PEM), e.g. a private CA. The system\'s roots stay trusted' -r -F
complete -c smtpsend -n "__fish_smtpsend_using_subcommand logout" -l tls-pin -d 'The server\'s public key must have this pin (repeatable): sha256//BASE64' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand logout" -l tls-min -d 'The lowest TLS version accepted: 1.2 or 1.3 [default: 1.2]' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand logout" -l tls-server-name -d 'The name the certificate is verified for and sent in SNI [default: the host]' -r -f -a "(__fish_print_hostnames)"
complete -c smtpsend -n "__fish_smtpsend_using_subcommand logout" -l client-cert -d 'A client certificate (PEM, any intermediates after it), for a server that asks for one' -r -F
complete -c smtpsend -n "__fish_smtpsend_using_subcommand logout" -l client-key -d 'The client certificate\'s private key (PEM) [default: in the --client-cert file]' -r -F
complete -c smtpsend -n "__fish_smtpsend_using_subcommand logout" -l timeout -d 'Seconds to wait for the connection and for each server reply [default: 60]' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand logout" -l deadline -d 'Seconds the whole send may take, whatever the server does' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand logout" -l user -d 'The login name. Without it, smtpsend does not authenticate' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand logout" -l auth -d 'The SASL mechanism; `auto` picks the strongest the server offers [default: auto]' -r -f -a "auto\t'the strongest the server offers: SCRAM-SHA-256-PLUS, SCRAM-SHA-256, SCRAM-SHA-1-PLUS, SCRAM-SHA-1, PLAIN, LOGIN'
scram-sha-256-plus\t'SCRAM bound to the TLS connection: a man in the middle cannot relay it'
scram-sha-256\t'the password is never sent, and the server proves it knows it'
scram-sha-1-plus\t'SCRAM bound to the TLS connection: a man in the middle cannot relay it'
scram-sha-1\t'the password is never sent, and the server proves it knows it'
plain\t''
login\t''
xoauth2\t'OAuth2 bearer token in place of the password (Google, Microsoft)'
oauthbearer\t'OAuth2 bearer token in place of the password, the standard way (RFC 7628)'
external\t'The TLS client certificate (--client-cert) is the login; no password'"
complete -c smtpsend -n "__fish_smtpsend_using_subcommand logout" -l password-command -d 'A command whose first line of output is the password, e.g. \'pass show smtp\'' -r -f -a "(__fish_complete_command)"
complete -c smtpsend -n "__fish_smtpsend_using_subcommand logout" -l ehlo-name -d 'The name to give the server in EHLO (and HELO) [default: this host\'s fully qualified name, else its address as a literal such as [192.0.2.1]]' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand logout" -l source-address -d 'The local address to connect from, on a machine with several' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand logout" -l proxy -d 'Connect through this SOCKS5 proxy: socks5h://HOST[:PORT] (the proxy resolves the server\'s name, as Tor needs) or socks5://HOST[:PORT] [default port: 1080]' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand logout" -l tls-pin-only -d 'Trust the pinned key alone: no CA chain, host name or validity dates are checked'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand logout" -s 4 -l ipv4 -d 'Connect over IPv4 only [env: SMTPSEND_IP_FAMILY=4]'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand logout" -s 6 -l ipv6 -d 'Connect over IPv6 only [env: SMTPSEND_IP_FAMILY=6]'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand logout" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand check" -l rcpt -d 'Also try MAIL FROM and RCPT TO for this address (then RSET); repeatable' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand check" -s f -l from -d 'The sender for --rcpt; the account\'s From address without it [env: SMTPSEND_FROM]' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand check" -l config -d 'The configuration file [default: $XDG_CONFIG_HOME/smtpsend/config.toml]' -r -F
complete -c smtpsend -n "__fish_smtpsend_using_subcommand check" -l server -d 'The server: smtp://HOST[:PORT] (STARTTLS, 587), smtps://HOST[:PORT] (TLS, 465)' -r -f
complete -c smtpsend -n "__fish_smtpsend_using_subcommand check" -l host -d 'The server\'s host name, as an alternative to --server [env: SMTPSEND_HOST]' -r -f -a "(__fish_print_hostnames)"
complete -c smtpsend -n "__fish_smtpsend_using_subcommand check" -l port -d 'The server\'s port; the default follows --tls [env: SMTPSEND_PORT]' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand check" -l tls -d 'How the connection is encrypted [env: SMTPSEND_TLS] [default: starttls]' -r -f -a "starttls\t'Plain connection upgraded with STARTTLS, which the server must offer (port 587)'
implicit\t'TLS from the first byte (port 465)'
none\t'No encryption at all (port 25). Passwords are only sent this way to a loopback address'"
complete -c smtpsend -n "__fish_smtpsend_using_subcommand check" -l ca-file -d 'Extra trust anchors (PEM), e.g. a private CA. The system\'s roots stay trusted' -r -F
complete -c smtpsend -n "__fish_smtpsend_using_subcommand check" -l tls-pin -d 'The server\'s public key must have this pin (repeatable): sha256//BASE64' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand check" -l tls-min -d 'The lowest TLS version accepted: 1.2 or 1.3 [default: 1.2]' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand check" -l tls-server-name -d 'The name the certificate is verified for and sent in SNI [default: the host]' -r -f -a "(__fish_print_hostnames)"
complete -c smtpsend -n "__fish_smtpsend_using_subcommand check" -l client-cert -d 'A client certificate (PEM, any intermediates after it), for a server that asks for one' -r -F
complete -c smtpsend -n "__fish_smtpsend_using_subcommand check" -l client-key -d 'The client certificate\'s private key (PEM) [default: in the --client-cert file]' -r -F
complete -c smtpsend -n "__fish_smtpsend_using_subcommand check" -l timeout -d 'Seconds to wait for the connection and for each server reply [default: 60]' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand check" -l deadline -d 'Seconds the whole send may take, whatever the server does' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand check" -l user -d 'The login name. Without it, smtpsend does not authenticate' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand check" -l auth -d 'The SASL mechanism; `auto` picks the strongest the server offers [default: auto]' -r -f -a "auto\t'the strongest the server offers: SCRAM-SHA-256-PLUS, SCRAM-SHA-256, SCRAM-SHA-1-PLUS, SCRAM-SHA-1, PLAIN, LOGIN'
scram-sha-256-plus\t'SCRAM bound to the TLS connection: a man in the middle cannot relay it'
scram-sha-256\t'the password is never sent, and the server proves it knows it'
scram-sha-1-plus\t'SCRAM bound to the TLS connection: a man in the middle cannot relay it'
scram-sha-1\t'the password is never sent, and the server proves it knows it'
plain\t''
login\t''
xoauth2\t'OAuth2 bearer token in place of the password (Google, Microsoft)'
oauthbearer\t'OAuth2 bearer token in place of the password, the standard way (RFC 7628)'
external\t'The TLS client certificate (--client-cert) is the login; no password'"
complete -c smtpsend -n "__fish_smtpsend_using_subcommand check" -l password-command -d 'A command whose first line of output is the password, e.g. \'pass show smtp\'' -r -f -a "(__fish_complete_command)"
complete -c smtpsend -n "__fish_smtpsend_using_subcommand check" -l ehlo-name -d 'The name to give the server in EHLO (and HELO) [default: this host\'s fully qualified name, else its address as a literal such as [192.0.2.1]]' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand check" -l source-address -d 'The local address to connect from, on a machine with several' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand check" -l proxy -d 'Connect through this SOCKS5 proxy: socks5h://HOST[:PORT] (the proxy resolves the server\'s name, as Tor needs) or socks5://HOST[:PORT] [default port: 1080]' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand check" -s v -l verbose -d 'Print the SMTP dialogue on standard error, secrets replaced by <redacted>'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand check" -l json -d 'Print one JSON object on standard output'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand check" -l tls-pin-only -d 'Trust the pinned key alone: no CA chain, host name or validity dates are checked'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand check" -s 4 -l ipv4 -d 'Connect over IPv4 only [env: SMTPSEND_IP_FAMILY=4]'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand check" -s 6 -l ipv6 -d 'Connect over IPv6 only [env: SMTPSEND_IP_FAMILY=6]'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand config; and not __fish_seen_subcommand_from show import-msmtprc help" -s h -l help -d 'Print help'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand config; and not __fish_seen_subcommand_from show import-msmtprc help" -f -a "show" -d 'Print the effective settings of an account and where each value comes from'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand config; and not __fish_seen_subcommand_from show import-msmtprc help" -f -a "import-msmtprc" -d 'Convert an msmtp configuration file into smtpsend accounts, printed on standard output'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand config; and not __fish_seen_subcommand_from show import-msmtprc help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand config; and __fish_seen_subcommand_from show" -l account -d 'The account, as the main command takes it; an ACCOUNT argument wins over it' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand config; and __fish_seen_subcommand_from show" -l config -d 'The configuration file [default: $XDG_CONFIG_HOME/smtpsend/config.toml]' -r -F
complete -c smtpsend -n "__fish_smtpsend_using_subcommand config; and __fish_seen_subcommand_from show" -l server -d 'The server: smtp://HOST[:PORT] (STARTTLS, 587), smtps://HOST[:PORT] (TLS, 465)' -r -f
complete -c smtpsend -n "__fish_smtpsend_using_subcommand config; and __fish_seen_subcommand_from show" -l host -d 'The server\'s host name, as an alternative to --server [env: SMTPSEND_HOST]' -r -f -a "(__fish_print_hostnames)"
complete -c smtpsend -n "__fish_smtpsend_using_subcommand config; and __fish_seen_subcommand_from show" -l port -d 'The server\'s port; the default follows --tls [env: SMTPSEND_PORT]' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand config; and __fish_seen_subcommand_from show" -l tls -d 'How the connection is encrypted [env: SMTPSEND_TLS] [default: starttls]' -r -f -a "starttls\t'Plain connection upgraded with STARTTLS, which the server must offer (port 587)'
implicit\t'TLS from the first byte (port 465)'
none\t'No encryption at all (port 25). Passwords are only sent this way to a loopback address'"
complete -c smtpsend -n "__fish_smtpsend_using_subcommand config; and __fish_seen_subcommand_from show" -l ca-file -d 'Extra trust anchors (PEM), e.g. a private CA. The system\'s roots stay trusted' -r -F
complete -c smtpsend -n "__fish_smtpsend_using_subcommand config; and __fish_seen_subcommand_from show" -l tls-pin -d 'The server\'s public key must have this pin (repeatable): sha256//BASE64' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand config; and __fish_seen_subcommand_from show" -l tls-min -d 'The lowest TLS version accepted: 1.2 or 1.3 [default: 1.2]' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand config; and __fish_seen_subcommand_from show" -l tls-server-name -d 'The name the certificate is verified for and sent in SNI [default: the host]' -r -f -a "(__fish_print_hostnames)"
complete -c smtpsend -n "__fish_smtpsend_using_subcommand config; and __fish_seen_subcommand_from show" -l client-cert -d 'A client certificate (PEM, any intermediates after it), for a server that asks for one' -r -F
complete -c smtpsend -n "__fish_smtpsend_using_subcommand config; and __fish_seen_subcommand_from show" -l client-key -d 'The client certificate\'s private key (PEM) [default: in the --client-cert file]' -r -F
complete -c smtpsend -n "__fish_smtpsend_using_subcommand config; and __fish_seen_subcommand_from show" -l timeout -d 'Seconds to wait for the connection and for each server reply [default: 60]' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand config; and __fish_seen_subcommand_from show" -l deadline -d 'Seconds the whole send may take, whatever the server does' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand config; and __fish_seen_subcommand_from show" -l user -d 'The login name. Without it, smtpsend does not authenticate' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand config; and __fish_seen_subcommand_from show" -l auth -d 'The SASL mechanism; `auto` picks the strongest the server offers [default: auto]' -r -f -a "auto\t'the strongest the server offers: SCRAM-SHA-256-PLUS, SCRAM-SHA-256, SCRAM-SHA-1-PLUS, SCRAM-SHA-1, PLAIN, LOGIN'
scram-sha-256-plus\t'SCRAM bound to the TLS connection: a man in the middle cannot relay it'
scram-sha-256\t'the password is never sent, and the server proves it knows it'
scram-sha-1-plus\t'SCRAM bound to the TLS connection: a man in the middle cannot relay it'
scram-sha-1\t'the password is never sent, and the server proves it knows it'
plain\t''
login\t''
xoauth2\t'OAuth2 bearer token in place of the password (Google, Microsoft)'
oauthbearer\t'OAuth2 bearer token in place of the password, the standard way (RFC 7628)'
external\t'The TLS client certificate (--client-cert) is the login; no password'"
complete -c smtpsend -n "__fish_smtpsend_using_subcommand config; and __fish_seen_subcommand_from show" -l password-command -d 'A command whose first line of output is the password, e.g. \'pass show smtp\'' -r -f -a "(__fish_complete_command)"
complete -c smtpsend -n "__fish_smtpsend_using_subcommand config; and __fish_seen_subcommand_from show" -l ehlo-name -d 'The name to give the server in EHLO (and HELO) [default: this host\'s fully qualified name, else its address as a literal such as [192.0.2.1]]' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand config; and __fish_seen_subcommand_from show" -l source-address -d 'The local address to connect from, on a machine with several' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand config; and __fish_seen_subcommand_from show" -l proxy -d 'Connect through this SOCKS5 proxy: socks5h://HOST[:PORT] (the proxy resolves the server\'s name, as Tor needs) or socks5://HOST[:PORT] [default port: 1080]' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand config; and __fish_seen_subcommand_from show" -l tls-pin-only -d 'Trust the pinned key alone: no CA chain, host name or validity dates are checked'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand config; and __fish_seen_subcommand_from show" -s 4 -l ipv4 -d 'Connect over IPv4 only [env: SMTPSEND_IP_FAMILY=4]'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand config; and __fish_seen_subcommand_from show" -s 6 -l ipv6 -d 'Connect over IPv6 only [env: SMTPSEND_IP_FAMILY=6]'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand config; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand config; and __fish_seen_subcommand_from import-msmtprc" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "show" -d 'Print the effective settings of an account and where each value comes from'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "import-msmtprc" -d 'Convert an msmtp configuration file into smtpsend accounts, printed on standard output'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand install-mta" -l root -d 'Create the links below this directory instead of / (for packages and tests)' -r -f -a "(__fish_complete_directories)"
complete -c smtpsend -n "__fish_smtpsend_using_subcommand install-mta" -l dry-run -d 'Print the links that would be created, and create none'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand install-mta" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand batch" -l account -d 'An account from the configuration file' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand batch" -l config -d 'The configuration file [default: $XDG_CONFIG_HOME/smtpsend/config.toml]' -r -F
complete -c smtpsend -n "__fish_smtpsend_using_subcommand batch" -l server -d 'The server: smtp://HOST[:PORT] (STARTTLS, 587), smtps://HOST[:PORT] (TLS, 465)' -r -f
complete -c smtpsend -n "__fish_smtpsend_using_subcommand batch" -l host -d 'The server\'s host name, as an alternative to --server [env: SMTPSEND_HOST]' -r -f -a "(__fish_print_hostnames)"
complete -c smtpsend -n "__fish_smtpsend_using_subcommand batch" -l port -d 'The server\'s port; the default follows --tls [env: SMTPSEND_PORT]' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand batch" -l tls -d 'How the connection is encrypted [env: SMTPSEND_TLS] [default: starttls]' -r -f -a "starttls\t'Plain connection upgraded with STARTTLS, which the server must offer (port 587)'
implicit\t'TLS from the first byte (port 465)'
none\t'No encryption at all (port 25). Passwords are only sent this way to a loopback address'"
complete -c smtpsend -n "__fish_smtpsend_using_subcommand batch" -l ca-file -d 'Extra trust anchors (PEM), e.g. a private CA. The system\'s roots stay trusted' -r -F
complete -c smtpsend -n "__fish_smtpsend_using_subcommand batch" -l tls-pin -d 'The server\'s public key must have this pin (repeatable): sha256//BASE64' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand batch" -l tls-min -d 'The lowest TLS version accepted: 1.2 or 1.3 [default: 1.2]' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand batch" -l tls-server-name -d 'The name the certificate is verified for and sent in SNI [default: the host]' -r -f -a "(__fish_print_hostnames)"
complete -c smtpsend -n "__fish_smtpsend_using_subcommand batch" -l client-cert -d 'A client certificate (PEM, any intermediates after it), for a server that asks for one' -r -F
complete -c smtpsend -n "__fish_smtpsend_using_subcommand batch" -l client-key -d 'The client certificate\'s private key (PEM) [default: in the --client-cert file]' -r -F
complete -c smtpsend -n "__fish_smtpsend_using_subcommand batch" -l timeout -d 'Seconds to wait for the connection and for each server reply [default: 60]' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand batch" -l deadline -d 'Seconds the whole send may take, whatever the server does' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand batch" -l user -d 'The login name. Without it, smtpsend does not authenticate' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand batch" -l auth -d 'The SASL mechanism; `auto` picks the strongest the server offers [default: auto]' -r -f -a "auto\t'the strongest the server offers: SCRAM-SHA-256-PLUS, SCRAM-SHA-256, SCRAM-SHA-1-PLUS, SCRAM-SHA-1, PLAIN, LOGIN'
scram-sha-256-plus\t'SCRAM bound to the TLS connection: a man in the middle cannot relay it'
scram-sha-256\t'the password is never sent, and the server proves it knows it'
scram-sha-1-plus\t'SCRAM bound to the TLS connection: a man in the middle cannot relay it'
scram-sha-1\t'the password is never sent, and the server proves it knows it'
plain\t''
login\t''
xoauth2\t'OAuth2 bearer token in place of the password (Google, Microsoft)'
oauthbearer\t'OAuth2 bearer token in place of the password, the standard way (RFC 7628)'
external\t'The TLS client certificate (--client-cert) is the login; no password'"
complete -c smtpsend -n "__fish_smtpsend_using_subcommand batch" -l password-command -d 'A command whose first line of output is the password, e.g. \'pass show smtp\'' -r -f -a "(__fish_complete_command)"
complete -c smtpsend -n "__fish_smtpsend_using_subcommand batch" -l ehlo-name -d 'The name to give the server in EHLO (and HELO) [default: this host\'s fully qualified name, else its address as a literal such as [192.0.2.1]]' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand batch" -l source-address -d 'The local address to connect from, on a machine with several' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand batch" -l proxy -d 'Connect through this SOCKS5 proxy: socks5h://HOST[:PORT] (the proxy resolves the server\'s name, as Tor needs) or socks5://HOST[:PORT] [default port: 1080]' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand batch" -l json -d 'Print one JSON object on standard output'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand batch" -s v -l verbose -d 'Print the SMTP dialogue on standard error, secrets replaced by <redacted>'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand batch" -l tls-pin-only -d 'Trust the pinned key alone: no CA chain, host name or validity dates are checked'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand batch" -s 4 -l ipv4 -d 'Connect over IPv4 only [env: SMTPSEND_IP_FAMILY=4]'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand batch" -s 6 -l ipv6 -d 'Connect over IPv6 only [env: SMTPSEND_IP_FAMILY=6]'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand batch" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand queue; and not __fish_seen_subcommand_from list show flush retry drop help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand queue; and not __fish_seen_subcommand_from list show flush retry drop help" -f -a "list" -d 'List the queued messages and the dead letters'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand queue; and not __fish_seen_subcommand_from list show flush retry drop help" -f -a "show" -d 'Show one entry: envelope (Bcc recipients too), times, attempts, where its message is'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand queue; and not __fish_seen_subcommand_from list show flush retry drop help" -f -a "flush" -d 'Deliver what is due, one connection per server'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand queue; and not __fish_seen_subcommand_from list show flush retry drop help" -f -a "retry" -d 'Queue dead letters again, due now, for the next flush'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand queue; and not __fish_seen_subcommand_from list show flush retry drop help" -f -a "drop" -d 'Delete a queued message or a dead letter for good'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand queue; and not __fish_seen_subcommand_from list show flush retry drop help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand queue; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand queue; and __fish_seen_subcommand_from show" -l json -d 'Print the stored description as JSON, with the path of the message file'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand queue; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand queue; and __fish_seen_subcommand_from flush" -l account -d 'Only the messages queued for this account' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand queue; and __fish_seen_subcommand_from flush" -l now -d 'Try every message now, whatever its next attempt time'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand queue; and __fish_seen_subcommand_from flush" -s q -l quiet -d 'Print nothing on success, even on a terminal; what failed still goes to standard error'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand queue; and __fish_seen_subcommand_from flush" -s v -l verbose -d 'Say what was delivered and what waits, and print the SMTP dialogue on standard error, secrets replaced by <redacted>'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand queue; and __fish_seen_subcommand_from flush" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand queue; and __fish_seen_subcommand_from retry" -l all-dead -d 'Every dead letter'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand queue; and __fish_seen_subcommand_from retry" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand queue; and __fish_seen_subcommand_from drop" -s h -l help -d 'Print help'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the queued messages and the dead letters'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show one entry: envelope (Bcc recipients too), times, attempts, where its message is'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "flush" -d 'Deliver what is due, one connection per server'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "retry" -d 'Queue dead letters again, due now, for the next flush'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "drop" -d 'Delete a queued message or a dead letter for good'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand serve" -l listen -d 'Where to listen: ADDRESS:PORT (127.0.0.1:2525, [::1]:2525) or a unix socket\'s path' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand serve" -l account -d 'The account for mail that neither a local login nor its sender assigns to one' -r
complete -c smtpsend -n "__fish_smtpsend_using_subcommand serve" -l config -d 'The configuration file [default: $XDG_CONFIG_HOME/smtpsend/config.toml]' -r -F
complete -c smtpsend -n "__fish_smtpsend_using_subcommand serve" -l direct -d 'Relay each message within the session and answer with the upstream server\'s reply: no outbox, no retries (a temporary failure upstream is a 451 to the client)'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand serve" -l hash-password -d 'Read a password (from standard input, or asked for on the terminal) and print its hash for [serve.users.NAME] password_hash; listen to nothing'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand serve" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand help; and not __fish_seen_subcommand_from init login logout check config sendmail mail install-mta batch queue serve completions help" -f -a "init" -d 'Set up an account from an e-mail address: find its server, check it, store the secret'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand help; and not __fish_seen_subcommand_from init login logout check config sendmail mail install-mta batch queue serve completions help" -f -a "login" -d 'Store an account\'s password in the OS keyring, after checking it with the server'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand help; and not __fish_seen_subcommand_from init login logout check config sendmail mail install-mta batch queue serve completions help" -f -a "logout" -d 'Remove an account\'s password from the OS keyring (OAuth2: revoke the sign-in, then forget it)'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand help; and not __fish_seen_subcommand_from init login logout check config sendmail mail install-mta batch queue serve completions help" -f -a "check" -d 'Connect, show TLS, the certificate and the server\'s extensions, and try AUTH; send nothing'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand help; and not __fish_seen_subcommand_from init login logout check config sendmail mail install-mta batch queue serve completions help" -f -a "config" -d 'Show or import configuration'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand help; and not __fish_seen_subcommand_from init login logout check config sendmail mail install-mta batch queue serve completions help" -f -a "sendmail" -d 'Read a complete message on standard input and send it, as /usr/sbin/sendmail does'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand help; and not __fish_seen_subcommand_from init login logout check config sendmail mail install-mta batch queue serve completions help" -f -a "mail" -d 'Send the body on standard input as `mail -s SUBJECT ADDR...` does (bsd-mailx, mailutils)'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand help; and not __fish_seen_subcommand_from init login logout check config sendmail mail install-mta batch queue serve completions help" -f -a "install-mta" -d 'Make this binary the system\'s MTA: sendmail, mail and mailx as symbolic links to it'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand help; and not __fish_seen_subcommand_from init login logout check config sendmail mail install-mta batch queue serve completions help" -f -a "batch" -d 'Send every message file in a directory over one connection'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand help; and not __fish_seen_subcommand_from init login logout check config sendmail mail install-mta batch queue serve completions help" -f -a "queue" -d 'The outbox: messages kept after a temporary failure, and dead letters'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand help; and not __fish_seen_subcommand_from init login logout check config sendmail mail install-mta batch queue serve completions help" -f -a "serve" -d 'Run a local SMTP relay for programs that speak only SMTP, durable before it says yes'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand help; and not __fish_seen_subcommand_from init login logout check config sendmail mail install-mta batch queue serve completions help" -f -a "completions" -d 'Print a shell completion script to standard output'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand help; and not __fish_seen_subcommand_from init login logout check config sendmail mail install-mta batch queue serve completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "show" -d 'Print the effective settings of an account and where each value comes from'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "import-msmtprc" -d 'Convert an msmtp configuration file into smtpsend accounts, printed on standard output'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand help; and __fish_seen_subcommand_from queue" -f -a "list" -d 'List the queued messages and the dead letters'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand help; and __fish_seen_subcommand_from queue" -f -a "show" -d 'Show one entry: envelope (Bcc recipients too), times, attempts, where its message is'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand help; and __fish_seen_subcommand_from queue" -f -a "flush" -d 'Deliver what is due, one connection per server'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand help; and __fish_seen_subcommand_from queue" -f -a "retry" -d 'Queue dead letters again, due now, for the next flush'
complete -c smtpsend -n "__fish_smtpsend_using_subcommand help; and __fish_seen_subcommand_from queue" -f -a "drop" -d 'Delete a queued message or a dead letter for good'
