"""`LIANZHENG_DEMO_WITNESS=1 make run`: a newcomer sees a checkpoint cosigned by a witness within
seconds, the trust root naming that witness, and the anchor held back until it cosigned."""

import json
import os
import time

from ledger.checkpoint import parse_note
from tests.support.serve import Server, request


def test_the_demo_witness_cosigns_the_first_checkpoint_within_seconds(tmp_path):
    env = {
        **os.environ,
        "LIANZHENG_DATA_DIR": str(tmp_path / "var"),
        "LIANZHENG_DEMO_WITNESS": "1",
        "LIANZHENG_DEMO_WITNESS_PORT": "0",  # the kernel picks; the demo reads it back
        "LIANZHENG_WITNESS_INTERVAL": "0.5",
    }
    with Server(env) as server:
        root = json.loads(request(f"{server.url}/api/v1/trust")[1])
        assert [w["name"] for w in root["witnesses"]] == ["demo.lianzheng.example/witness"]
        assert root["witness_quorum"] == 1
        server.open_case(server.add_user("officer-1", "officer"))
        deadline, names = time.monotonic() + 60, []
        while time.monotonic() < deadline and "demo.lianzheng.example/witness" not in names:
            note = request(f"{server.url}/api/v1/log/checkpoint")[1]
            names = [name for name, _ in parse_note(note)[2]]
            time.sleep(0.5)
        assert names[2:] == ["demo.lianzheng.example/witness"], note  # after Ed25519 and SM2
