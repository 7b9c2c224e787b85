<?php
// Symfony Mailer (Debian's php-symfony-mailer) with its sendmail transport, from a DSN:
// `sendmail://default` talks SMTP to `/usr/sbin/sendmail -bs`; with ?command=...%20-t it runs
// `sendmail -i -f'<sender>' -- '<rcpt>'...` instead (recipients on the command line).
//
//   php symfony.php DSN SUBJECT BODYFILE
require '/usr/share/php/Symfony/Component/Mailer/autoload.php';

use Symfony\Component\Mailer\Mailer;
use Symfony\Component\Mailer\Transport;
use Symfony\Component\Mime\Email;

[, $dsn, $subject, $bodyFile] = $argv;
$email = (new Email())
    ->from('Example App <app@example.org>')
    ->to('bob@example.net')
    ->cc('carol@example.net')
    ->bcc('dave@example.net')
    ->subject($subject)
    ->text(file_get_contents($bodyFile));
(new Mailer(Transport::fromDsn($dsn)))->send($email);
echo "sent\n";
