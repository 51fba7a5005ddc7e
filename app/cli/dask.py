"""``ruimte dask local``: a Dask cluster on this machine for the chunked raster engine."""

from __future__ import annotations

from typing import Annotated

import typer

from app.cli.common import CliError, out

app = typer.Typer(
    help="Dask for the raster steps of scenario runs (RUIMTE_DASK_SCHEDULER, --scheduler).",
    no_args_is_help=True,
)


@app.command("local")
def local_cmd(
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 2,
    threads: Annotated[int, typer.Option(min=1, help="Threads per worker.")] = 1,
    memory_limit: Annotated[
        str, typer.Option(help="Memory limit per worker (Dask syntax, e.g. 3GiB; 0: none).")
    ] = "3GiB",
    host: Annotated[str, typer.Option(help="Address the scheduler listens on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Scheduler port (0: any).")] = 8786,
) -> None:
    """Start a LocalCluster and keep it running (Ctrl-C stops it); print its address.

    Point runs at it with ``RUIMTE_DASK_SCHEDULER=tcp://HOST:PORT`` or
    ``ruimte scenario run --scheduler tcp://HOST:PORT``.
    """
    import time

    from distributed import LocalCluster

    try:
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=threads,
            processes=True,
            memory_limit=memory_limit,
            host=host,
            scheduler_port=port,
            dashboard_address=None,
        )
    except OSError as exc:
        raise CliError(f"cannot start a Dask scheduler on {host}:{port}: {exc}") from None
    with cluster:
        out.print(
            f"Dask LocalCluster: {workers} workers × {threads} threads, {memory_limit} each, "
            f"at {cluster.scheduler_address}",
            highlight=False,
        )
        out.print(f"  export RUIMTE_DASK_SCHEDULER={cluster.scheduler_address}", highlight=False)
        out.file.flush()  # the address is what a script waits for
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            out.print("stopped", highlight=False)
