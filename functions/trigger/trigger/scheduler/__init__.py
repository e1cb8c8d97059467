"""The run scheduler: every accepted upload in exactly one run, and the fewest runs that keep up.

Its state is one DynamoDB table (keys `pk`, `sk`; TTL attribute `expires_at`), shared by the
functions that call it:

- `pending.py`: the pending set. An object version is recorded once (a conditional write of its
  `object#...` record, in the same transaction as its `pending#<pipeline>` entry); a duplicate,
  redelivery or replay writes nothing. The entry leaves the set when a run takes it.
- `slots.py`: the slots. One item per pipeline counts its running runs; taking a slot is a
  conditional update (`running < MaxConcurrentExecutions`), never count-then-start. Each run has
  its own `run#<pipeline>` item (starting -> running -> ended) holding the entries it took.
- `dispatch.py`: when a slot is free, one run takes every pending object (up to MaxObjectsPerRun),
  in steps that are each idempotent, so a crash anywhere is completed by the next dispatch with the
  same ClientRequestToken.
- `sweep.py`: releases the slots of runs SageMaker reports as ended (a lost status-change event
  must not leak a slot), then dispatches.
"""
