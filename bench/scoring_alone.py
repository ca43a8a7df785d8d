"""How fast one service applies events on its own: `process()` over batches, no broker, no HTTP.

    python bench/scoring_alone.py --events 5000 --batch 500

Uses an embedded PostgreSQL in a temporary directory. Prints scoring's events/s for synthetic
`new_business` events (the same generator as bench/pipeline.py), and the service process's own CPU
time per event (PostgreSQL's excluded): on a busy machine the wall clock varies with the load, the
CPU time much less.
"""

import time
from functools import partial

from bench.harness import apply_in_batches, run_alone
from bench.pipeline import synthetic_events
from cli.postgres import EmbeddedPostgres
from services.scoring import consumers
from services.scoring.config import ScoringSettings
from services.scoring.main import MIGRATIONS_DIR
from services.scoring.repositories import ScoringUnitOfWork
from shared.db import Transactions, create_engine
from shared.events.inbound import POLICY_EVENT_ADAPTER
from shared.group_ruleset import load_group_ruleset
from shared.migrations import upgrade_to_head
from shared.processing import Incoming
from shared.ruleset import load_ruleset
from shared.topics import POLICY_EVENTS


async def main(events: int, batch_size: int, postgres: EmbeddedPostgres) -> None:
    await postgres.create_databases(["bench_scoring"])
    settings = ScoringSettings(database_url=postgres.database_url("bench_scoring"))
    ruleset = load_ruleset(settings.ruleset_path)
    transactions = Transactions(
        engine=create_engine(settings=settings), make_unit_of_work=partial(
            ScoringUnitOfWork, ruleset=ruleset, group_ruleset=load_group_ruleset(settings.group_ruleset_path)
        )
    )
    await upgrade_to_head(engine=transactions.engine, migrations_dir=MIGRATIONS_DIR)
    handlers = consumers.routes()[0].handlers
    items = [
        Incoming(POLICY_EVENTS, 0, offset, key, value, POLICY_EVENT_ADAPTER.validate_json(value, strict=True))
        for offset, (key, value) in enumerate(synthetic_events(events, run="S"))
    ]
    started, cpu_started = time.perf_counter(), time.process_time()
    await apply_in_batches(transactions=transactions, items=items, handlers=handlers, batch_size=batch_size)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    await transactions.engine.dispose()
    print(
        f"scoring_alone_events_per_s={events / elapsed:.0f} ms_per_event={elapsed / events * 1000:.3f} "
        f"service_cpu_ms_per_event={cpu / events * 1000:.3f}"
    )


if __name__ == "__main__":
    run_alone(main, description=__doc__, events=5000)
