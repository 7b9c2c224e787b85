<?php
// PHPMailer (Debian's libphp-phpmailer) in its sendmail mode, isSendmail(): it runs
// `<sendmail_path> -oi -f<Sender> -t` and leaves the Bcc header in what it writes.
//
//   php phpmailer.php BODYFILE
require '/usr/share/php/libphp-phpmailer/autoload.php';

use PHPMailer\PHPMailer\PHPMailer;

$mail = new PHPMailer(true);
$mail->isSendmail();
$mail->CharSet = PHPMailer::CHARSET_UTF8;
$mail->setFrom('app@example.org', 'Example App');
$mail->addAddress('bob@example.net', 'Bob');
$mail->addBCC('dave@example.net');
$mail->Subject = 'PHPMailer über sendmail ✓';
$mail->Body = file_get_contents($argv[1]);
$mail->send();
echo "sent\n";
