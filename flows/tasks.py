"""Prefect tasks: the pipeline steps, unchanged, plus what orchestration adds (names, retries, caching).

No retries: every step's failures so far are bad input or failed checks, which a retry cannot fix.
No cross-run caching yet: each run recomputes (the cache key design is its own issue).
"""

from prefect import task
from prefect.cache_policies import NO_CACHE

from pipelines import steps

ingest = task(steps.ingest_step, name="ingest", cache_policy=NO_CACHE)
check_input = task(steps.check_input_step, name="check-input", cache_policy=NO_CACHE)
split = task(steps.split_step, name="split", cache_policy=NO_CACHE)
fit = task(steps.fit_step, name="fit", cache_policy=NO_CACHE)
sample = task(steps.sample_step, name="sample", cache_policy=NO_CACHE)
evaluate = task(steps.evaluate_step, name="evaluate", cache_policy=NO_CACHE)
publish = task(steps.publish_step, name="publish", cache_policy=NO_CACHE)
reject = task(steps.reject_step, name="reject", cache_policy=NO_CACHE)
