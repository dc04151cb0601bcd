"""Mixed traffic for `bench/load.py`: officers recording case steps and uploading photos, monitors
fetching proofs and receipts, citizens opening their case. Run by load.py as `locust --headless -f
bench/locustfile.py`.

Every write the service acknowledges (2xx) is appended to the file LIANZHENG_LOAD_ACKS names, with
the leaf index and hash it was given, so that load.py can show afterwards that none of them was
lost."""

from __future__ import annotations

import base64
import json
import os
import random
import time

from locust import HttpUser, between, task

CONFIG = json.loads(open(os.environ["LIANZHENG_LOAD_CONFIG"]).read())
# Open for the whole run.
ACKS = open(os.environ["LIANZHENG_LOAD_ACKS"], "a", encoding="utf-8")  # noqa: SIM115
PHOTOS = [open(path, "rb").read() for path in CONFIG["photos"]]  # noqa: SIM115
# A fined case's path through its steps (README: case steps and their payloads).
NEXT = {
    "REPORTED": ("FILED", None),
    "FILED": ("INVESTIGATING", None),
    "INVESTIGATING": ("NOTIFIED", {"proposed_amount_fen": 20000}),
    "NOTIFIED": ("DECIDED", {"outcome": "fine", "amount_fen": 20000}),
    "DECIDED": ("PAID", {"amount_fen": 20000}),
    "PAID": ("CLOSED", None),
}


def acknowledge(kind: str, answer: dict) -> None:
    ACKS.write(
        json.dumps(
            {
                "kind": kind,
                "case_no": answer["case_no"],
                "index": answer["index"],
                "leaf_hash": answer["leaf_hash"],
                "evidence_id": answer.get("evidence", {}).get("evidence_id"),
            }
        )
        + "\n"
    )
    ACKS.flush()


class Officer(HttpUser):
    """Opens cases, steps them to the end, uploads a photo now and then."""

    weight = 3
    wait_time = between(0.01, 0.1)

    def on_start(self) -> None:
        self.client.headers["Authorization"] = f"Bearer {random.choice(CONFIG['officer_tokens'])}"
        self.open: dict[str, str] = {}

    @task(2)
    def open_case(self) -> None:
        party = {
            "name": "测试",
            "id_type": "resident_id",
            "id_number": random.choice(CONFIG["party_numbers"]),
        }
        with self.client.post(
            "/api/v1/cases",
            name="POST /cases",
            catch_response=True,
            json={
                "source": "patrol",
                "violation_type": "occupy-road",
                "district": "xuhui",
                "party": party,
            },
        ) as r:
            if r.status_code == 201:
                answer = r.json()
                acknowledge("case", answer)
                self.open[answer["case_no"]] = "REPORTED"

    @task(5)
    def step(self) -> None:
        if not self.open:
            return self.open_case()
        case_no = random.choice(list(self.open))
        target, payload = NEXT[self.open[case_no]]
        body = {"to": target, **({"payload": payload} if payload else {})}
        with self.client.post(
            f"/api/v1/cases/{case_no}/transitions",
            name="POST /cases/<no>/transitions",
            json=body,
            catch_response=True,
        ) as r:
            if r.status_code == 201 or r.status_code == 200:
                acknowledge("step", r.json())
                self._advance(case_no, target)
            elif r.status_code == 409:  # a step whose answer a killed worker never sent: catch up
                r.success()
                self._resync(case_no)

    def _advance(self, case_no: str, state: str) -> None:
        if state == "CLOSED":
            del self.open[case_no]
        else:
            self.open[case_no] = state

    def _resync(self, case_no: str) -> None:
        r = self.client.get(f"/api/v1/cases/{case_no}", name="GET /cases/<no>")
        if r.status_code == 200:
            self._advance(case_no, r.json()["state"])

    @task(1)
    def upload_photo(self) -> None:
        if not self.open:
            return
        # The tus Upload-Metadata form (README), written out here: locust puts bench/ first on
        # sys.path,
        # where bench/ledger.py would shadow the project's ledger package.
        pairs = {
            "case_no": random.choice(list(self.open)),
            "captured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        meta = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in pairs.items())
        with self.client.post(
            "/api/v1/evidence",
            name="POST /evidence",
            data=random.choice(PHOTOS),
            headers={"Upload-Metadata": meta},
            catch_response=True,
        ) as r:
            if r.status_code == 201:
                acknowledge("evidence", r.json())


class Monitor(HttpUser):
    """Anyone checking the log: checkpoints, proofs, anchors, receipts (public, no login)."""

    weight = 2
    wait_time = between(0.01, 0.1)
    size = 1

    @task(1)
    def checkpoint(self) -> None:
        r = self.client.get("/api/v1/log/checkpoint", name="GET /log/checkpoint")
        if r.status_code == 200:
            self.size = int(r.text.split("\n")[1])

    @task(4)
    def inclusion(self) -> None:
        self.client.get(
            f"/api/v1/log/proof/inclusion?index={random.randrange(self.size)}&size={self.size}",
            name="GET /log/proof/inclusion",
        )

    @task(1)
    def consistency(self) -> None:
        self.client.get(
            f"/api/v1/log/proof/consistency?from={random.randint(1, self.size)}&to={self.size}",
            name="GET /log/proof/consistency",
        )

    @task(1)
    def receipt(self) -> None:
        with self.client.get(
            f"/api/v1/log/receipt?index={random.randrange(self.size)}",
            name="GET /log/receipt",
            catch_response=True,
        ) as r:
            if r.status_code == 409:  # not anchored yet: the answer the API documents
                r.success()

    @task(1)
    def anchors(self) -> None:
        self.client.get("/api/v1/log/anchors", name="GET /log/anchors")


class Citizen(HttpUser):
    """A party opening their case with the number and code on the notice."""

    weight = 1
    wait_time = between(0.05, 0.2)

    @task
    def check(self) -> None:
        case_no, code = random.choice(CONFIG["codes"])
        with self.client.post(
            "/check",
            name="POST /check",
            data={"case_no": case_no, "code": code},
            allow_redirects=False,
            catch_response=True,
        ) as r:
            if r.status_code != 303:
                r.failure(f"the right code did not open the case: {r.status_code}")
                return
        self.client.get("/check/case", name="GET /check/case")
