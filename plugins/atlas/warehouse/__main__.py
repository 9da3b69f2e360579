"""``python -m atlas.warehouse start|stop|dsn`` for the embedded warehouse."""

from __future__ import annotations

import sys

from atlas import settings
from atlas.warehouse import embedded
from atlas.warehouse.bootstrap import ensure_warehouse
from atlas.warehouse.connection import connect


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "start"
    data_dir = settings.embedded_warehouse_dir()
    if command == "stop":
        embedded.stop(data_dir)
        print(f"embedded warehouse stopped ({data_dir})")
        return 0
    dsn = embedded.ensure_running(data_dir)
    with connect(dsn) as conn:
        ensure_warehouse(conn)
    print(dsn)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
