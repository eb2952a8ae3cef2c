"""JSON $batch: up to 20 requests in one POST, and the inner answers Graph asks to send again.

Graph evaluates each inner request on its own: throttled ones come back with an inner 429 and a
`retry-after` in that inner answer's headers, and SDKs do not retry them (graph-wire-facts §5). They are
sent again, in a new batch, after the longest inner Retry-After; tenacity runs that loop with the same
policy as single requests, except that only rounds without progress count as attempts.
"""
from connector.graph.throttle import RETRY_AFTER_STATUSES, retry_after_seconds

BATCH_LIMIT = 20            # requests per JSON $batch (graph-wire-facts §5)


class _InnerRetry(Exception):
    """Some inner answers ask to be sent again; raised so tenacity decides whether, and when."""

    def __init__(self, pending, retry_after, stalled_rounds, throttled):
        super().__init__(f"{len(pending)} inner $batch requests to send again")
        self.pending = pending
        self.retry_after = retry_after        # the longest inner Retry-After, None when none gave one
        self.status = 429 if retry_after is not None else None   # None: back off
        self.stalled_rounds = stalled_rounds  # rounds in a row in which nothing got through
        self.throttled = throttled            # an inner 429 among them: the wait is a throttling wait


def batch_ids(requests_):
    ids = [str(request["id"]) for request in requests_]
    if len({i.lower() for i in ids}) != len(ids):
        raise ValueError("$batch request ids must be unique (case-insensitively)")
    return ids


class BatchSender:
    """Sends $batch chunks through a GraphTransport; `send(requests, url)` -> {id: answer} for every id."""

    def __init__(self, transport):
        self._transport = transport

    def send(self, requests_, url):
        batch_ids(requests_)
        answers = {}
        for start in range(0, len(requests_), BATCH_LIMIT):
            answers.update(self._chunk(requests_[start:start + BATCH_LIMIT], url))
        return answers

    def _chunk(self, chunk, url):
        answers, rounds = {}, {"pending": list(chunk), "stalled": 0}
        transport = self._transport
        retrying = transport.policy.retrying(
            retry=lambda failure: isinstance(failure, _InnerRetry), sleep=transport.sleep,
            before_sleep=lambda state: transport.note_wait(state, "POST", url,
                                                           inner_retried=len(state.outcome.exception().pending)))
        try:
            retrying(self._round, url, rounds, answers)
        except _InnerRetry:
            pass  # budget spent: the caller gets the throttled answers as they are
        return answers

    def _round(self, url, rounds, answers):
        pending = rounds["pending"]
        body = self._transport.request("POST", url, json_body={"requests": pending}).body
        responses = body.get("responses") if isinstance(body, dict) else None
        inner = {str(r.get("id")): r for r in responses or [] if isinstance(r, dict)}
        again = []
        for request in pending:
            answer = inner.get(str(request["id"]))
            if answer is None:
                answer = {"status": None, "headers": {}, "body": None}  # Graph left it out: ask again
            answer = {"status": answer.get("status"), "headers": answer.get("headers") or {},
                      "body": answer.get("body")}
            answers[str(request["id"])] = answer
            if answer["status"] in RETRY_AFTER_STATUSES or answer["status"] is None:
                again.append((request, answer))
        throttled = sum(1 for _, answer in again if answer["status"] == 429)
        self._transport.stats.throttled += throttled
        if not again:
            return
        # some inner requests got through: the bucket is draining, not stuck; count rounds without
        # progress only, or a 20-request batch against a tight bucket gives up early
        rounds["stalled"] = rounds["stalled"] + 1 if len(again) == len(pending) else 1
        rounds["pending"] = [request for request, _ in again]
        told = [retry_after_seconds(answer["headers"]) for _, answer in again
                if answer["status"] in RETRY_AFTER_STATUSES]
        told = [seconds for seconds in told if seconds is not None]
        raise _InnerRetry(rounds["pending"], max(told) if told else None, rounds["stalled"], bool(throttled))
