"""`make bench`, `make bench-scale`, `make bench-quick`: the before/after benchmark on its own stack.

    .venv/bin/python -m benchmarks.run bench [--quick]
    .venv/bin/python -m benchmarks.run scale [--quick]

Where things are: variables.py reads the BENCH_* variables; stack.py starts and stops the stack
(devstack's services) and seeds it; scenarios.py is make bench's measurements, scale.py make
bench-scale's; report.py writes the Markdown, the JSON and the figures in docs/benchmarks.md, charts.py
the PNGs. Results go to BENCH_OUTPUT_DIR (default .run/bench/), with locust's reports and the logs.

This process never imports Django, boto3 or requests: locust's gevent must patch the standard
library before they are imported, so locust runs as a subprocess, and anything that needs the models
runs through manage.py or `python -m benchmarks.seat_check`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from benchmarks import charts, cost_model, report
from benchmarks.cost_measurements import run_source
from benchmarks.scale import scale
from benchmarks.scenarios import bench
from benchmarks.variables import BenchVariables
from devstack.services import ServiceError


def main() -> int:
    parser = argparse.ArgumentParser(description="The before/after benchmark on its own stack.")
    parser.add_argument("kind", choices=["bench", "scale"])
    parser.add_argument(
        "--quick", action="store_true", help="Small sizes and short runs (a few minutes); docs are left alone."
    )
    arguments = parser.parse_args()
    variables = BenchVariables(quick=arguments.quick)
    output_dir = variables.output_dir()
    output_dir.mkdir(parents=True, exist_ok=True)
    docs_file = variables.docs_file()
    cost_docs_file = variables.cost_docs_file() if arguments.kind == "bench" else None
    if docs_file is not None:
        try:
            report.ensure_docs_file_has_markers(docs_file, arguments.kind)
            if cost_docs_file is not None:
                cost_model.ensure_deploy_doc_has_markers(cost_docs_file)
        except report.MarkerError as error:
            print(f"benchmark not started: {error} (BENCH_DOCS_FILE=off leaves the docs alone)", file=sys.stderr)
            return 1
    try:
        if arguments.kind == "bench":
            results = bench(variables)
            markdown = report.bench_markdown(results)
            charts.bench_chart(results, output_dir / "bench.png")
        else:
            results = scale(variables)
            markdown = report.scale_markdown(results)
            charts.scale_chart(results, output_dir / "scale.png")
        report.write_results(output_dir, results, markdown)
        print(
            f"\n{markdown}\nWritten to {output_dir} ({arguments.kind}.md, .json, .png; locust-*.html; logs/) "
            f"in {results['wall_seconds'] / 60:.1f} min.",
            flush=True,
        )
        if docs_file is not None:
            report.update_docs_file(docs_file, arguments.kind, report.docs_block(results, markdown))
            print(f"The figures in {docs_file} are updated.")
        if cost_docs_file is not None:
            print(cost_model.update_deploy_doc(cost_docs_file, results, source=run_source(output_dir / "bench.json")))
    except KeyboardInterrupt:
        print("interrupted; the stack has been stopped", file=sys.stderr)
        return 130
    except report.MarkerError as error:
        print(f"the figures are not in the docs: {error}; they are in {output_dir}", file=sys.stderr)
        return 1
    except (ServiceError, subprocess.CalledProcessError) as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
