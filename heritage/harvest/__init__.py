"""Union-catalogue harvesting: OAI-PMH client (:mod:`.client`), record parsing
(:mod:`.records`), storing runs (:mod:`.harvester`), and the worker's job and schedule
(:mod:`.jobs`, registered on import: ``heritage.worker.JOB_MODULES`` names this package)."""

from heritage.harvest import jobs  # noqa: F401  (registers THREAD_JOBS["harvest"] and its Schedule)
