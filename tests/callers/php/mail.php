<?php
// PHP's own mail(), with sendmail_path as php.ini (or -d) sets it and the fifth argument, the
// extra sendmail parameters, passed on as given (`-fbounces@example.org`, glued).
//
//   php mail.php TO SUBJECT BODYFILE [HEADERS [PARAMS]]
//
// HEADERS are `Name: value` lines joined by `|` (mail() then joins them with CRLF, as PHP 8
// does, while the body keeps its LF endings). Exits 0 when mail() returned true, 1 when false.
[, $to, $subject, $bodyFile] = $argv;
$headers = ($argv[4] ?? '') === '' ? '' : implode("\r\n", explode('|', $argv[4]));
$params = $argv[5] ?? '';
$ok = mail($to, $subject, file_get_contents($bodyFile), $headers, $params);
echo $ok ? "mail() returned true\n" : "mail() returned false\n";
exit($ok ? 0 : 1);
