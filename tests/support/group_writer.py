"""A child process for the group-commit crash test: THREADS threads open cases as fast as they
can through CaseService (so their writes meet in groups) and print each acknowledged answer as one
JSON line, flushed, the moment it comes back. Killed with SIGKILL by the test at some point.

    python -m tests.support.group_writer DATA_DIR DATABASE_URL
"""

import json
import sys
import threading

from ledger.users import by_username
from verify_portal.app.services import build
from verify_portal.app.settings import Settings

THREADS = 16
REPORT = {"source": "camera", "violation_type": "stall", "district": "xuhui"}


def main() -> None:
    data_dir, database_url = sys.argv[1:3]
    services = build(
        Settings.from_env({"LIANZHENG_DATA_DIR": data_dir, "DATABASE_URL": database_url})
    )
    with services.sessions() as session:
        actor = by_username(session, "officer")
    printing = threading.Lock()

    def writer() -> None:
        while True:
            answer = services.cases.create(actor, REPORT)
            line = json.dumps({"index": answer["index"], "leaf_hash": answer["leaf_hash"]})
            with printing:
                sys.stdout.write(line + "\n")
                sys.stdout.flush()

    threads = [threading.Thread(target=writer, daemon=True) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


if __name__ == "__main__":
    main()
