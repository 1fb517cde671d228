"""The faults-under-load summary table in pytest's terminal summary, so it shows without `-s`
(it is also printed as the run goes and written to `summary.txt` beside the services' logs)."""

from __future__ import annotations

from .harness import SUMMARIES


def pytest_terminal_summary(terminalreporter) -> None:
    for table in SUMMARIES:
        terminalreporter.section("faults under load")
        for line in table.strip("\n").splitlines():
            terminalreporter.write_line(line)
