<?php
/*
 * A small imapferry REST client for PHP 8 with the curl extension, for hosting panels (WHMCS, cPanel,
 * Plesk, ISPConfig …). It speaks to /api/v1 (described by /api/v1/openapi.json) with an API token.
 * Copy it into your panel; it has no dependencies beyond ext-curl and ext-json.
 */

declare(strict_types=1);

/** An error answered by imapferry: its code (NOT_FOUND, FORBIDDEN …), sentence and HTTP status. */
final class ImapferryError extends RuntimeException
{
    /** @param list<array{path: list<string|int>, message: string}> $problems the fields at fault */
    public function __construct(
        public readonly string $errorCode,
        string $message,
        public readonly int $httpStatus,
        public readonly array $problems = [],
    ) {
        parent::__construct($message, $httpStatus);
    }
}

final class ImapferryClient
{
    private string $baseUrl;

    /**
     * @param string $baseUrl e.g. "https://migrate.example.net" (without /api/v1)
     * @param string $token   an API token (panel → Settings → API tokens); keep it out of argv and logs
     */
    public function __construct(string $baseUrl, private readonly string $token)
    {
        $this->baseUrl = rtrim($baseUrl, '/') . '/api/v1';
    }

    /** Imports a CSV (the batch template's columns) as one batch; returns {batch, jobCount, …}. */
    public function importBatch(string $csv, array $options = []): array
    {
        return $this->json('POST', '/batches', ['csv' => $csv] + $options);
    }

    /** The batch with the number of its jobs per status. */
    public function getBatch(int $id): array
    {
        return $this->json('GET', "/batches/$id");
    }

    /** Whether no job of the batch is queued, running or waiting any more. */
    public static function isFinished(array $batch): bool
    {
        $counts = $batch['counts'] ?? [];
        return ($counts['queued'] ?? 0) === 0 && ($counts['running'] ?? 0) === 0 && ($counts['waiting'] ?? 0) === 0;
    }

    /**
     * Polls the batch until it is finished; calls $onProgress with each new state.
     * @return array the finished batch
     */
    public function waitForBatch(int $id, float $pollSeconds = 5.0, ?callable $onProgress = null): array
    {
        $last = null;
        for (;;) {
            $batch = $this->getBatch($id);
            $state = json_encode($batch['counts'] ?? []);
            if ($onProgress !== null && $state !== $last) {
                $onProgress($batch);
            }
            $last = $state;
            if (self::isFinished($batch)) {
                return $batch;
            }
            usleep((int) ($pollSeconds * 1_000_000));
        }
    }

    /** The batch report, one row per mailbox, as CSV text. */
    public function batchReportCsv(int $id): string
    {
        return $this->request('GET', "/batches/$id/report.csv", null, 'text/csv');
    }

    /** One JSON call: the decoded body, or an ImapferryError with imapferry's sentence. */
    public function json(string $method, string $path, ?array $body = null): array
    {
        $text = $this->request($method, $path, $body, 'application/json');
        $decoded = json_decode($text, true, 512, JSON_THROW_ON_ERROR);
        return is_array($decoded) ? $decoded : [];
    }

    private function request(string $method, string $path, ?array $body, string $accept): string
    {
        $curl = curl_init($this->baseUrl . $path);
        $headers = ["Authorization: Bearer {$this->token}", "Accept: $accept"];
        if ($body !== null) {
            $headers[] = 'Content-Type: application/json';
            curl_setopt($curl, CURLOPT_POSTFIELDS, json_encode($body, JSON_THROW_ON_ERROR));
        }
        curl_setopt_array($curl, [
            CURLOPT_CUSTOMREQUEST => $method,
            CURLOPT_HTTPHEADER => $headers,
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_CONNECTTIMEOUT => 10,
            CURLOPT_TIMEOUT => 300,
        ]);
        $text = curl_exec($curl);
        $status = (int) curl_getinfo($curl, CURLINFO_RESPONSE_CODE);
        $failure = curl_error($curl);
        curl_close($curl);
        if ($text === false) {
            throw new ImapferryError('UNREACHABLE', "Could not reach imapferry at {$this->baseUrl}: $failure", 0);
        }
        if ($status >= 400) {
            $error = json_decode((string) $text, true)['error'] ?? [];
            throw new ImapferryError(
                (string) ($error['code'] ?? 'HTTP_' . $status),
                (string) ($error['message'] ?? "imapferry answered HTTP $status."),
                $status,
                $error['problems'] ?? [],
            );
        }
        return (string) $text;
    }
}
