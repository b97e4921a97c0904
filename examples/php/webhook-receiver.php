<?php
// A webhook receiver for imapferry: checks the Imapferry-Signature header against the endpoint's
// secret (from the environment, never from the request), refuses old timestamps (replays), and
// appends each verified event to a file, one JSON line each. Run it with your web server, or to try it:
//   IMAPFERRY_WEBHOOK_SECRET=whsec_… IMAPFERRY_WEBHOOK_LOG=events.jsonl php -S 127.0.0.1:8090 webhook-receiver.php
declare(strict_types=1);

$secret = getenv('IMAPFERRY_WEBHOOK_SECRET') ?: '';
$log = getenv('IMAPFERRY_WEBHOOK_LOG') ?: 'php://stderr';
// The raw body: the signature covers these exact bytes, not a re-encoded parse of them.
$body = file_get_contents('php://input');

if (!preg_match('/^t=(\d+),v1=([0-9a-f]{64})$/', $_SERVER['HTTP_IMAPFERRY_SIGNATURE'] ?? '', $sig)) {
    http_response_code(400);
    exit("missing or malformed Imapferry-Signature\n");
}
$expected = hash_hmac('sha256', $sig[1] . '.' . $body, $secret);
if ($secret === '' || !hash_equals($expected, $sig[2]) || abs(time() - (int) $sig[1]) > 300) {
    http_response_code(400);
    exit("signature does not match\n");
}

$event = json_decode($body, true, 512, JSON_THROW_ON_ERROR);
// A retry or a redelivery repeats an event: a real panel de-duplicates on $event['id'].
file_put_contents(
    $log,
    json_encode([
        'id' => $event['id'],
        'type' => $event['type'],
        'delivery' => $_SERVER['HTTP_IMAPFERRY_DELIVERY'] ?? null,
        'data' => $event['data'],
    ]) . "\n",
    FILE_APPEND | LOCK_EX,
);
http_response_code(204);
