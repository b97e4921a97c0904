<?php
/*
 * Imports a CSV of mailboxes as one imapferry batch, follows it to the end and saves its report.
 *
 *   IMAPFERRY_URL=https://migrate.example.net IMAPFERRY_TOKEN=imf_… \
 *     php migrate-batch.php mailboxes.csv --tag wave-1 --real --report report.csv
 *
 * The token comes from the environment, never from the command line (every user of the machine can
 * read a process's arguments). Exit codes: 0 every mailbox is done; 1 the batch ended with mailboxes
 * failed, incomplete or cancelled (see the report); 2 bad usage or an API error.
 */

declare(strict_types=1);

require __DIR__ . '/ImapferryClient.php';

function usage(string $problem): never
{
    fwrite(STDERR, "$problem\nUsage: php migrate-batch.php FILE.csv [--tag TAG] [--tenant TENANT] [--real] [--report OUT.csv]\n");
    exit(2);
}

$args = array_slice($argv, 1);
$csvPath = null;
$options = [];
$reportPath = 'report.csv';
while ($args !== []) {
    $arg = array_shift($args);
    match ($arg) {
        '--tag' => $options['tag'] = array_shift($args) ?? usage('--tag needs a value.'),
        '--tenant' => $options['tenant'] = array_shift($args) ?? usage('--tenant needs a value.'),
        '--real' => $options['dryRun'] = false,
        '--report' => $reportPath = array_shift($args) ?? usage('--report needs a file name.'),
        default => str_starts_with($arg, '--') ? usage("Unknown option $arg.") : $csvPath = $arg,
    };
}
$url = getenv('IMAPFERRY_URL') ?: usage('Set IMAPFERRY_URL to the imapferry server, e.g. https://migrate.example.net.');
$token = getenv('IMAPFERRY_TOKEN') ?: usage('Set IMAPFERRY_TOKEN to an API token (panel → Settings → API tokens).');
if ($csvPath === null) {
    usage('Name the CSV file to import.');
}
$csv = @file_get_contents($csvPath);
if ($csv === false) {
    usage("Cannot read $csvPath.");
}
$pollSeconds = (float) (getenv('IMAPFERRY_POLL_SECONDS') ?: 5);

$client = new ImapferryClient($url, $token);
try {
    $imported = $client->importBatch($csv, $options);
    $batchId = (int) $imported['batch']['id'];
    echo "Imported batch $batchId ({$imported['batch']['tag']}): {$imported['jobCount']} mailboxes.\n";
    $batch = $client->waitForBatch($batchId, $pollSeconds, function (array $batch): void {
        $parts = [];
        foreach ($batch['counts'] as $status => $count) {
            if ($count > 0) {
                $parts[] = "$count $status";
            }
        }
        echo 'Progress: ' . implode(', ', $parts) . "\n";
    });
    file_put_contents($reportPath, $client->batchReportCsv($batchId));
    $counts = $batch['counts'];
    $done = $counts['done'] ?? 0;
    $total = array_sum($counts);
    echo "Finished: $done of $total mailboxes done. Report saved to $reportPath.\n";
    exit($done === $total ? 0 : 1);
} catch (ImapferryError $e) {
    fwrite(STDERR, "imapferry refused ({$e->errorCode}): {$e->getMessage()}\n");
    foreach ($e->problems as $problem) {
        fwrite(STDERR, '  ' . implode('.', $problem['path']) . ": {$problem['message']}\n");
    }
    exit(2);
}
